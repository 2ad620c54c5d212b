import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseScrapeConfigs, type ScrapeJobConfig } from './scrape/config.js';
import { parseTenantLimits, type TenantLimits } from './tenant-limits.js';

/**
 * Every server option is declared once here: its flag, environment variable, YAML key, default and
 * help text all derive from this table, so `--help`, the config file and the environment can never
 * disagree.
 */
type Kind = 'string' | 'integer' | 'boolean' | 'bytes' | 'duration';

interface OptionSpec {
  /** YAML key and flag name (`--<key>` with underscores as dashes). */
  key: string;
  kind: Kind;
  default: string | number | boolean;
  help: string;
  /** For strings: the only values accepted. */
  choices?: readonly string[];
}

const options = [
  { key: 'listen', kind: 'string', default: '0.0.0.0:4040', help: 'Address (HOST:PORT) to serve HTTP on.' },
  {
    key: 'tls_cert_file',
    kind: 'string',
    default: '',
    help: 'PEM certificate (with its chain) to serve HTTPS on --listen instead of HTTP; needs --tls-key-file. Both files are reloaded when they change.',
  },
  {
    key: 'tls_key_file',
    kind: 'string',
    default: '',
    help: 'PEM private key of --tls-cert-file.',
  },
  {
    key: 'data_dir',
    kind: 'string',
    default: './data',
    help: 'Directory of the embedded storage (WAL and blocks).',
  },
  { key: 'log_level', kind: 'string', default: 'info', help: 'Log level: debug, info, warn or error.' },
  {
    key: 'multitenancy_enabled',
    kind: 'boolean',
    default: false,
    help: 'Require the X-Scope-OrgID header to select the tenant (401 without it). Off: every request is tenant "anonymous".',
  },
  {
    key: 'auth_enabled',
    kind: 'boolean',
    default: false,
    help: 'Require an API key on every route except /ready, build info and the UI files (see SECURITY.md; create keys with `emberscope admin keys create`).',
  },
  {
    key: 'auth_proxy_header',
    kind: 'string',
    default: '',
    help: 'With auth on, trust requests carrying this header (set by a reverse proxy that authenticates users and strips it from client requests) as having auth_proxy_role. Empty: off.',
  },
  {
    key: 'auth_proxy_role',
    kind: 'string',
    default: 'read',
    choices: ['ingest', 'read', 'admin'],
    help: 'The role of requests authenticated by auth_proxy_header.',
  },
  {
    key: 'max_request_body',
    kind: 'bytes',
    default: 64 * 1024 * 1024,
    help: 'Largest request body accepted before decompression (413 above it).',
  },
  {
    key: 'max_profile_size',
    kind: 'bytes',
    default: 16 * 1024 * 1024,
    help: 'Largest profile accepted after decompression; a gzip bomb is stopped at this size.',
  },
  {
    key: 'max_samples_per_profile',
    kind: 'integer',
    default: 100_000,
    help: 'Profiles with more samples are refused (422).',
  },
  {
    key: 'max_stack_depth',
    kind: 'integer',
    default: 1024,
    help: 'Deeper stacks are cut, keeping the leaf side.',
  },
  {
    key: 'max_labels_per_series',
    kind: 'integer',
    default: 30,
    help: 'Series with more labels are refused (400).',
  },
  { key: 'max_label_name_length', kind: 'integer', default: 1024, help: 'Longest label name accepted.' },
  { key: 'max_label_value_length', kind: 'integer', default: 2048, help: 'Longest label value accepted.' },
  {
    key: 'max_series_per_tenant',
    kind: 'integer',
    default: 100_000,
    help: 'Active series per tenant; writes creating more are refused (429).',
  },
  {
    key: 'ingestion_rate_mb',
    kind: 'integer',
    default: 0,
    help: 'Per-tenant ingestion rate limit in MB/s of request bodies (429 above it); 0 disables it.',
  },
  {
    key: 'ingestion_burst_mb',
    kind: 'integer',
    default: 64,
    help: 'Per-tenant burst allowed above the ingestion rate, in MB.',
  },
  {
    key: 'block_duration',
    kind: 'duration',
    default: 60 * 60 * 1000,
    help: 'Flush the in-memory head to an immutable block when its data spans this long (e.g. 30m, 1h).',
  },
  {
    key: 'max_head_size',
    kind: 'bytes',
    default: 1024 * 1024 * 1024,
    help: 'Flush the head earlier when it holds this much (about 1 MiB per active service with 5 profile types; the frozen head being written counts again).',
  },
  {
    key: 'max_wal_size',
    kind: 'bytes',
    default: 1024 * 1024 * 1024,
    help: 'Flush the head earlier when its write-ahead log holds this much: bounds the WAL on disk and the replay after a crash. 0 = no limit.',
  },
  {
    key: 'retention',
    kind: 'duration',
    default: 30 * 86_400_000,
    help: 'Delete blocks whose newest profile is older than this (e.g. 7d, 90d); 0 keeps data forever.',
  },
  {
    key: 'max_disk_bytes',
    kind: 'bytes',
    default: 0,
    help: 'Disk budget for blocks and WAL: the oldest blocks are deleted first to stay under it; 0 = no budget.',
  },
  {
    key: 'compaction_interval',
    kind: 'duration',
    default: 60_000,
    help: 'How often small blocks are compacted into larger ones in the background; 0 disables compaction.',
  },
  {
    key: 'wal_fsync',
    kind: 'boolean',
    default: true,
    help: 'fdatasync the write-ahead log before acknowledging a write (survives power loss, not only crashes).',
  },
  {
    key: 'query_timeout',
    kind: 'duration',
    default: 60_000,
    help: 'Queries running longer are stopped and answered 504.',
  },
  {
    key: 'max_query_concurrency',
    kind: 'integer',
    default: 16,
    help: 'Queries one tenant may run at once; more are answered 429.',
  },
  {
    key: 'max_query_range',
    kind: 'duration',
    default: 32 * 86_400_000,
    help: 'Longest time range one query may cover (400 above it); 0 = unlimited.',
  },
  {
    key: 'max_query_series',
    kind: 'integer',
    default: 100_000,
    help: 'Most series one flame graph, time series or export query may merge (429 above it); 0 = unlimited.',
  },
  {
    key: 'query_workers',
    kind: 'integer',
    default: 1,
    help: 'Worker threads for large query computations (flame graph building); 0 computes on the main thread.',
  },
  {
    key: 'ingest_workers',
    kind: 'integer',
    default: 1,
    help: 'Worker threads that inflate, decode and validate uploads, so ingestion uses more than one core; 0 decodes on the main thread.',
  },
  {
    key: 'shutdown_timeout',
    kind: 'duration',
    default: 30_000,
    help: 'On SIGTERM/SIGINT, how long in-flight requests may take before the server exits anyway.',
  },
  {
    key: 'max_inflight_body_bytes',
    kind: 'bytes',
    default: 256 * 1024 * 1024,
    help: 'Request bodies held in memory at once by all requests together; a request that would go over is answered 503 with Retry-After. At least max_request_body; 0 = no limit.',
  },
  {
    key: 'max_wal_pending_bytes',
    kind: 'bytes',
    default: 64 * 1024 * 1024,
    help: 'Writes are answered 503 with Retry-After while this many bytes wait for the write-ahead log (a slow disk); 0 = no limit.',
  },
  {
    key: 'max_wal_pending_appends',
    kind: 'integer',
    default: 1024,
    help: 'Writes are answered 503 with Retry-After while this many writes wait for the write-ahead log; 0 = no limit.',
  },
  {
    key: 'min_free_disk_bytes',
    kind: 'bytes',
    default: 512 * 1024 * 1024,
    help: 'Writes are answered 507 while the filesystem of data_dir has less free space (reads keep working); 0 = no check.',
  },
  {
    key: 'http_request_timeout',
    kind: 'duration',
    default: 5 * 60_000,
    help: 'A request (headers and body) must arrive within this; slower clients are answered 408 and disconnected. 0 = no limit.',
  },
  {
    key: 'http_headers_timeout',
    kind: 'duration',
    default: 30_000,
    help: 'The request line and headers must arrive within this (slow-loris protection); at most http_request_timeout.',
  },
  {
    key: 'http_keep_alive_timeout',
    kind: 'duration',
    default: 72_000,
    help: 'How long an idle keep-alive connection stays open waiting for the next request.',
  },
  {
    key: 'max_header_size',
    kind: 'bytes',
    default: 16 * 1024,
    help: 'Largest request line plus headers accepted (431 above it).',
  },
] as const satisfies readonly OptionSpec[];

