const NANOS_PER_SECOND = 1_000_000_000n;
const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

/** Nanoseconds per digit count of a Unix timestamp; any other length means seconds. */
const UNIX_NANOS_PER_UNIT_BY_LENGTH = new Map([
  [13, 1_000_000n], // milliseconds
  [16, 1_000n], // microseconds
  [19, 1n], // nanoseconds
]);

const SECONDS_PER_DAY = 24n * 3600n;

/**
 * Parses `from`/`until` of `/ingest` (and the legacy query API) as Pyroscope's `attime.Parse` does,
 * returning Unix nanoseconds. Never throws: unparseable input means "now".
 *
 * - After trimming and deleting `_`, `,` and spaces, an all-digit value is a timestamp whose unit is
 *   guessed from its length: 13 digits ms, 16 µs, 19 ns, anything else seconds; 8 digits that form a
 *   valid `YYYYMMDD` date after 1900 are that UTC midnight.
 * - Otherwise the value is `<reference><sign><offset>`, split at the first `+` (or, failing that, the
 *   first `-`). The reference is always "now"; the offset is a number and a unit matched by prefix:
 *   `s`, `m`/`min`, `h`, `d`, `w`, `M`/`mon` (30 days), `y` (365 days); an unknown unit counts as 0,
 *   and everything after the first unit is part of it, so `now-3h30m` means `now-3h`.
 *
 * A timestamp outside the int64 nanosecond range also means now.
 */
export function parseTime(value: string | null, nowMs: number): bigint {
  const now = nowNanos(nowMs);
  if (value === null) return now;
  const text = value.trim().replace(/[_, ]/g, '');
  const nanos = /^\d+$/.test(text) ? parseTimestamp(text) : now + parseOffset(text);
  return nanos >= INT64_MIN && nanos <= INT64_MAX ? nanos : now;
}

export function nowNanos(nowMs: number): bigint {
  return BigInt(Math.floor(nowMs)) * 1_000_000n;
}

function parseTimestamp(digits: string): bigint {
  if (digits.length === 8) {
    const dateMs = parseYyyyMmDd(digits);
    if (dateMs !== null) return BigInt(dateMs) * 1_000_000n;
  }
  const nanosPerUnit = UNIX_NANOS_PER_UNIT_BY_LENGTH.get(digits.length) ?? NANOS_PER_SECOND;
  return BigInt(digits) * nanosPerUnit;
}

function parseYyyyMmDd(digits: string): number | null {
  const year = Number(digits.slice(0, 4));
  const month = Number(digits.slice(4, 6));
  const day = Number(digits.slice(6, 8));
  if (year <= 1900 || month < 1 || month > 12 || day < 1) return null;
  const ms = Date.UTC(year, month - 1, day);
  return new Date(ms).getUTCDate() === day ? ms : null; // Date.UTC rolls Feb 30 over into March
}

/** The signed offset in nanoseconds of `<reference>(+|-)<offset>`; 0 without a sign. */
function parseOffset(text: string): bigint {
  let signAt = text.indexOf('+');
  if (signAt < 0) signAt = text.indexOf('-');
  if (signAt < 0) return 0n;
  const sign = text[signAt] === '-' ? -1n : 1n;
  const match = /^(\d*)(.*)$/s.exec(text.slice(signAt + 1))!;
  const amount = match[1] === '' ? 0n : BigInt(match[1]);
  return sign * amount * unitSeconds(match[2]) * NANOS_PER_SECOND;
}

function unitSeconds(unit: string): bigint {
  if (unit.startsWith('s')) return 1n;
  if (unit.startsWith('mon') || unit.startsWith('M')) return 30n * SECONDS_PER_DAY;
  if (unit.startsWith('m')) return 60n;
  if (unit.startsWith('h')) return 3600n;
  if (unit.startsWith('d')) return SECONDS_PER_DAY;
  if (unit.startsWith('w')) return 7n * SECONDS_PER_DAY;
  if (unit.startsWith('y')) return 365n * SECONDS_PER_DAY;
  return 0n;
}
