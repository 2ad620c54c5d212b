import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

/**
 * The `scrape_configs` section of the server's YAML file: Prometheus-style jobs whose targets expose
 * Go's `net/http/pprof` (or anything serving pprof over HTTP), with profile selection as in Grafana
 * Alloy's `pyroscope.scrape`. Every error names the offending key, e.g. `scrape_configs[0].scrape_interval`.
 */

/** How one profile is collected from a target. */
export interface ProfileTarget {
  /** The block name in `pprof_config` (`memory`, `process_cpu`, a custom name…). */
  name: string;
  /** Series `__name__` (godeltaprof_memory → memory, and so on). */
  metric: string;
  path: string;
  /**
   * Alloy's `delta`: the profile is collected over a duration (`?seconds=interval−1`) and is a delta by
   * construction (process_cpu, fgprof, custom profiles with `delta: true`).
   */
  timed: boolean;
  /**
   * The endpoint returns counters accumulated since the process started (allocs, mutex, block, custom
   * profiles with `cumulative: true`): the server stores differences between consecutive scrapes.
   */
  cumulative: boolean;
}

export interface TlsConfig {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  insecureSkipVerify: boolean;
  serverName?: string;
}

export interface StaticConfig {
  targets: string[];
  labels: Record<string, string>;
}

export interface FileSdConfig {
  files: string[];
  refreshIntervalMs: number;
}

export interface ScrapeJobConfig {
  jobName: string;
  tenantId: string;
  intervalMs: number;
  timeoutMs: number;
  scheme: 'http' | 'https';
  basicAuth?: { username: string; password?: string; passwordFile?: string };
  authorization?: { type: string; credentials?: string; credentialsFile?: string };
  tlsConfig: TlsConfig;
  staticConfigs: StaticConfig[];
  fileSdConfigs: FileSdConfig[];
  profiles: ProfileTarget[];
}

export class ScrapeConfigError extends Error {
  override name = 'ScrapeConfigError';
}

/** Alloy's built-in profile blocks. */
const BUILTIN: Record<string, Omit<ProfileTarget, 'name'> & { enabled: boolean }> = {
  process_cpu: {
    metric: 'process_cpu',
    path: '/debug/pprof/profile',
    timed: true,
    cumulative: false,
    enabled: true,
  },
  memory: { metric: 'memory', path: '/debug/pprof/allocs', timed: false, cumulative: true, enabled: true },
  goroutine: {
    metric: 'goroutine',
    path: '/debug/pprof/goroutine',
    timed: false,
    cumulative: false,
    enabled: true,
  },
  mutex: { metric: 'mutex', path: '/debug/pprof/mutex', timed: false, cumulative: true, enabled: true },
  block: { metric: 'block', path: '/debug/pprof/block', timed: false, cumulative: true, enabled: true },
  fgprof: { metric: 'fgprof', path: '/debug/fgprof', timed: true, cumulative: false, enabled: false },
  godeltaprof_memory: {
    metric: 'memory',
    path: '/debug/pprof/delta_heap',
    timed: false,
    cumulative: false,
    enabled: false,
  },
  godeltaprof_mutex: {
    metric: 'mutex',
    path: '/debug/pprof/delta_mutex',
    timed: false,
    cumulative: false,
    enabled: false,
  },
  godeltaprof_block: {
    metric: 'block',
    path: '/debug/pprof/delta_block',
    timed: false,
    cumulative: false,
    enabled: false,
  },
};

export const BUILTIN_PROFILE_NAMES = Object.keys(BUILTIN);

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

type Obj = Record<string, unknown>;

class Reader {
  constructor(readonly where: string) {}

  fail(message: string): never {
    throw new ScrapeConfigError(`${this.where}: ${message}`);
  }

  object(value: unknown, key: string): Obj {
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      this.fail(`${key}: expected a mapping`);
    return value as Obj;
  }

  keys(obj: Obj, path: string, allowed: readonly string[]): void {
    for (const k of Object.keys(obj))
      if (!allowed.includes(k))
        this.fail(`unknown key "${path ? `${path}.` : ''}${k}" (known: ${allowed.join(', ')})`);
  }
}

