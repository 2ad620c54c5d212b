/** A series label. Label sets are arrays sorted by name with unique names. */
export interface Label {
  name: string;
  value: string;
}
export type Labels = readonly Label[];

export type MatchOp = '=' | '!=' | '=~' | '!~';

/** One matcher of a Prometheus-style selector such as `{service_name="x", env=~"prod|stg"}`. */
export interface Matcher {
  name: string;
  op: MatchOp;
  value: string;
  /** Compiled, fully anchored regex for `=~` / `!~`. */
  re?: RegExp;
}

/** Well-known label names. */
export const LabelName = {
  MetricName: '__name__',
  ProfileType: '__profile_type__',
  ServiceName: 'service_name',
  Type: '__type__',
  Unit: '__unit__',
  PeriodType: '__period_type__',
  PeriodUnit: '__period_unit__',
  Delta: '__delta__',
} as const;

export function labelValue(labels: Labels, name: string): string {
  for (const l of labels) if (l.name === name) return l.value;
  return '';
}

export function sortLabels(labels: Label[]): Label[] {
  return labels.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Stable key of a sorted label set, e.g. for maps of series. */
export function labelsKey(labels: Labels): string {
  let key = '';
  for (const l of labels) key += `${l.name}\u0000${l.value}\u0001`;
  return key;
}

/** Prometheus semantics: a missing label has the value "". */
export function matchLabels(labels: Labels, matchers: readonly Matcher[]): boolean {
  for (const m of matchers) {
    const v = labelValue(labels, m.name);
    switch (m.op) {
      case '=':
        if (v !== m.value) return false;
        break;
      case '!=':
        if (v === m.value) return false;
        break;
      case '=~':
        if (!(m.re ?? anchored(m.value)).test(v)) return false;
        break;
      case '!~':
        if ((m.re ?? anchored(m.value)).test(v)) return false;
        break;
    }
  }
  return true;
}

/** Go's RE2 refuses regexes nested deeper than this ("expression nests too deeply"). */
const MAX_REGEX_NESTING = 1000;

/**
 * Compiles a matcher regex the way Prometheus does: fully anchored, `.` matching newlines. A leading
 * RE2 `(?i)` (common in Grafana queries, unsupported by JavaScript) becomes the `i` flag.
 * Throws a SyntaxError for an invalid pattern, and, as Go's RE2 does, for groups nested more than
 * 1000 deep: V8 accepts far deeper ones here but then overflows its stack compiling them on first use.
 */
export function anchored(pattern: string): RegExp {
  const caseInsensitive = pattern.startsWith('(?i)');
  const body = caseInsensitive ? pattern.slice(4) : pattern;
  if (groupNesting(body) > MAX_REGEX_NESTING) {
    throw new SyntaxError('Invalid regular expression: expression nests too deeply');
  }
  return new RegExp(`^(?:${body})$`, caseInsensitive ? 'sui' : 'su');
}

/** The deepest group nesting of a JavaScript pattern (escaped and bracketed parentheses do not count). */
function groupNesting(pattern: string): number {
  let depth = 0;
  let max = 0;
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') max = Math.max(max, ++depth);
    else if (c === ')') depth--;
  }
  return max;
}
