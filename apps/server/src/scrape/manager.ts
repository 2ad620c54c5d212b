import { createHash } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { PushSeries } from '@emberscope/ingest';
import { decodeProfile, encodeProfile, PprofError } from '@emberscope/pprof';
import type { Logger } from 'pino';
import { type ProfileTarget, readScrapeConfigFile, type ScrapeJobConfig } from './config.js';
import { CumulativeDelta } from './delta.js';
import { TargetDiscovery, type TargetGroup } from './discovery.js';
import { httpGet, requestOptions } from './http.js';

/** Stores one scraped profile through the ingest pipeline (Push semantics) for a tenant. */
export type ScrapeSink = (tenant: string, series: PushSeries[], bytes: number) => Promise<void>;

export interface ScrapeManagerOptions {
  /** Largest profile body accepted from a target. */
  maxBodyBytes: number;
  /** Largest decompressed profile. */
  maxProfileBytes: number;
  /**
   * The server's config file: its `scrape_configs` are re-read when it changes (watched, and checked
   * every `configCheckIntervalMs`), and applied without restart when valid.
   */
  configFile?: string;
  configCheckIntervalMs?: number;
}

export type Health = 'up' | 'down' | 'unknown';

export interface ProfileHealth {
  name: string;
  /** The series `__name__`. */
  metric: string;
  url: string;
  health: Health;
  lastScrape: string | null;
  lastScrapeDurationMs: number | null;
  lastError: string;
  nextScrape: string | null;
  scrapes: number;
  failures: number;
  /** Ticks skipped because the previous scrape of this profile was still running. */
  skippedTicks: number;
}

export interface TargetHealth {
  job: string;
  tenant: string;
  url: string;
  instance: string;
  /** The labels every series of this target gets (besides `__name__`). */
  labels: Record<string, string>;
  /** Labels as discovered, with `__address__` and, for file_sd, `__meta_filepath`. */
  discoveredLabels: Record<string, string>;
  health: Health;
  lastError: string;
  lastScrape: string | null;
  profiles: ProfileHealth[];
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

function errorMessage(err: unknown, timeoutMs: number, url: URL): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.name === 'AbortError' || e?.code === 'ABORT_ERR')
    return `scrape of ${url.pathname} timed out after ${timeoutMs / 1000}s`;
  if (err instanceof PprofError) return `invalid pprof from ${url.pathname}: ${err.message}`;
  if (e?.code === 'ECONNREFUSED') return `connection refused (${url.host})`;
  if (e?.code === 'ECONNRESET') return `connection reset by ${url.host}`;
  const ssl = /SSL routines:[^:]*:([^:]+):/.exec(e?.message ?? '');
  if (ssl) return `TLS handshake with ${url.host} failed: ${ssl[1]}`;
  if (e?.code && /CERT|SELF_SIGNED|ALTNAME|UNABLE_TO/.test(e.code))
    return `TLS certificate of ${url.host} not accepted: ${e.message}`;
  return e?.message ?? String(err);
}

class ProfileLoop {
  lastScrapeMs: number | undefined;
  lastDurationMs: number | undefined;
  lastError = '';
  nextScrapeMs: number | undefined;
  scrapes = 0;
  failures = 0;
  skippedTicks = 0;
  private readonly delta: CumulativeDelta | undefined;
  /** When the scrape holding the current delta baseline started. */
  private baselineMs: number | undefined;
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  done: Promise<void> = Promise.resolve();

  constructor(
    readonly target: Target,
    readonly profile: ProfileTarget,
    private readonly manager: ScrapeManager,
  ) {
    this.delta = profile.cumulative ? new CumulativeDelta() : undefined;
  }

  get job(): ScrapeJobConfig {
    return this.target.job;
  }

  /** Seconds a timed profile is collected over: interval − 1 s, at least 1 s. */
  get seconds(): number {
    return Math.max(1, Math.floor(this.job.intervalMs / 1000) - 1);
  }

  get timeoutMs(): number {
    return this.job.timeoutMs + (this.profile.timed ? this.seconds * 1000 : 0);
  }

  url(): URL {
    const url = new URL(this.profile.path, this.target.url);
    if (this.profile.timed) url.searchParams.set('seconds', String(this.seconds));
    return url;
  }

  health(): Health {
    if (this.scrapes === 0) return 'unknown';
    return this.lastError ? 'down' : 'up';
  }

