import { UsageError } from './errors.js';
import { queryHelp } from './profile.js';

/** One option of a subcommand: `--name value` (or `--name=value`), or a boolean `--name`. */
export interface OptionSpec {
  name: string;
  /** A one-letter alias, e.g. `o` for `-o`. */
  short?: string;
  kind: 'string' | 'boolean';
  /** May be given several times (values collected in order). */
  multiple?: boolean;
  /** Shown in --help after the flag, e.g. `FILE`. */
  value?: string;
  help: string;
  default?: string;
}

export interface ParsedArgs {
  values: Map<string, string[]>;
  positionals: string[];
  help: boolean;
}

/** Options every client subcommand takes. */
export const globalOptions: OptionSpec[] = [
  {
    name: 'url',
    kind: 'string',
    value: 'URL',
    help: 'server address (env EMBERSCOPE_URL)',
    default: 'http://localhost:4040',
  },
  { name: 'basic-auth', kind: 'string', value: 'USER:PASS', help: 'HTTP basic authentication' },
  { name: 'bearer-token', kind: 'string', value: 'TOKEN', help: 'sends Authorization: Bearer TOKEN' },
  {
    name: 'api-key',
    kind: 'string',
    value: 'KEY',
    help: 'Emberscope API key, sent as Authorization: Bearer KEY (env EMBERSCOPE_API_KEY)',
  },
  { name: 'tenant', kind: 'string', value: 'ID', help: 'tenant, sent as the X-Scope-OrgID header' },
  { name: 'timeout', kind: 'string', value: 'DURATION', help: 'per-request timeout', default: '5m' },
];

/** Parses `args` against `specs`; throws UsageError on unknown flags or missing values. */
export function parseArgs(args: readonly string[], specs: readonly OptionSpec[]): ParsedArgs {
  const values = new Map<string, string[]>();
  const positionals: string[] = [];
  let help = false;
  const byName = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short as string, s]));
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    let spec: OptionSpec | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      if (eq >= 0) inline = arg.slice(eq + 1);
      spec = byName.get(name);
      if (!spec) throw new UsageError(`unknown flag --${name}`);
    } else if (arg.startsWith('-') && arg.length > 1 && !/^-\d/.test(arg)) {
      spec = byShort.get(arg.slice(1, 2));
      if (!spec) throw new UsageError(`unknown flag ${arg}`);
      if (arg.length > 2) inline = arg.slice(2);
    } else {
      positionals.push(arg);
      continue;
    }
    let value: string;
    if (spec.kind === 'boolean') {
      if (inline !== undefined && !['true', 'false'].includes(inline))
        throw new UsageError(
          `--${spec.name} takes no value (or =true/=false), got ${JSON.stringify(inline)}`,
        );
      value = inline ?? 'true';
    } else if (inline !== undefined) {
      value = inline;
    } else {
      if (i + 1 >= args.length) throw new UsageError(`--${spec.name} needs a value`);
      value = args[++i];
    }
    const list = values.get(spec.name) ?? [];
    if (!spec.multiple && list.length > 0 && spec.kind === 'string')
      throw new UsageError(`--${spec.name} given more than once`);
    values.set(spec.name, spec.multiple ? [...list, value] : [value]);
  }
  return { values, positionals, help };
}

/** Accessors over parsed args, with defaults and environment fallbacks. */
export class Args {
  constructor(
    readonly parsed: ParsedArgs,
    private readonly specs: readonly OptionSpec[],
  ) {}

  get positionals(): string[] {
    return this.parsed.positionals;
  }

  string(name: string): string | undefined {
    const v = this.parsed.values.get(name);
    if (v && v.length > 0) return v[v.length - 1];
    return this.specs.find((s) => s.name === name)?.default;
  }

  required(name: string): string {
    const v = this.string(name);
    if (v === undefined || v === '') throw new UsageError(`--${name} is required`);
    return v;
  }

  all(name: string): string[] {
    return this.parsed.values.get(name) ?? [];
  }

  bool(name: string): boolean {
    return this.string(name) === 'true';
  }

