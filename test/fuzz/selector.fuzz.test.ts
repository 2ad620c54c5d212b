/** Label selectors and queries (`metric{a="x", b=~"re"}`) as the query APIs parse them. */
import fc from 'fast-check';
import {
  formatQuery,
  parseQuery,
  parseSelector,
  type Query,
  SelectorError,
} from '../../packages/model/src/index.js';
import { fuzzTarget, invariant, outcome, scaled, textCodec } from './harness.js';
import { mutants, TEXT_TOKENS, textTokens } from './mutate.js';

const comparable = (q: Query) =>
  JSON.stringify([q.metric ?? null, q.matchers.map((m) => [m.name, m.op, m.value, m.re === undefined])]);

function checkSelector(input: string): void {
  const result = outcome(
    () => parseQuery(input),
    SelectorError,
    (e) =>
      invariant(
        Number.isInteger(e.position) && e.position >= 0 && e.position <= input.length && e.message !== '',
        `SelectorError position ${e.position} outside the input (length ${input.length})`,
      ),
  );
  const selector = outcome(() => parseSelector(input), SelectorError);
  invariant(result.ok === selector.ok, 'parseQuery and parseSelector disagree on whether the input is valid');
  if (!result.ok || !selector.ok) return;
  const query = result.value;
  for (const m of query.matchers) {
    // A quoted name may be empty (`{""="x"}`): formatSelector round-trips any name, by design.
    invariant((m.op === '=~' || m.op === '!~') === (m.re !== undefined), `matcher ${m.op} without its regex`);
    // V8 compiles a regex on first use; that must not fail for a regex the parser accepted.
    m.re?.test('');
  }
  const matchers = selector.value;
  const expected = query.metric === undefined ? query.matchers.length : query.matchers.length + 1;
  invariant(matchers.length === expected, 'parseSelector does not add exactly the metric matcher');
  if (query.metric !== undefined) {
    invariant(matchers[0].name === '__name__' && matchers[0].value === query.metric, 'metric matcher');
  }
  // formatQuery is documented as the inverse of parseQuery.
  const formatted = formatQuery(query);
  const again = outcome(() => parseQuery(formatted), SelectorError);
  invariant(again.ok, () => `formatQuery output ${JSON.stringify(formatted)} does not parse`);
  invariant(
    comparable(again.value) === comparable(query),
    () => `${JSON.stringify(formatted)} parses differently`,
  );
}

const labelName = fc.oneof(
  fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/),
  fc.constantFrom('__name__', 'service_name', '1a', ''),
  fc.string({ maxLength: 6 }).map((s) => JSON.stringify(s)),
  fc.constantFrom('"otel.scope.name"', "'a.b'", '`x`'),
);
const escapes = [
  '\\n',
  '\\"',
  "\\'",
  '\\\\',
  '\\x41',
  '\\xff',
  '\\377',
  '\\400',
  '\\u00e9',
  '\\ud800',
  '\\U0001F525',
  '\\U00110000',
  '\\q',
  '\\',
];
const quotedValue = fc.oneof(
  fc.string({ maxLength: 10 }).map((s) => JSON.stringify(s)),
  fc
    .array(fc.oneof(fc.stringMatching(/^[a-z.*+?()|[\]^$]{0,4}$/), fc.constantFrom(...escapes)), {
      maxLength: 5,
    })
    .map((parts) => `"${parts.join('')}"`),
  fc.stringMatching(/^[a-z.*"\\]{0,6}$/).map((s) => `'${s}'`),
  fc.string({ maxLength: 8 }).map((s) => `\`${s}\``),
  fc.constantFrom('"(?i)prod"', '"(a|b"', '"[z-a]"', '"a{2,1}"', '"\\\\p{L}"', '"(?P<x>a)"', '"(?s:.)"'),
);
const matcher = fc
  .tuple(
    labelName,
    fc.constantFrom('=', '!=', '=~', '!~', '==', ''),
    fc.constantFrom('', ' ', '\t\n'),
    quotedValue,
  )
  .map(([name, op, space, value]) => `${name}${space}${op}${space}${value}`);
const structuredSelector = fc
  .record({
    metric: fc.oneof(
      fc.constant(''),
      fc.constantFrom('process_cpu:cpu:nanoseconds:cpu:nanoseconds', 'my-app.cpu', 'a/b', 'x:', '9'),
    ),
    open: fc.constantFrom('{', '', ' {'),
    matchers: fc.array(matcher, { maxLength: 4 }),
    separator: fc.constantFrom(',', ' , ', ',,'),
    close: fc.constantFrom('}', '', ',}', '} x', '}}'),
  })
  .map(
    ({ metric, open, matchers, separator, close }) => `${metric}${open}${matchers.join(separator)}${close}`,
  );
const SELECTOR_TOKENS = [
  ...TEXT_TOKENS,
  ...textTokens(
    '=~',
    '!~',
    '!=',
    '"',
    "'",
    '`',
    '\\x',
    '\\u',
    '\\U',
    '(',
    ')',
    '[',
    '*',
    '+',
    '{',
    '}',
    '__name__="x"',
  ),
];

fuzzTarget({
  name: 'selector',
  codec: textCodec,
  check: checkSelector,
  properties: [
    { name: 'arbitrary strings', arbitrary: fc.string({ unit: 'binary', maxLength: 60 }), runs: 200 },
    { name: 'structured selectors', arbitrary: structuredSelector, runs: 300 },
    {
      name: 'mutations of structured selectors, deep regexes',
      arbitrary: fc.oneof(
        structuredSelector.chain((s) =>
          mutants([Buffer.from(s)], {
            dictionary: SELECTOR_TOKENS,
            maxRepeat: scaled(64, 4096),
            maxRun: scaled(2048, 200_000),
          }).map((b) => Buffer.from(b).toString('utf8')),
        ),
        fc
          .integer({ min: 1, max: scaled(300, 200_000) })
          .map((n) => `{a=~"${'('.repeat(n)}x${')'.repeat(n)}"}`),
      ),
      runs: 200,
    },
  ],
});