  start(offsetMs: number): void {
    const interval = this.job.intervalMs;
    const now = Date.now();
    let next = now - (now % interval) + offsetMs;
    if (next < now) next += interval;
    this.nextScrapeMs = next;
    this.done = this.run();
  }

  stop(): void {
    this.abort.abort();
    clearTimeout(this.timer);
    this.wake?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, Math.max(0, ms));
    });
  }

  private async run(): Promise<void> {
    const interval = this.job.intervalMs;
    while (!this.abort.signal.aborted) {
      await this.sleep(this.nextScrapeMs! - Date.now());
      if (this.abort.signal.aborted) return;
      await this.scrapeOnce();
      // The loop never overlaps itself: ticks that passed while this scrape ran are skipped.
      let next = this.nextScrapeMs! + interval;
      const now = Date.now();
      while (next <= now) {
        next += interval;
        this.skippedTicks++;
      }
      this.nextScrapeMs = next;
    }
  }

  async scrapeOnce(): Promise<void> {
    const started = Date.now();
    const url = this.url();
    const timeoutMs = this.timeoutMs;
    // A timer of our own rather than AbortSignal.any([.., AbortSignal.timeout()]): Node 20 may garbage
    // collect a timeout signal held only by the combined one, and then a hanging target hangs the loop
    // forever (nodejs/node#57736).
    const scrape = new AbortController();
    const timer = setTimeout(() => scrape.abort(), timeoutMs);
    const stop = () => scrape.abort();
    this.abort.signal.addEventListener('abort', stop, { once: true });
    const signal = scrape.signal;
    let error = '';
    try {
      const { headers, tls } = await requestOptions(this.job);
      const body = await httpGet(url, { headers, tls, signal, maxBytes: this.manager.options.maxBodyBytes });
      if (body.length === 0) throw new Error(`empty response from ${url.pathname}`);
      const profile = decodeProfile(body, { maxDecompressedBytes: this.manager.options.maxProfileBytes });
      let raw: Uint8Array = body;
      if (this.delta) {
        const delta = this.delta.next(profile);
        const previous = this.baselineMs;
        this.baselineMs = started;
        if (delta) {
          // The delta covers the time since the scrape that set the baseline.
          if (previous !== undefined) delta.durationNanos = BigInt(started - previous) * 1_000_000n;
          raw = encodeProfile(delta, { gzip: true });
        } else raw = new Uint8Array(0); // first scrape: baseline only
      }
      if (raw.length > 0 && !this.abort.signal.aborted) {
        const labels = [
          { name: '__name__', value: this.profile.metric },
          // Already a delta (by duration, by construction, or computed here): never diffed again.
          { name: '__delta__', value: 'false' },
          ...Object.entries(this.target.labels).map(([name, value]) => ({ name, value })),
        ];
        await this.manager.sink(
          this.job.tenantId,
          [{ labels, samples: [{ rawProfile: raw, id: '' }] }],
          body.length,
        );
      }
    } catch (err) {
      if (this.abort.signal.aborted) return;
      error = errorMessage(err, timeoutMs, url);
    } finally {
      clearTimeout(timer);
      this.abort.signal.removeEventListener('abort', stop);
    }
    if (this.abort.signal.aborted) return;
    const previousError = this.scrapes === 0 ? undefined : this.lastError;
    this.scrapes++;
    this.lastScrapeMs = started;
    this.lastDurationMs = Date.now() - started;
    this.lastError = error;
    if (error) this.failures++;
    // Log changes of state only: a target down for hours must not log every interval.
    const fields = { job: this.job.jobName, instance: this.target.instance, profile: this.profile.name };
    if (error && error !== previousError) this.manager.log.warn({ ...fields, error }, 'scrape failed');
    else if (!error && previousError) this.manager.log.info(fields, 'scrape recovered');
  }
}

class Target {
  readonly url: string;
  readonly instance: string;
  readonly loops: ProfileLoop[];

  constructor(
    readonly job: ScrapeJobConfig,
    readonly address: string,
    readonly key: string,
    readonly labels: Record<string, string>,
    readonly discoveredLabels: Record<string, string>,
    manager: ScrapeManager,
  ) {
    this.url = `${job.scheme}://${address}`;
    this.instance = labels.instance;
    this.loops = job.profiles.map((p) => new ProfileLoop(this, p, manager));
  }

  start(): void {
    const offset = scrapeOffset(this.job.jobName, this.key, this.job.intervalMs);
    for (const loop of this.loops) loop.start(offset);
  }

