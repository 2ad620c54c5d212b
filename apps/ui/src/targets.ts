/**
 * The Targets page's data, without DOM: the `GET /api/v1/targets` answer (pull mode), grouped by job and
 * sorted, with relative times ("12 s ago", "in 3 s") and scrape durations formatted for display.
 */

export type Health = 'up' | 'down' | 'unknown';

/** One profile type of a target, as the server reports it. */
export interface ProfileHealth {
  name: string;
  metric: string;
  url: string;
  health: Health;
  lastScrape: string | null;
  lastScrapeDurationMs: number | null;
  lastError: string;
  nextScrape: string | null;
  scrapes: number;
  failures: number;
  skippedTicks: number;
}

export interface TargetHealth {
  job: string;
  tenant: string;
  url: string;
  instance: string;
  labels: Record<string, string>;
  discoveredLabels: Record<string, string>;
  health: Health;
  lastError: string;
  lastScrape: string | null;
  profiles: ProfileHealth[];
}

export interface HealthCounts {
  up: number;
  down: number;
  unknown: number;
}

export interface JobGroup {
  job: string;
  /** The tenants the job's targets store into (one, unless the same name appears twice). */
  tenants: string[];
  targets: TargetHealth[];
  counts: HealthCounts;
}

const HEALTH: readonly Health[] = ['up', 'down', 'unknown'];

const str = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : fallback);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const time = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const health = (v: unknown): Health => (HEALTH.includes(v as Health) ? (v as Health) : 'unknown');

function stringRecord(v: unknown): Record<string, string> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return {};
  const out: Record<string, string> = {};
  for (const [k, value] of Object.entries(v)) if (typeof value === 'string') out[k] = value;
  return out;
}

/**
 * Reads the targets API answer (`{status, data: {activeTargets}}`), tolerating missing fields so a newer or
 * older server never breaks the page. Throws if the answer is not a targets list at all.
 */
export function parseTargets(body: unknown): TargetHealth[] {
  const data = (body as { data?: { activeTargets?: unknown } } | null)?.data;
  const list = data?.activeTargets;
  if (!Array.isArray(list)) throw new Error('unexpected answer from /api/v1/targets (no data.activeTargets)');
  return list.map((raw): TargetHealth => {
    const t = (raw ?? {}) as Record<string, unknown>;
    const profiles = Array.isArray(t.profiles) ? t.profiles : [];
    return {
      job: str(t.job),
      tenant: str(t.tenant),
      url: str(t.url),
      instance: str(t.instance),
      labels: stringRecord(t.labels),
      discoveredLabels: stringRecord(t.discoveredLabels),
      health: health(t.health),
      lastError: str(t.lastError),
      lastScrape: time(t.lastScrape),
      profiles: profiles.map((rp): ProfileHealth => {
        const p = (rp ?? {}) as Record<string, unknown>;
        return {
          name: str(p.name),
          metric: str(p.metric),
          url: str(p.url),
          health: health(p.health),
          lastScrape: time(p.lastScrape),
          lastScrapeDurationMs: typeof p.lastScrapeDurationMs === 'number' ? p.lastScrapeDurationMs : null,
          lastError: str(p.lastError),
          nextScrape: time(p.nextScrape),
          scrapes: num(p.scrapes),
          failures: num(p.failures),
          skippedTicks: num(p.skippedTicks),
        };
      }),
    };
  });
}

/** Natural order: `host:9` before `host:10`. */
const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

export function countHealth(targets: readonly { health: Health }[]): HealthCounts {
  const counts: HealthCounts = { up: 0, down: 0, unknown: 0 };
  for (const t of targets) counts[t.health]++;
  return counts;
}

/**
 * Targets grouped by job: jobs by name, targets by instance then URL then labels (natural order), so rows
 * keep their place across refreshes whatever their health.
 */