type Options = typeof options;
type ValueOf<K extends Kind> = K extends 'string' ? string : K extends 'boolean' ? boolean : number;
export type ServerConfig = { [O in Options[number] as O['key']]: ValueOf<O['kind']> } & {
  /** Pull mode: the validated `scrape_configs` section of the config file (file only, no flag). */
  scrape_configs?: ScrapeJobConfig[];
  /** Per-tenant overrides of the ingestion, series and query limits (file only, no flag). */
  tenant_limits?: Record<string, Partial<TenantLimits>>;
  /** The `--config` file, when one was given: pull mode reloads its `scrape_configs` when it changes. */
  config_file?: string;
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const flagName = (key: string) => `--${key.replaceAll('_', '-')}`;
const envName = (key: string) => `EMBERSCOPE_${key.toUpperCase()}`;

const units: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};
const durations: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

function parseValue(spec: OptionSpec, raw: unknown, source: string): string | number | boolean {
  const fail = (expected: string): never => {
    throw new ConfigError(`${source}: invalid value ${JSON.stringify(raw)} (expected ${expected})`);
  };
  if (spec.kind === 'string') {
    if (typeof raw !== 'string') return fail('a string');
    return !spec.choices || spec.choices.includes(raw) ? raw : fail(`one of ${spec.choices.join(', ')}`);
  }
  if (spec.kind === 'boolean') {
    if (typeof raw === 'boolean') return raw;
    const s = String(raw).toLowerCase();
    return s === 'true' || s === '1' ? true : s === 'false' || s === '0' ? false : fail('true or false');
  }
  if (typeof raw === 'number')
    return Number.isInteger(raw) && raw >= 0 ? raw : fail('a non-negative integer');
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(String(raw));
  if (!m) return fail(spec.kind === 'duration' ? 'a duration such as 30s, 15m or 1h' : 'a number');
  const table = spec.kind === 'bytes' ? units : spec.kind === 'duration' ? durations : { '': 1 };
  const unit = m[2].toLowerCase() || (spec.kind === 'duration' ? 'ms' : spec.kind === 'bytes' ? 'b' : '');
  const mult = table[unit];
  if (mult === undefined) return fail(`a unit among ${Object.keys(table).join(', ')}`);
  return Math.round(Number(m[1]) * mult);
}

