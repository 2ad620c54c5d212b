/** Label selectors: `{service_name="shop", region=~"eu-.*"}`, parsed and printed (Prometheus syntax). */

export type MatchOp = '=' | '!=' | '=~' | '!~';
export const MATCH_OPS: readonly MatchOp[] = ['=', '!=', '=~', '!~'];

export interface Matcher {
  name: string;
  op: MatchOp;
  value: string;
}

export const SERVICE_LABEL = 'service_name';

export class SelectorError extends Error {}

export function parseSelector(text: string): Matcher[] {
  const s = text.trim();
  if (s === '' || s === '{}') return [];
  if (!s.startsWith('{') || !s.endsWith('}'))
    throw new SelectorError('a selector looks like {label="value", …}');
  const out: Matcher[] = [];
  let i = 1;
  const end = s.length - 1;
  const skipSpace = () => {
    while (i < end && /\s/.test(s[i])) i++;
  };
  while (true) {
    skipSpace();
    if (i >= end) break;
    const nameMatch = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(s.slice(i, end));
    if (!nameMatch) throw new SelectorError(`expected a label name at position ${i}`);
    const name = nameMatch[0];
    i += name.length;
    skipSpace();
    const op = (['=~', '!~', '!=', '='] as const).find((o) => s.startsWith(o, i));
    if (!op) throw new SelectorError(`expected one of = != =~ !~ after ${name}`);
    i += op.length;
    skipSpace();
    const quote = s[i];
    if (quote !== '"' && quote !== "'" && quote !== '`')
      throw new SelectorError(`expected a quoted value for ${name}`);
    i++;
    let value = '';
    while (i < end && s[i] !== quote) {
      if (s[i] === '\\' && quote !== '`' && i + 1 < end) {
        const c = s[i + 1];
        value += c === 'n' ? '\n' : c === 't' ? '\t' : c;
        i += 2;
      } else value += s[i++];
    }
    if (s[i] !== quote) throw new SelectorError(`unterminated value for ${name}`);
    i++;
    if (op === '=~' || op === '!~') {
      try {
        new RegExp(value);
      } catch {
        throw new SelectorError(`invalid regular expression for ${name}: ${value}`);
      }
    }
    out.push({ name, op, value });
    skipSpace();
    if (s[i] === ',') i++;
    else if (i < end) throw new SelectorError(`expected , or } at position ${i}`);
  }
  return out;
}

export function quoteValue(v: string): string {
  return `"${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`;
}

export function printSelector(matchers: readonly Matcher[]): string {
  return `{${matchers.map((m) => `${m.name}${m.op}${quoteValue(m.value)}`).join(', ')}}`;
}

/** `<profile type ID>{selector}` ↔ its two halves. */
export function splitQuery(query: string): { profileType: string; selector: string } {
  const brace = query.indexOf('{');
  if (brace < 0) return { profileType: query.trim(), selector: '{}' };
  return { profileType: query.slice(0, brace).trim(), selector: query.slice(brace).trim() };
}

export function serviceOf(matchers: readonly Matcher[]): string | undefined {
  return matchers.find((m) => m.name === SERVICE_LABEL && m.op === '=')?.value;
}

/** Sets (or removes, with undefined) the `service_name="…"` matcher, keeping the others. */
export function withService(matchers: readonly Matcher[], service: string | undefined): Matcher[] {
  const rest = matchers.filter((m) => !(m.name === SERVICE_LABEL && m.op === '='));
  return service === undefined ? rest : [{ name: SERVICE_LABEL, op: '=', value: service }, ...rest];
}