  async stop(): Promise<void> {
    for (const loop of this.loops) loop.stop();
    await Promise.all(this.loops.map((l) => l.done));
  }

  health(): TargetHealth {
    const profiles: ProfileHealth[] = this.loops.map((l) => ({
      name: l.profile.name,
      metric: l.profile.metric,
      url: l.url().toString(),
      health: l.health(),
      lastScrape: iso(l.lastScrapeMs),
      lastScrapeDurationMs: l.lastDurationMs ?? null,
      lastError: l.lastError,
      nextScrape: iso(l.nextScrapeMs),
      scrapes: l.scrapes,
      failures: l.failures,
      skippedTicks: l.skippedTicks,
    }));
    const failing = profiles.find((p) => p.health === 'down');
    const health: Health = failing ? 'down' : profiles.some((p) => p.health === 'up') ? 'up' : 'unknown';
    const last = Math.max(...this.loops.map((l) => l.lastScrapeMs ?? 0));
    return {
      job: this.job.jobName,
      tenant: this.job.tenantId,
      url: this.url,
      instance: this.instance,
      labels: { ...this.labels },
      discoveredLabels: { ...this.discoveredLabels },
      health,
      lastError: failing ? `${failing.name}: ${failing.lastError}` : '',
      lastScrape: last > 0 ? iso(last) : null,
      profiles,
    };
  }
}

/**
 * Where in each interval a target is scraped: a stable hash of the job and target, so targets are spread
 * over the interval instead of all being scraped at once, and a target keeps its phase across restarts.
 */
export function scrapeOffset(jobName: string, targetKey: string, intervalMs: number): number {
  const hash = createHash('sha256').update(`${jobName}\u0000${targetKey}`).digest();
  return hash.readUInt32BE(0) % intervalMs;
}

/** The labels of a discovered target: `job`, `instance` (host:port), `service_name`, and its own labels. */
export function targetLabels(job: ScrapeJobConfig, address: string, groupLabels: Record<string, string>) {
  const labels: Record<string, string> = { job: job.jobName, instance: address };
  for (const [name, value] of Object.entries(groupLabels)) if (!name.startsWith('__')) labels[name] = value;
  labels.service_name ||= job.jobName;
  return labels;
}

/**
 * Runs pull mode: for each job, its targets (static and file-discovered) and, per target and profile
 * type, a loop scraping at the job interval. Loops are independent: each has its own timeout, so a
 * hanging or dead target only affects its own loops.
 */
export class ScrapeManager {
  private jobs: { config: ScrapeJobConfig; discovery: TargetDiscovery; targets: Map<string, Target> }[] = [];
  private stopped = false;
  /** Reloads run one at a time. */
  private reloading: Promise<void> = Promise.resolve();
  private configText: string | undefined;
  private configWatcher: FSWatcher | undefined;
  private configTimer: NodeJS.Timeout | undefined;
  private configDebounce: NodeJS.Timeout | undefined;

  constructor(
    private readonly initialJobs: readonly ScrapeJobConfig[],
    readonly sink: ScrapeSink,
    readonly log: Logger,
    readonly options: ScrapeManagerOptions,
  ) {}

  async start(): Promise<void> {
    const file = this.options.configFile;
    if (file) {
      try {
        this.configText = readScrapeConfigFile(file).text;
      } catch {
        // Validated at startup already; a file changed since is picked up by the next check.
      }
      const check = () => {
        clearTimeout(this.configDebounce);
        this.configDebounce = setTimeout(() => void this.reloadConfigFile(), 100);
        this.configDebounce.unref();
      };
      try {
        this.configWatcher = watch(dirname(file), { persistent: false }, (_event, name) => {
          if (name === null || name === basename(file)) check();
        });
        this.configWatcher.on('error', () => {});
      } catch (err) {
        this.log.warn({ err, file }, 'cannot watch the config file; checking it periodically');
      }
      this.configTimer = setInterval(check, this.options.configCheckIntervalMs ?? 30_000);
      this.configTimer.unref();
    }
    await this.reload(this.initialJobs);
    if (this.jobs.length > 0)
      this.log.info(
        { jobs: this.jobs.map((j) => j.config.jobName), targets: this.list().length },
        'scraping started',
      );
  }

