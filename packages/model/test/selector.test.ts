import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Matcher } from '../src/labels.js';
import {
  createMatcher,
  formatQuery,
  formatSelector,
  parseQuery,
  parseSelector,
  SelectorError,
} from '../src/selector.js';

/** Matchers without the compiled regex, for equality checks. */
const plain = (matchers: Matcher[]) => matchers.map(({ name, op, value }) => ({ name, op, value }));

function errorOf(input: string): SelectorError {
  try {
    parseSelector(input);
  } catch (err) {
    if (err instanceof SelectorError) return err;
    throw err;
  }
  throw new Error(`parsed without error: ${input}`);
}

describe('parseSelector', () => {
  it('parses the empty selector', () => {
    expect(parseSelector('{}')).toEqual([]);
    expect(parseSelector('  { }  ')).toEqual([]);
  });

  it('parses all four operators', () => {
    const matchers = parseSelector('{a="x", b!="y", c=~"re.*", d!~"re"}');
    expect(plain(matchers)).toEqual([
      { name: 'a', op: '=', value: 'x' },
      { name: 'b', op: '!=', value: 'y' },
      { name: 'c', op: '=~', value: 're.*' },
      { name: 'd', op: '!~', value: 're' },
    ]);
    expect(matchers[0].re).toBeUndefined();
    expect(matchers[2].re?.test('regex')).toBe(true);
  });

  it('compiles regexes fully anchored', () => {
    const [m] = parseSelector('{env=~"prod|stg"}');
    expect(m.re?.test('prod')).toBe(true);
    expect(m.re?.test('production')).toBe(false);
    expect(m.re?.test('xstg')).toBe(false);
  });

  it('accepts whitespace everywhere between tokens and a trailing comma', () => {
    expect(plain(parseSelector('\n{ a = "x" ,\tb =~ "y" , }\n'))).toEqual([
      { name: 'a', op: '=', value: 'x' },
      { name: 'b', op: '=~', value: 'y' },
    ]);
  });

  it('reads double, single and backtick quotes', () => {
    expect(parseSelector(`{a="x'y", b='x"y', c=\`x\\n"'\`}`).map((m) => m.value)).toEqual([
      "x'y",
      'x"y',
      `x\\n"'`,
    ]);
  });

  it('decodes Go escapes', () => {
    const values = (input: string) => parseSelector(input).map((m) => m.value);
    expect(values(String.raw`{a="\a\b\f\n\r\t\v\\\""}`)).toEqual(['\x07\b\f\n\r\t\v\\"']);
    expect(values(String.raw`{a='it\'s'}`)).toEqual(["it's"]);
    expect(values(String.raw`{a="\u00e9\U0001F525"}`)).toEqual(['é🔥']);
    // \x and octal escapes are bytes, decoded as UTF-8 together: 世 is E4 B8 96.
    expect(values(String.raw`{a="\xe4\xb8\x96", b="\344\270\226", c="\x41\101"}`)).toEqual([
      '世',
      '世',
      'AA',
    ]);
  });

  it('rejects escapes Go rejects', () => {
    for (const bad of [
      String.raw`{a="\q"}`,
      String.raw`{a="\'"}`,
      String.raw`{a='\"'}`,
      String.raw`{a="\x4"}`,
      String.raw`{a="\400"}`,
      String.raw`{a="\ud800"}`,
      String.raw`{a="\U00110000"}`,
      String.raw`{a="\xff"}`,
    ]) {
      expect(() => parseSelector(bad), bad).toThrow(SelectorError);
    }
    expect(errorOf(String.raw`{a="x\qy"}`).message).toBe(
      String.raw`invalid escape sequence '\q' at position 5`,
    );
  });

  it('parses a metric name with colons into a __name__ matcher', () => {
    const id = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
    expect(plain(parseSelector(`${id}{service_name="x"}`))).toEqual([
      { name: '__name__', op: '=', value: id },
      { name: 'service_name', op: '=', value: 'x' },
    ]);
    expect(plain(parseSelector(id))).toEqual([{ name: '__name__', op: '=', value: id }]);
  });

  it('accepts quoted label names', () => {
    expect(plain(parseSelector('{"otel.scope.name"="x"}'))).toEqual([
      { name: 'otel.scope.name', op: '=', value: 'x' },
    ]);
  });

  it('reports the position of errors', () => {
    const cases: [string, string, number][] = [
      ['{a="x", b!="y"}}', "unexpected character '}' at position 15: expected end of input", 15],
      ['{a="x", b!=}', "unexpected character '}' at position 11: expected label value", 11],
      ['{a="x" b="y"}', "unexpected character 'b' at position 7: expected ',' or '}'", 7],
      ['{a~"x"}', "unexpected character '~' at position 2: expected '=', '!=', '=~' or '!~'", 2],
      ['{1a="x"}', "unexpected character '1' at position 1: expected label name", 1],
      ['{a="x', 'unexpected end of input at position 5: expected closing quote "', 5],
      ['{a="x\ny"}', String.raw`unexpected character '\n' at position 5: expected closing quote "`, 5],
      ['{a=`x}', 'unexpected end of input at position 6: expected closing quote `', 6],
      ['', "unexpected end of input at position 0: expected '{'", 0],
      ['foo bar', "unexpected character 'b' at position 4: expected '{'", 4],
      ['{a=~"(x"}', 'invalid regular expression "(x" at position 4: Unterminated group', 4],
    ];
    for (const [input, message, position] of cases) {
      const err = errorOf(input);
      expect(err.message, input).toBe(message);
      expect(err.position, input).toBe(position);
    }
  });

  it('rejects a metric name given twice', () => {
    expect(() => parseSelector('cpu{__name__="mem"}')).toThrow(/metric name set twice/);
  });
});

describe('parseQuery', () => {
  it('returns the metric separately', () => {
    const query = parseQuery(
      'process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="x", env=~"prod|stg"}',
    );
    expect(query.metric).toBe('process_cpu:cpu:nanoseconds:cpu:nanoseconds');
    expect(plain(query.matchers)).toEqual([
      { name: 'service_name', op: '=', value: 'x' },
      { name: 'env', op: '=~', value: 'prod|stg' },
    ]);
    expect(parseQuery('{}')).toEqual({ matchers: [] });
  });

  it('accepts OG FlameQL app names', () => {
    expect(parseQuery('my-app.cpu{env="prod"}').metric).toBe('my-app.cpu');
  });
});

describe('formatSelector', () => {
  it('formats matchers and queries', () => {
    const matchers = [
      createMatcher('a', '=', 'x"y'),
      createMatcher('b', '!~', 'a|b'),
      createMatcher('c.d', '!=', ''),
    ];
    expect(formatSelector(matchers)).toBe(String.raw`{a="x\"y",b!~"a|b","c.d"!=""}`);
    expect(formatSelector([])).toBe('{}');
    expect(formatQuery({ metric: 'process_cpu:cpu:nanoseconds:cpu:nanoseconds', matchers: [] })).toBe(
      'process_cpu:cpu:nanoseconds:cpu:nanoseconds{}',
    );
  });

  it('round-trips any label names and values', () => {
    const matcher = fc.record({
      name: fc.oneof(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]*$/), fc.string({ unit: 'grapheme' })),
      op: fc.constantFrom('=' as const, '!=' as const),
      value: fc.string({ unit: 'grapheme' }),
    });
    fc.assert(
      fc.property(fc.array(matcher, { maxLength: 5 }), (matchers) => {
        expect(plain(parseSelector(formatSelector(matchers)))).toEqual(matchers);
      }),
    );
  });
});
