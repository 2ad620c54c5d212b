// Found by the selector fuzz target in test/fuzz (inputs kept in test/fuzz/regressions/selector/).
import { describe, expect, test } from 'vitest';
import { anchored, parseSelector, SelectorError } from '../src/index.js';

const nested = (depth: number) => `${'('.repeat(depth)}x${')'.repeat(depth)}`;

describe('regex matchers nested too deeply are refused when parsed, not when used', () => {
  // V8 accepted `new RegExp` for ~10^4 nested groups but threw "SyntaxError: Stack overflow" compiling it
  // on first use, so such a selector passed validation and every query with it answered 500.
  test('more than 1000 nested groups is a SelectorError, as Go RE2 says', () => {
    const input = `{a=~"${nested(20_000)}"}`;
    expect(() => parseSelector(input)).toThrow(SelectorError);
    expect(() => parseSelector(input)).toThrow(
      /^invalid regular expression ".*" at position 4: expression nests too deeply$/,
    );
    expect(() => anchored(nested(1001))).toThrow(SyntaxError);
  });

  test('1000 nested groups, and parentheses that are escaped or in a class, are fine', () => {
    const [matcher] = parseSelector(`{a=~"${nested(1000)}"}`);
    expect(matcher.re?.test('x')).toBe(true);
    const flat = `${'\\('.repeat(2000)}[${'('.repeat(2000)}]`;
    expect(anchored(flat).test('('.repeat(2001))).toBe(true);
    expect(anchored('(?i)(a)').test('A')).toBe(true);
  });
});