  /**
   * Applies a new set of jobs without restart: jobs whose configuration is unchanged keep running (with
   * their delta baselines and schedule), changed jobs are restarted, removed jobs stopped, new jobs started.
   */
  reload(configs: readonly ScrapeJobConfig[]): Promise<void> {
    this.reloading = this.reloading.then(async () => {
      if (this.stopped) return;
      const previous = new Map(this.jobs.map((j) => [j.config.jobName, j]));
      const next: typeof this.jobs = [];
      const added: typeof this.jobs = [];
      const stopping: Promise<void>[] = [];
      for (const config of configs) {
        const old = previous.get(config.jobName);
        if (old && JSON.stringify(old.config) === JSON.stringify(config)) {
          previous.delete(config.jobName);
          next.push(old);
          continue;
        }
        if (old) {
          previous.delete(config.jobName);
          stopping.push(this.stopJob(old));
        }
        const job = {
          config,
          targets: new Map<string, Target>(),
          discovery: undefined as unknown as TargetDiscovery,
        };
        job.discovery = new TargetDiscovery(
          config.staticConfigs,
          config.fileSdConfigs,
          (groups) => this.sync(job, groups),
          this.log,
        );
        next.push(job);
        added.push(job);
      }
      for (const old of previous.values()) stopping.push(this.stopJob(old));
      this.jobs = next;
      await Promise.all(stopping);
      for (const job of added) {
        if (this.stopped) return;
        await job.discovery.start();
        this.sync(job, job.discovery.groups());
      }
    });
    return this.reloading;
  }

  /** Re-reads `scrape_configs` from the config file; an invalid file keeps the current jobs. */
  async reloadConfigFile(): Promise<void> {
    const file = this.options.configFile;
    if (!file || this.stopped) return;
    let loaded: ReturnType<typeof readScrapeConfigFile>;
    try {
      loaded = readScrapeConfigFile(file);
    } catch (err) {
      this.log.error({ file, error: (err as Error).message }, 'config reload failed; scrape jobs unchanged');
      return;
    }
    if (loaded.text === this.configText) return;
    this.configText = loaded.text;
    await this.reload(loaded.jobs);
    this.log.info({ file, jobs: loaded.jobs.map((j) => j.jobName) }, 'scrape_configs reloaded');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.configWatcher?.close();
    clearInterval(this.configTimer);
    clearTimeout(this.configDebounce);
    await this.reloading;
    const jobs = this.jobs;
    this.jobs = [];
    await Promise.all(jobs.map((j) => this.stopJob(j)));
  }

  private async stopJob(job: ScrapeManager['jobs'][number]): Promise<void> {
    job.discovery.stop();
    const targets = [...job.targets.values()];
    job.targets.clear();
    await Promise.all(targets.map((t) => t.stop()));
  }

  /** Health of every target, jobs in config order, targets by URL. */
  list(): TargetHealth[] {
    const out: TargetHealth[] = [];
    for (const job of this.jobs) {
      const targets = [...job.targets.values()].map((t) => t.health());
      targets.sort(
        (a, b) =>
          a.url.localeCompare(b.url) || JSON.stringify(a.labels).localeCompare(JSON.stringify(b.labels)),
      );
      out.push(...targets);
    }
    return out;
  }

  private sync(
    state: { config: ScrapeJobConfig; targets: Map<string, Target> },
    groups: TargetGroup[],
  ): void {
    const { config: job, targets: current } = state;
    if (this.stopped || !this.jobs.includes(state as ScrapeManager['jobs'][number])) return;
    const wanted = new Map<
      string,
      { address: string; labels: Record<string, string>; discovered: Record<string, string> }
    >();
    for (const group of groups) {
      for (const address of group.targets) {
        const labels = targetLabels(job, address, group.labels);
        const discovered: Record<string, string> = { __address__: address, ...group.labels };
        if (!group.source.startsWith('static_configs')) discovered.__meta_filepath = group.source;
        const key = `${address}\u0000${JSON.stringify(Object.entries(labels).sort())}`;
        if (!wanted.has(key)) wanted.set(key, { address, labels, discovered });
      }
    }
    for (const [key, target] of current)
      if (!wanted.has(key)) {
        current.delete(key);
        void target.stop();
        this.log.info({ job: job.jobName, instance: target.instance }, 'target removed');
      }
    for (const [key, w] of wanted)
      if (!current.has(key)) {
        const target = new Target(job, w.address, key, w.labels, w.discovered, this);
        current.set(key, target);
        target.start();
        this.log.info({ job: job.jobName, instance: target.instance }, 'target added');
      }
  }
}