  /** A value from a fixed set. */
  choice<T extends string>(name: string, choices: readonly T[]): T {
    const v = this.string(name);
    if (v === undefined || !choices.includes(v as T))
      throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(v ?? '')}`);
    return v as T;
  }

  /** A positive integer (or 0 when `allowZero`). */
  int(name: string, allowZero = false): number | undefined {
    const v = this.string(name);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v) || (!allowZero && Number(v) === 0))
      throw new UsageError(
        `--${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${JSON.stringify(v)}`,
      );
    return Number(v);
  }
}

/** Help text of a subcommand: usage line, description, flags (own, then global), exit codes. */
export function helpText(
  usage: string,
  description: string,
  specs: readonly OptionSpec[],
  exitCodes: string,
): string {
  const flag = (s: OptionSpec) =>
    `${s.short ? `-${s.short}, ` : '    '}--${s.name}${s.value ? ` ${s.value}` : ''}`;
  const width = Math.max(...specs.map((s) => flag(s).length), 16) + 2;
  const line = (s: OptionSpec) =>
    `  ${flag(s).padEnd(width)}${s.help}${s.default !== undefined ? ` (default ${s.default})` : ''}`;
  const own = specs.filter((s) => !globalOptions.includes(s));
  return [
    `Usage: ${usage}`,
    '',
    description,
    '',
    'Options:',
    ...own.map(line),
    `  ${'-h, --help'.padEnd(width)}show this help`,
    '',
    'Server options:',
    ...globalOptions.map(line),
    '',
    ...(specs.some((s) => s.value === 'QUERY') ? [queryHelp, ''] : []),
    exitCodes,
  ].join('\n');
}

const durationUnits: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  y: 365 * 86_400_000,
};

/** `90s`, `1h30m`, `7d` → ms; throws UsageError otherwise. */
export function parseDuration(text: string, what = 'duration'): number {
  const t = text.trim();
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)/gy;
  let total = 0;
  let pos = 0;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    total += Number(m[1]) * durationUnits[m[2]];
    pos = re.lastIndex;
  }
  if (t === '' || pos !== t.length)
    throw new UsageError(`invalid ${what} ${JSON.stringify(text)}: use e.g. 30s, 15m, 1h, 7d`);
  return total;
}

/**
 * Pyroscope's time syntax → ms since the epoch: `now`, `now-1h`, `now-30m`, unix seconds, milliseconds,
 * microseconds or nanoseconds (told apart by the number of digits), or RFC 3339 (`2026-11-26T15:00:00Z`).
 */
export function parseTime(text: string, nowMs: number, flag = 'time'): number {
  const t = text.trim();
  if (t === 'now') return nowMs;
  const rel = /^now\s*([-+])\s*(.+)$/.exec(t);
  if (rel) {
    const d = parseDuration(rel[2], `--${flag}`);
    return rel[1] === '-' ? nowMs - d : nowMs + d;
  }
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    if (t.length <= 11) return n * 1000;
    if (t.length <= 14) return n;
    if (t.length <= 17) return Math.floor(n / 1000);
    return Number(BigInt(t) / 1_000_000n);
  }
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(t)) {
    const ms = Date.parse(t);
    if (!Number.isNaN(ms)) return ms;
  }
  throw new UsageError(
    `invalid --${flag} ${JSON.stringify(text)}: use now, now-1h, unix seconds/ms/ns or RFC 3339 (2026-01-02T15:04:05Z)`,
  );
}

/** `--from`/`--until` (with optional prefix, e.g. `left-`) → a checked [start, end] range in ms. */
export function timeRangeOf(
  args: Args,
  prefix = '',
  fallback?: { from?: string; until?: string },
): { start: number; end: number } {
  const now = Date.now();
  const fromText = args.string(`${prefix}from`) ?? fallback?.from ?? 'now-1h';
  const untilText = args.string(`${prefix}until`) ?? fallback?.until ?? 'now';
  const start = parseTime(fromText, now, `${prefix}from`);
  const end = parseTime(untilText, now, `${prefix}until`);
  if (start >= end)
    throw new UsageError(`--${prefix}from (${fromText}) must be before --${prefix}until (${untilText})`);
  return { start, end };
}

export const timeRangeOptions = (prefix = '', what = ''): OptionSpec[] => [
  {
    name: `${prefix}from`,
    kind: 'string',
    value: 'TIME',
    help: `start of the ${what}range: now-1h, unix s/ms/ns, RFC 3339`,
    default: prefix ? undefined : 'now-1h',
  },
  {
    name: `${prefix}until`,
    kind: 'string',
    value: 'TIME',
    help: `end of the ${what}range`,
    default: prefix ? undefined : 'now',
  },
];

export const outputOption: OptionSpec = {
  name: 'output',
  kind: 'string',
  value: 'text|json',
  help: 'output format on stdout',
  default: 'text',
};
