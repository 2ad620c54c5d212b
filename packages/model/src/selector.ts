import { anchored, LabelName, type Matcher, type MatchOp } from './labels.js';

/** A malformed selector. `position` is the 0-based index into the input where parsing stopped. */
export class SelectorError extends Error {
  override name = 'SelectorError';
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
  }
}

/** A query such as `process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="x"}`. */
export interface Query {
  /** The name before the braces (the profile type ID in Pyroscope queries), if any. */
  metric?: string;
  matchers: Matcher[];
}

/** Builds a matcher, compiling the regex of `=~` / `!~`; throws a SyntaxError for an invalid regex. */
export function createMatcher(name: string, op: MatchOp, value: string): Matcher {
  if (op === '=' || op === '!=') return { name, op, value };
  return { name, op, value, re: anchored(value) };
}

/**
 * Parses a Prometheus selector (`{a="x", b!="y", c=~"re", d!~"re"}`, `{}`, or `name{…}`). A name before
 * the braces becomes a leading `__name__` equality matcher, as in Prometheus.
 */
export function parseSelector(input: string): Matcher[] {
  const { metric, matchers } = parseQuery(input);
  return metric === undefined ? matchers : [createMatcher(LabelName.MetricName, '=', metric), ...matchers];
}

/** Parses a selector like {@link parseSelector}, but returns the name before the braces separately. */
export function parseQuery(input: string): Query {
  return new SelectorParser(input).query();
}

/** Formats matchers as a selector that {@link parseSelector} reads back to the same matchers. */
export function formatSelector(matchers: readonly Matcher[]): string {
  return `{${matchers.map((m) => `${formatLabelName(m.name)}${m.op}${quote(m.value)}`).join(',')}}`;
}

/** Formats a query as `metric{…}`, the inverse of {@link parseQuery}. */
export function formatQuery(query: Query): string {
  return (query.metric ?? '') + formatSelector(query.matchers);
}

const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const isLabelNameStart = (c: string) => /[A-Za-z_]/.test(c);
const isLabelNameChar = (c: string) => /[A-Za-z0-9_]/.test(c);
// Prometheus metric-name characters, plus the `.`, `-` and `/` of OG FlameQL app names (`my-app.cpu`).
const isMetricChar = (c: string) => /[A-Za-z0-9_:./-]/.test(c);
const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r';

const SIMPLE_ESCAPES = new Map([
  ['a', '\x07'],
  ['b', '\b'],
  ['f', '\f'],
  ['n', '\n'],
  ['r', '\r'],
  ['t', '\t'],
  ['v', '\v'],
  ['\\', '\\'],
]);
const utf8 = new TextDecoder('utf-8', { fatal: true });

class SelectorParser {
  private pos = 0;

  constructor(private readonly input: string) {}

  query(): Query {
    this.skipSpace();
    const metric = this.metricName();
    this.skipSpace();
    const matchers = metric === undefined || this.pos < this.input.length ? this.braces() : [];
    this.skipSpace();
    if (this.pos < this.input.length) this.fail('end of input');
    if (metric !== undefined && matchers.some((m) => m.name === LabelName.MetricName)) {
      throw new SelectorError(`metric name set twice: before the braces and as ${LabelName.MetricName}`, 0);
    }
    return metric === undefined ? { matchers } : { metric, matchers };
  }

  private metricName(): string | undefined {
    const start = this.pos;
    while (this.pos < this.input.length && isMetricChar(this.input[this.pos])) this.pos++;
    return this.pos > start ? this.input.slice(start, this.pos) : undefined;
  }

  private braces(): Matcher[] {
    this.expect('{');
    const matchers: Matcher[] = [];
    for (;;) {
      this.skipSpace();
      if (this.peek() === '}') break;
      matchers.push(this.matcher());
      this.skipSpace();
      if (this.peek() === '}') break;
      this.expect(',', "',' or '}'");
    }
    this.pos++;
    return matchers;
  }

  private matcher(): Matcher {
    const name = this.labelName();
    this.skipSpace();
    const op = this.operator();
    this.skipSpace();
    const valueStart = this.pos;
    const value = this.quoted('label value');
    try {
      return createMatcher(name, op, value);
    } catch (err) {
      // V8 says "Invalid regular expression: /<anchored pattern>/su: <reason>"; keep the reason only.
      const reason = (err as Error).message.split(': ').at(-1);
      throw new SelectorError(
        `invalid regular expression ${JSON.stringify(value)} at position ${valueStart}: ${reason}`,
        valueStart,
      );
    }
  }

  /** A Prometheus label name, or a quoted one (Prometheus 3 UTF-8 names such as `{"otel.scope.name"="x"}`). */
  private labelName(): string {
    const c = this.peek();
    if (c === '"' || c === "'" || c === '`') return this.quoted('label name');
    if (!isLabelNameStart(c)) this.fail('label name');
    const start = this.pos;
    while (this.pos < this.input.length && isLabelNameChar(this.input[this.pos])) this.pos++;
    return this.input.slice(start, this.pos);
  }

