/**
 * A least-recently-used cache bounded by the total size of its values. Loads are deduplicated: callers
 * asking for a key that is being loaded share the pending promise, and failed loads are not cached.
 */
export class LruCache<V> {
  private readonly entries = new Map<string, { value: V; bytes: number }>();
  private readonly loading = new Map<string, Promise<V>>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get sizeBytes(): number {
    return this.bytes;
  }

  async getOrLoad(key: string, load: () => Promise<V>, sizeOf: (value: V) => number): Promise<V> {
    const hit = this.entries.get(key);
    if (hit) {
      // Re-insert to mark as most recently used (Map keeps insertion order).
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.value;
    }
    let pending = this.loading.get(key);
    if (!pending) {
      pending = load().then(
        (value) => {
          this.loading.delete(key);
          this.insert(key, value, sizeOf(value));
          return value;
        },
        (err: unknown) => {
          this.loading.delete(key);
          throw err;
        },
      );
      this.loading.set(key, pending);
    }
    return pending;
  }

  /** Removes every cached entry whose key starts with `prefix` (pending loads still complete). */
  deleteWithPrefix(prefix: string): void {
    for (const [key, entry] of this.entries) {
      if (!key.startsWith(prefix)) continue;
      this.entries.delete(key);
      this.bytes -= entry.bytes;
    }
  }

  private insert(key: string, value: V, bytes: number): void {
    this.entries.set(key, { value, bytes });
    this.bytes += bytes;
    for (const [oldKey, entry] of this.entries) {
      if (this.bytes <= this.maxBytes || oldKey === key) break;
      this.entries.delete(oldKey);
      this.bytes -= entry.bytes;
    }
  }
}
