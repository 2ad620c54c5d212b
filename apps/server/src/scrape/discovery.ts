import { type FSWatcher, watch } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { parse as parseYaml } from 'yaml';
import { type FileSdConfig, parseLabels, type StaticConfig, validateTarget } from './config.js';

/** A group of targets sharing labels, as in Prometheus' file_sd format. */
export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
  /** Where the group came from, for errors and the `__meta_filepath` label. */
  source: string;
}

function globRegExp(pattern: string): RegExp {
  let re = '';
  for (const ch of pattern) {
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** The files a pattern (globs allowed in the last path element) matches now, sorted. */
async function expand(pattern: string): Promise<string[]> {
  const name = basename(pattern);
  if (!/[*?]/.test(name)) return [pattern];
  const dir = dirname(pattern);
  const re = globRegExp(name);
  try {
    return (await readdir(dir))
      .filter((f) => re.test(f))
      .sort()
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
}

/** Parses a file_sd file: a JSON or YAML list of `{targets: [host:port…], labels: {…}}`. */
export function parseTargetFile(text: string, file: string): TargetGroup[] {
  const fail = (m: string): never => {
    throw new Error(`${file}: ${m}`);
  };
  let parsed: unknown;
  try {
    parsed = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    return fail(`cannot parse: ${(err as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return [];
  if (!Array.isArray(parsed)) return fail('expected a list of target groups');
  return parsed.map((g: unknown, i) => {
    if (g === null || typeof g !== 'object' || Array.isArray(g)) return fail(`[${i}]: expected a mapping`);
    const group = g as Record<string, unknown>;
    for (const k of Object.keys(group))
      if (k !== 'targets' && k !== 'labels') fail(`[${i}]: unknown key "${k}"`);
    const targets = Array.isArray(group.targets)
      ? group.targets.map((t, j) => validateTarget(t, `[${i}].targets[${j}]`, fail))
      : fail(`[${i}].targets: expected a list`);
    return { targets, labels: parseLabels(group.labels, `[${i}].labels`, fail), source: file };
  });
}

/**
 * Provides the target groups of one job: its static_configs, plus its file_sd_configs files, re-read
 * when a watched directory changes and every refresh_interval. A file that cannot be read or parsed
 * keeps its previous targets (the error is logged), as in Prometheus.
 */
export class TargetDiscovery {
  private readonly fileGroups = new Map<string, TargetGroup[]>();
  private readonly watchers: FSWatcher[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private debounce: NodeJS.Timeout | undefined;
  private stopped = false;
  private refreshing: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly statics: readonly StaticConfig[],
    private readonly fileSd: readonly FileSdConfig[],
    private readonly onChange: (groups: TargetGroup[]) => void,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.refresh();
    const dirs = new Set<string>();
    for (const sd of this.fileSd) {
      for (const f of sd.files) dirs.add(dirname(f));
      const timer = setInterval(() => void this.refresh(), sd.refreshIntervalMs);
      timer.unref();
      this.timers.push(timer);
    }
    for (const dir of dirs) {
      try {
        const w = watch(dir, { persistent: false }, () => this.scheduleRefresh());
        w.on('error', (err) => this.log.warn({ err, dir }, 'file_sd: watching the directory failed'));
        this.watchers.push(w);
      } catch (err) {
        // The directory may not exist yet: the periodic refresh still picks the files up later.
        this.log.warn({ err, dir }, 'file_sd: cannot watch the directory; relying on refresh_interval');
      }
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.debounce);
    for (const t of this.timers) clearInterval(t);
    for (const w of this.watchers) w.close();
  }

  groups(): TargetGroup[] {
    const out: TargetGroup[] = this.statics.map((s, i) => ({ ...s, source: `static_configs[${i}]` }));
    for (const groups of this.fileGroups.values()) out.push(...groups);
    return out;
  }

  private scheduleRefresh(): void {
    if (this.stopped) return;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.refresh(), 100);
    this.debounce.unref();
  }

  /** Re-reads every file; refreshes never run concurrently (a request during one runs after it). */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.again = false;
        await this.readFiles();
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async readFiles(): Promise<void> {
    const seen = new Set<string>();
    let changed = false;
    for (const sd of this.fileSd) {
      for (const pattern of sd.files) {
        for (const file of await expand(pattern)) {
          seen.add(file);
          let groups: TargetGroup[];
          try {
            groups = parseTargetFile(await readFile(file, 'utf8'), file);
          } catch (err) {
            const e = err as NodeJS.ErrnoException;
            if (e.code === 'ENOENT') {
              seen.delete(file);
              continue;
            }
            this.log.error({ file, error: e.message }, 'file_sd: keeping the previous targets of a bad file');
            continue;
          }
          const before = this.fileGroups.get(file);
          if (JSON.stringify(before) !== JSON.stringify(groups)) changed = true;
          this.fileGroups.set(file, groups);
        }
      }
    }
    for (const file of [...this.fileGroups.keys()])
      if (!seen.has(file)) {
        this.fileGroups.delete(file);
        changed = true;
      }
    if (changed && !this.stopped) this.onChange(this.groups());
  }
}
