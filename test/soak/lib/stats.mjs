// Small statistics helpers and a binary min-heap for the scheduler.

export function quantile(values, q) {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export function median(values) {
  return quantile(values, 0.5);
}

/** Least-squares slope of y over x. */
export function slope(xs, ys) {
  const n = xs.length;
  if (n < 2) return Number.NaN;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += xs[i];
    sy += ys[i];
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? Number.NaN : num / den;
}

/** Min-heap of {due} entries. */
export class MinHeap {
  constructor() {
    this.items = [];
  }
  get size() {
    return this.items.length;
  }
  peek() {
    return this.items[0];
  }
  push(item) {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p].due <= a[i].due) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }
  pop() {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l].due < a[m].due) m = l;
        if (r < a.length && a[r].due < a[m].due) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
}

export const mib = (bytes) => bytes / 2 ** 20;

/** "90s", "3m", "1h", "500ms"; a bare number is in `bareUnit`. Returns ms. */
export function parseDuration(text, bareUnit = 's') {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(String(text));
  if (!m) throw new Error(`not a duration: ${text} (e.g. 90s, 3m)`);
  const unit = m[2] ?? bareUnit;
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit];
}

/** "4g", "512m", "100k", bytes otherwise. */
export function parseBytes(text) {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b?)?\s*$/i.exec(String(text));
  if (!m) throw new Error(`not a size: ${text} (e.g. 4g, 512m)`);
  const unit = (m[2] ?? '').toLowerCase()[0];
  return Math.round(Number(m[1]) * ({ k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[unit] ?? 1));
}

/** Largest / smallest value without spreading (arrays of hundreds of thousands overflow the stack). */
export function maxOf(values) {
  let m = Number.NaN;
  for (const v of values) if (Number.isFinite(v) && !(v <= m)) m = v;
  return m;
}

export function minOf(values) {
  let m = Number.NaN;
  for (const v of values) if (Number.isFinite(v) && !(v >= m)) m = v;
  return m;
}