function duration(value: unknown, key: string, fail: (m: string) => never): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(String(value));
  if (typeof value === 'number' || !m)
    return fail(`${key}: expected a duration such as 15s or 1m, got ${JSON.stringify(value)}`);
  const ms = Math.round(Number(m[1]) * DURATION_UNITS[m[2]]);
  if (ms <= 0) return fail(`${key}: must be positive`);
  return ms;
}

function str(value: unknown, key: string, fail: (m: string) => never): string {
  if (typeof value !== 'string' || value === '') return fail(`${key}: expected a non-empty string`);
  return value;
}

function bool(value: unknown, key: string, fail: (m: string) => never): boolean {
  if (typeof value !== 'boolean') return fail(`${key}: expected true or false`);
  return value;
}

function list(value: unknown, key: string, fail: (m: string) => never): unknown[] {
  if (!Array.isArray(value)) return fail(`${key}: expected a list`);
  return value;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_.]*$/;

export function parseLabels(value: unknown, key: string, fail: (m: string) => never): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    return fail(`${key}: expected a mapping of label names to values`);
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(value as Obj)) {
    if (!LABEL_NAME.test(name)) fail(`${key}: invalid label name ${JSON.stringify(name)}`);
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
      fail(`${key}.${name}: expected a string`);
    out[name] = String(v);
  }
  return out;
}

/** `host:port`, as Prometheus targets are written (no scheme, no path). */
export function validateTarget(target: unknown, key: string, fail: (m: string) => never): string {
  if (typeof target !== 'string' || !/^(\[[0-9a-fA-F:.]+\]|[^\s/:[\]]+)(:\d{1,5})?$/.test(target))
    return fail(`${key}: expected host:port, got ${JSON.stringify(target)}`);
  return target;
}

/**
 * Validates `scrape_configs` from the YAML file. Relative file paths (file_sd files, password and
 * credential files, TLS files) are resolved against `baseDir`, the directory of the config file.
 */