/**
 * Resolves the configuration. Precedence: flags over environment over the YAML file over defaults.
 * Throws ConfigError with a message naming the offending flag, variable or key.
 */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const byFlag = new Map<string, OptionSpec>(options.map((o) => [flagName(o.key), o]));
  const flags = new Map<string, string>();
  let configFile = env.EMBERSCOPE_CONFIG;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const spec = byFlag.get(name);
    if (name !== '--config' && !spec) throw new ConfigError(`unknown option ${name} (see --help)`);
    let value: string | undefined;
    if (eq > 0) value = arg.slice(eq + 1);
    else if (spec?.kind === 'boolean' && (argv[i + 1] === undefined || argv[i + 1].startsWith('--')))
      value = 'true';
    else value = argv[++i];
    if (value === undefined) throw new ConfigError(`option ${name} needs a value`);
    if (name === '--config') configFile = value;
    else flags.set(name, value);
  }

  let file: Record<string, unknown> = {};
  if (configFile) {
    let text: string;
    try {
      text = readFileSync(configFile, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read config file ${configFile}: ${(err as Error).message}`);
    }
    const parsed: unknown = parseYaml(text);
    if (parsed !== null && (typeof parsed !== 'object' || Array.isArray(parsed)))
      throw new ConfigError(`config file ${configFile}: expected a mapping of option keys`);
    file = (parsed ?? {}) as Record<string, unknown>;
    const known = new Set<string>([...options.map((o) => o.key), 'scrape_configs', 'tenant_limits']);
    for (const key of Object.keys(file))
      if (!known.has(key)) throw new ConfigError(`config file ${configFile}: unknown key "${key}"`);
  }

  const config: Record<string, string | number | boolean> = {};
  for (const spec of options) {
    const flag = flags.get(flagName(spec.key));
    const fromEnv = env[envName(spec.key)];
    if (flag !== undefined) config[spec.key] = parseValue(spec, flag, flagName(spec.key));
    else if (fromEnv !== undefined) config[spec.key] = parseValue(spec, fromEnv, envName(spec.key));
    else if (file[spec.key] !== undefined)
      config[spec.key] = parseValue(spec, file[spec.key], `${configFile}: ${spec.key}`);
    else config[spec.key] = spec.default;
  }
  parseListen(config.listen as string);
  const result = config as unknown as ServerConfig;
  if (configFile) result.config_file = configFile;
  if (file.tenant_limits !== undefined) {
    try {
      result.tenant_limits = parseTenantLimits(file.tenant_limits, configFile!);
    } catch (err) {
      throw new ConfigError((err as Error).message);
    }
  }
  if (file.scrape_configs !== undefined) {
    try {
      result.scrape_configs = parseScrapeConfigs(file.scrape_configs, configFile!, dirname(configFile!));
    } catch (err) {
      throw new ConfigError((err as Error).message);
    }
  }
  return result;
}

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(listen);
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || port > 65535)
    throw new ConfigError(`--listen: expected HOST:PORT, got ${JSON.stringify(listen)}`);
  return { host: m[1].replace(/^\[(.*)\]$/, '$1') || '0.0.0.0', port };
}

function formatDefault(spec: OptionSpec): string {
  const v = spec.default;
  if (v === '') return 'none';
  if (spec.kind === 'bytes' && typeof v === 'number') {
    for (const [unit, size] of [
      ['GiB', 1024 ** 3],
      ['MiB', 1024 ** 2],
      ['KiB', 1024],
    ] as const)
      if (v >= size && v % size === 0) return `${v / size}${unit}`;
  }
  if (spec.kind === 'duration' && typeof v === 'number') {
    for (const [unit, size] of [
      ['d', 86_400_000],
      ['h', 3_600_000],
      ['m', 60_000],
      ['s', 1000],
    ] as const)
      if (v >= size && v % size === 0) return `${v / size}${unit}`;
  }
  return String(v);
}

export function serverHelp(): string {
  const lines = [
    'Usage: emberscope server [options]',
    '',
    'Starts the Emberscope server: ingest (Pyroscope /ingest and Push APIs), queries and embedded storage.',
    'Every option can also be set with an environment variable or a key in the YAML file given to --config;',
    'flags win over the environment, which wins over the file.',
    '',
    'Options:',
    `  --config FILE`,
    `      YAML file whose keys are the option names below (e.g. "data_dir: /var/lib/emberscope").`,
    `      It may also hold scrape_configs: targets to collect pprof profiles from (docs/pull-mode.md).`,
    `      env EMBERSCOPE_CONFIG`,
  ];
  for (const spec of options) {
    const arg = spec.kind === 'boolean' ? '[=true|false]' : ` ${spec.kind.toUpperCase()}`;
    lines.push(`  ${flagName(spec.key)}${arg}`);
    lines.push(`      ${spec.help}`);
    lines.push(`      default ${formatDefault(spec)}; env ${envName(spec.key)}; config key ${spec.key}`);
  }
  lines.push('  --help', '      Show this help.');
  return lines.join('\n');
}