  private operator(): MatchOp {
    const two = this.input.slice(this.pos, this.pos + 2);
    if (two === '=~' || two === '!=' || two === '!~') {
      this.pos += 2;
      return two;
    }
    this.expect('=', "'=', '!=', '=~' or '!~'");
    return '=';
  }

  /** A double-, single- or back-quoted string; the first two take Go escapes, backquotes are raw. */
  private quoted(what: string): string {
    const quote = this.peek();
    if (quote !== '"' && quote !== "'" && quote !== '`') this.fail(what);
    const start = ++this.pos;
    if (quote === '`') {
      const end = this.input.indexOf('`', start);
      if (end < 0) this.failAt(this.input.length, 'closing quote `');
      this.pos = end + 1;
      return this.input.slice(start, end);
    }
    let value = '';
    // \x and octal escapes are bytes (Go strings are bytes); consecutive ones are decoded as UTF-8 together.
    const bytes: number[] = [];
    const flushBytes = (at: number) => {
      if (bytes.length === 0) return;
      try {
        value += utf8.decode(Uint8Array.from(bytes));
      } catch {
        throw new SelectorError(`invalid UTF-8 in byte escapes before position ${at}`, at);
      }
      bytes.length = 0;
    };
    for (;;) {
      const c = this.peek();
      if (c === '' || c === '\n') this.fail(`closing quote ${quote}`);
      if (c === quote) {
        flushBytes(this.pos);
        this.pos++;
        return value;
      }
      if (c !== '\\') {
        flushBytes(this.pos);
        value += c;
        this.pos++;
        continue;
      }
      const escapeStart = this.pos;
      const e = this.input[++this.pos] ?? '';
      if (e === '') this.fail(`closing quote ${quote}`);
      this.pos++;
      if (e === 'x' || (e >= '0' && e <= '7')) {
        bytes.push(this.byteEscape(e, escapeStart));
        continue;
      }
      flushBytes(escapeStart);
      const simple = SIMPLE_ESCAPES.get(e);
      if (e === quote) value += quote;
      else if (simple !== undefined) value += simple;
      else if (e === 'u' || e === 'U') value += this.unicodeEscape(e === 'u' ? 4 : 8, escapeStart);
      else throw this.invalidEscape(escapeStart);
    }
  }

  /** `\xHH`, or `\OOO` with three octal digits up to \377; called after the escape letter. */
  private byteEscape(letter: string, escapeStart: number): number {
    const isHex = letter === 'x';
    const digits = (isHex ? '' : letter) + this.input.slice(this.pos, this.pos + 2);
    const byte = Number.parseInt(digits, isHex ? 16 : 8);
    if (!(isHex ? /^[0-9A-Fa-f]{2}$/ : /^[0-7]{3}$/).test(digits) || byte > 0xff) {
      throw this.invalidEscape(escapeStart);
    }
    this.pos += 2;
    return byte;
  }

  /** `\uHHHH` or `\UHHHHHHHH`: a Unicode code point, not a surrogate half; called after the letter. */
  private unicodeEscape(digits: number, escapeStart: number): string {
    const hex = this.input.slice(this.pos, this.pos + digits);
    const codePoint = Number.parseInt(hex, 16);
    const isSurrogate = codePoint >= 0xd800 && codePoint <= 0xdfff;
    if (!new RegExp(`^[0-9A-Fa-f]{${digits}}$`).test(hex) || codePoint > 0x10ffff || isSurrogate) {
      throw this.invalidEscape(escapeStart);
    }
    this.pos += digits;
    return String.fromCodePoint(codePoint);
  }

  private invalidEscape(escapeStart: number): SelectorError {
    const sequence = this.input.slice(escapeStart, escapeStart + 2);
    return new SelectorError(`invalid escape sequence '${sequence}' at position ${escapeStart}`, escapeStart);
  }

  private peek(): string {
    return this.input[this.pos] ?? '';
  }

  private skipSpace(): void {
    while (isSpace(this.peek())) this.pos++;
  }

  private expect(c: string, what = `'${c}'`): void {
    if (this.peek() !== c) this.fail(what);
    this.pos++;
  }

  private fail(expected: string): never {
    return this.failAt(this.pos, expected);
  }

  private failAt(position: number, expected: string): never {
    const c = this.input[position];
    // Control characters (a newline inside quotes) are shown escaped.
    const found =
      c === undefined
        ? 'unexpected end of input'
        : `unexpected character '${c < ' ' ? JSON.stringify(c).slice(1, -1) : c}'`;
    throw new SelectorError(`${found} at position ${position}: expected ${expected}`, position);
  }
}

function formatLabelName(name: string): string {
  return LABEL_NAME.test(name) ? name : quote(name);
}

/** Double-quotes a string with Go escapes, so that control characters survive a round trip. */
function quote(value: string): string {
  const escaped = value.replace(/[\\"\x00-\x1f\x7f]/g, (c) => {
    switch (c) {
      case '\\':
      case '"':
        return `\\${c}`;
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      case '\t':
        return '\\t';
      default:
        return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
    }
  });
  return `"${escaped}"`;
}