export function parseScrapeConfigs(raw: unknown, source: string, baseDir: string): ScrapeJobConfig[] {
  if (raw === undefined || raw === null) return [];
  const top = new Reader(source);
  const jobsRaw = list(raw, 'scrape_configs', (m) => top.fail(m));
  const jobs: ScrapeJobConfig[] = [];
  const names = new Set<string>();
  const path = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  jobsRaw.forEach((jobRaw, i) => {
    const r = new Reader(`${source}: scrape_configs[${i}]`);
    const fail = (m: string) => r.fail(m);
    const job = r.object(jobRaw, 'job');
    r.keys(job, '', [
      'job_name',
      'tenant_id',
      'scrape_interval',
      'scrape_timeout',
      'scheme',
      'basic_auth',
      'authorization',
      'tls_config',
      'static_configs',
      'file_sd_configs',
      'profiling_config',
    ]);
    const jobName = str(job.job_name, 'job_name', fail);
    if (names.has(jobName)) fail(`job_name: duplicate job name ${JSON.stringify(jobName)}`);
    names.add(jobName);
    const tenantId = job.tenant_id === undefined ? 'anonymous' : str(job.tenant_id, 'tenant_id', fail);
    const intervalMs =
      job.scrape_interval === undefined ? 15_000 : duration(job.scrape_interval, 'scrape_interval', fail);
    let timeoutMs: number;
    if (job.scrape_timeout === undefined) timeoutMs = Math.min(10_000, intervalMs);
    else {
      timeoutMs = duration(job.scrape_timeout, 'scrape_timeout', fail);
      if (timeoutMs > intervalMs)
        fail(
          `scrape_timeout (${job.scrape_timeout}) must not be greater than scrape_interval (${job.scrape_interval ?? '15s'})`,
        );
    }
    const scheme = job.scheme ?? 'http';
    if (scheme !== 'http' && scheme !== 'https')
      fail(`scheme: expected http or https, got ${JSON.stringify(scheme)}`);

    let basicAuth: ScrapeJobConfig['basicAuth'];
    if (job.basic_auth !== undefined) {
      const b = r.object(job.basic_auth, 'basic_auth');
      r.keys(b, 'basic_auth', ['username', 'password', 'password_file']);
      const username = str(b.username, 'basic_auth.username', fail);
      if (b.password !== undefined && b.password_file !== undefined)
        fail('basic_auth: at most one of password and password_file may be set');
      basicAuth = {
        username,
        password: b.password === undefined ? undefined : String(b.password),
        passwordFile:
          b.password_file === undefined
            ? undefined
            : path(str(b.password_file, 'basic_auth.password_file', fail)),
      };
    }
    let authorization: ScrapeJobConfig['authorization'];
    if (job.authorization !== undefined) {
      const a = r.object(job.authorization, 'authorization');
      r.keys(a, 'authorization', ['type', 'credentials', 'credentials_file']);
      if (a.credentials !== undefined && a.credentials_file !== undefined)
        fail('authorization: at most one of credentials and credentials_file may be set');
      if (a.credentials === undefined && a.credentials_file === undefined)
        fail('authorization: one of credentials and credentials_file is required');
      const type = a.type === undefined ? 'Bearer' : str(a.type, 'authorization.type', fail);
      if (type.toLowerCase() === 'basic') fail('authorization.type: use basic_auth for Basic authentication');
      authorization = {
        type,
        credentials:
          a.credentials === undefined ? undefined : str(a.credentials, 'authorization.credentials', fail),
        credentialsFile:
          a.credentials_file === undefined
            ? undefined
            : path(str(a.credentials_file, 'authorization.credentials_file', fail)),
      };
    }
    if (basicAuth && authorization) fail('at most one of basic_auth and authorization may be set');

    const tlsConfig: TlsConfig = { insecureSkipVerify: false };
    if (job.tls_config !== undefined) {
      const t = r.object(job.tls_config, 'tls_config');
      r.keys(t, 'tls_config', ['ca_file', 'cert_file', 'key_file', 'insecure_skip_verify', 'server_name']);
      if (t.ca_file !== undefined) tlsConfig.caFile = path(str(t.ca_file, 'tls_config.ca_file', fail));
      if (t.cert_file !== undefined)
        tlsConfig.certFile = path(str(t.cert_file, 'tls_config.cert_file', fail));
      if (t.key_file !== undefined) tlsConfig.keyFile = path(str(t.key_file, 'tls_config.key_file', fail));
      if ((tlsConfig.certFile === undefined) !== (tlsConfig.keyFile === undefined))
        fail('tls_config: cert_file and key_file must be set together');
      if (t.insecure_skip_verify !== undefined)
        tlsConfig.insecureSkipVerify = bool(t.insecure_skip_verify, 'tls_config.insecure_skip_verify', fail);
      if (t.server_name !== undefined)
        tlsConfig.serverName = str(t.server_name, 'tls_config.server_name', fail);
    }

    const staticConfigs: StaticConfig[] = [];
    if (job.static_configs !== undefined) {
      list(job.static_configs, 'static_configs', fail).forEach((scRaw, j) => {
        const key = `static_configs[${j}]`;
        const sc = r.object(scRaw, key);
        r.keys(sc, key, ['targets', 'labels']);
        const targets = list(sc.targets ?? [], `${key}.targets`, fail).map((t, k) =>
          validateTarget(t, `${key}.targets[${k}]`, fail),
        );
        staticConfigs.push({ targets, labels: parseLabels(sc.labels, `${key}.labels`, fail) });
      });
    }
    const fileSdConfigs: FileSdConfig[] = [];
    if (job.file_sd_configs !== undefined) {
      list(job.file_sd_configs, 'file_sd_configs', fail).forEach((fsRaw, j) => {
        const key = `file_sd_configs[${j}]`;
        const fs = r.object(fsRaw, key);
        r.keys(fs, key, ['files', 'refresh_interval']);
        const files = list(fs.files, `${key}.files`, fail).map((f, k) => {
          const file = str(f, `${key}.files[${k}]`, fail);
          if (!/\.(json|ya?ml)$/.test(file))
            fail(`${key}.files[${k}]: must end in .json, .yml or .yaml (got ${file})`);
          if (/[*?[]/.test(file.slice(0, file.lastIndexOf('/') + 1)))
            fail(`${key}.files[${k}]: patterns are only allowed in the last path element (got ${file})`);
          return path(file);
        });
        if (files.length === 0) fail(`${key}.files: at least one file is required`);
        const refreshIntervalMs =
          fs.refresh_interval === undefined
            ? 300_000
            : duration(fs.refresh_interval, `${key}.refresh_interval`, fail);
        fileSdConfigs.push({ files, refreshIntervalMs });
      });
    }
    if (job.static_configs === undefined && job.file_sd_configs === undefined)
      fail('one of static_configs and file_sd_configs is required');

    const profiles = parseProfilingConfig(job.profiling_config, r);
    jobs.push({
      jobName,
      tenantId,
      intervalMs,
      timeoutMs,
      scheme: scheme as 'http' | 'https',
      basicAuth,
      authorization,
      tlsConfig,
      staticConfigs,
      fileSdConfigs,
      profiles,
    });
  });
  return jobs;
}

function parseProfilingConfig(raw: unknown, r: Reader): ProfileTarget[] {
  const fail = (m: string) => r.fail(m);
  const settings = new Map<
    string,
    { enabled?: boolean; path?: string; delta?: boolean; cumulative?: boolean }
  >();
  if (raw !== undefined && raw !== null) {
    const pc = r.object(raw, 'profiling_config');
    r.keys(pc, 'profiling_config', ['pprof_config']);
    if (pc.pprof_config !== undefined && pc.pprof_config !== null) {
      const pp = r.object(pc.pprof_config, 'profiling_config.pprof_config');
      for (const [name, blockRaw] of Object.entries(pp)) {
        const key = `profiling_config.pprof_config.${name}`;
        if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name)) fail(`${key}: profile names are [a-zA-Z_][a-zA-Z0-9_]*`);
        const block = r.object(blockRaw ?? {}, key);
        r.keys(block, key, ['enabled', 'path', 'delta', 'cumulative']);
        const s: { enabled?: boolean; path?: string; delta?: boolean; cumulative?: boolean } = {};
        if (block.enabled !== undefined) s.enabled = bool(block.enabled, `${key}.enabled`, fail);
        if (block.path !== undefined) {
          s.path = str(block.path, `${key}.path`, fail);
          if (!s.path.startsWith('/')) fail(`${key}.path: must start with "/" (got ${s.path})`);
        }
        if (block.delta !== undefined) s.delta = bool(block.delta, `${key}.delta`, fail);
        if (block.cumulative !== undefined) s.cumulative = bool(block.cumulative, `${key}.cumulative`, fail);
        if (s.delta && s.cumulative) fail(`${key}: delta and cumulative exclude each other`);
        if (!(name in BUILTIN) && s.path === undefined) fail(`${key}.path: required for a custom profile`);
        settings.set(name, s);
      }
    }
  }
  const profiles: ProfileTarget[] = [];
  for (const [name, def] of Object.entries(BUILTIN)) {
    const s = settings.get(name) ?? {};
    if (!(s.enabled ?? def.enabled)) continue;
    profiles.push({
      name,
      metric: def.metric,
      path: s.path ?? def.path,
      timed: s.delta ?? def.timed,
      cumulative: s.cumulative ?? (s.delta ? false : def.cumulative),
    });
  }
  for (const [name, s] of settings) {
    if (name in BUILTIN || s.enabled === false) continue;
    profiles.push({
      name,
      metric: name,
      path: s.path!,
      timed: s.delta ?? false,
      cumulative: s.cumulative ?? false,
    });
  }
  const metrics = new Map<string, string>();
  for (const p of profiles) {
    const other = metrics.get(p.metric);
    if (other !== undefined)
      fail(
        `profiling_config.pprof_config: ${other} and ${p.name} both produce __name__="${p.metric}"; disable one of them`,
      );
    metrics.set(p.metric, p.name);
  }
  return profiles;
}

/**
 * Reads only the `scrape_configs` of a server config file, for reloads. Other keys are not looked at:
 * they need a restart. Returns the file text too, so callers can skip reloads of an unchanged file.
 */
export function readScrapeConfigFile(file: string): { text: string; jobs: ScrapeJobConfig[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ScrapeConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    throw new ScrapeConfigError(`config file ${file}: ${(err as Error).message}`);
  }
  if (parsed !== null && (typeof parsed !== 'object' || Array.isArray(parsed)))
    throw new ScrapeConfigError(`config file ${file}: expected a mapping of option keys`);
  const raw = (parsed as Record<string, unknown> | null)?.scrape_configs;
  return { text, jobs: parseScrapeConfigs(raw, file, dirname(file)) };
}