export function groupByJob(targets: readonly TargetHealth[]): JobGroup[] {
  const byJob = new Map<string, TargetHealth[]>();
  for (const t of targets) {
    const list = byJob.get(t.job) ?? [];
    list.push(t);
    byJob.set(t.job, list);
  }
  const labelKey = (t: TargetHealth) =>
    Object.entries(t.labels)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
  return [...byJob.entries()]
    .sort(([a], [b]) => collator.compare(a, b))
    .map(([job, list]) => {
      const sorted = list
        .slice()
        .sort(
          (a, b) =>
            collator.compare(a.instance, b.instance) ||
            collator.compare(a.url, b.url) ||
            collator.compare(labelKey(a), labelKey(b)),
        );
      return {
        job,
        tenants: [...new Set(sorted.map((t) => t.tenant))].sort(),
        targets: sorted,
        counts: countHealth(sorted),
      };
    });
}

/** Keeps the targets matching `filter`: `unhealthy` is down or unknown. */
export function filterTargets(
  targets: readonly TargetHealth[],
  filter: 'all' | 'unhealthy' | Health,
): TargetHealth[] {
  if (filter === 'all') return targets.slice();
  if (filter === 'unhealthy') return targets.filter((t) => t.health !== 'up');
  return targets.filter((t) => t.health === filter);
}

/** The labels worth showing next to a target: all but `job` and `instance` (shown already), by name. */
export function displayLabels(t: Pick<TargetHealth, 'labels'>): Array<[string, string]> {
  return Object.entries(t.labels)
    .filter(([k]) => k !== 'job' && k !== 'instance')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function span(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h`;
  return `${Math.floor(hours / 24)} d`;
}

/**
 * A time relative to `nowMs`: "just now", "12 s ago", "5 min ago", "3 h ago", "2 d ago", or in the future
 * "in 3 s" ("now" within a second); "never" for null and "—" for a date that cannot be read.
 */
export function formatRelative(at: string | number | null | undefined, nowMs: number): string {
  if (at === null || at === undefined || at === '') return 'never';
  const ms = typeof at === 'number' ? at : Date.parse(at);
  if (!Number.isFinite(ms)) return '—';
  const delta = nowMs - ms;
  const seconds = Math.floor(Math.abs(delta) / 1000);
  if (delta >= 0) return seconds < 1 ? 'just now' : `${span(seconds)} ago`;
  return seconds < 1 ? 'now' : `in ${span(seconds)}`;
}

/** A scrape duration: "850 ms", "1.25 s", "12.4 s", "2 min 5 s"; "—" when the target was never scraped. */
export function formatDurationMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 10) return `${trim(s.toFixed(2))} s`;
  if (s < 60) return `${trim(s.toFixed(1))} s`;
  const total = Math.round(s);
  const rest = total % 60;
  return rest === 0 ? `${Math.floor(total / 60)} min` : `${Math.floor(total / 60)} min ${rest} s`;
}

const trim = (fixed: string) => (fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed);

/** The page's one-line summary: "3 targets in 2 jobs · 2 up · 1 down". */
export function summaryLine(targets: readonly TargetHealth[]): string {
  const jobs = new Set(targets.map((t) => t.job)).size;
  const c = countHealth(targets);
  const parts = [
    `${targets.length} target${targets.length === 1 ? '' : 's'} in ${jobs} job${jobs === 1 ? '' : 's'}`,
    `${c.up} up`,
  ];
  if (c.down > 0) parts.push(`${c.down} down`);
  if (c.unknown > 0) parts.push(`${c.unknown} unknown`);
  return parts.join(' · ');
}

/** The YAML shown on the empty state (as in docs/pull-mode.md). */
export const SCRAPE_CONFIG_EXAMPLE = `# emberscope.yaml — start with: emberscope server --config emberscope.yaml
scrape_configs:
  - job_name: checkout          # the job label, and service_name unless a target sets it
    scrape_interval: 15s        # CPU is collected with ?seconds=14
    static_configs:
      - targets: ["10.0.0.12:6060", "10.0.0.13:6060"]   # host:port serving net/http/pprof
        labels:
          env: production`;
