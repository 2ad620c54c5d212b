/** `/ingest` query parameters: the `name` parser (`app{k=v}`) and the `from`/`until` time parser. */
import fc from 'fast-check';
import { IngestError, parseAppName, parseTime } from '../../packages/ingest/src/index.js';
import { fuzzTarget, invariant, outcome, scaled, textCodec, UndocumentedError } from './harness.js';
import { mutants, TEXT_TOKENS, textTokens } from './mutate.js';
import { NOW_MS } from './oracles.js';
import { recordedIngests } from './seeds.js';

const stringMutants = (seeds: string[], tokens: readonly Uint8Array[]) =>
  mutants(
    seeds.map((s) => Buffer.from(s)),
    { dictionary: tokens, maxRepeat: scaled(64, 4096), maxRun: scaled(2048, 100_000) },
  ).map((b) => Buffer.from(b).toString('utf8'));

// ---------------------------------------------------------------------------------------------------------
// parseAppName

const APP_NAME = /^[A-Za-z0-9_.\-/]+$/;
const LABEL_KEY = /^[A-Za-z0-9_.]+$/;

function checkAppName(name: string): void {
  const result = outcome(
    () => parseAppName(name),
    IngestError,
    (e) =>
      invariant(
        e.status === 400 && e.reason === 'bad_name' && e.message !== '',
        `expected 400 bad_name, got ${e.status} ${e.reason}`,
      ),
  );
  if (!result.ok) return;
  const { appName, labels } = result.value;
  invariant(APP_NAME.test(appName), `app name ${JSON.stringify(appName)} has a disallowed character`);
  const keys = new Set<string>();
  for (const { name: key, value } of labels) {
    invariant(LABEL_KEY.test(key) && key !== '__name__', `label key ${JSON.stringify(key)}`);
    invariant(!keys.has(key), `label key ${key} twice`);
    keys.add(key);
    invariant(
      value === value.trim() && !value.includes(',') && !value.includes('}'),
      `label value ${JSON.stringify(value)}`,
    );
  }
  // Written back as `app{k=v,...}`, it parses to the same name and labels.
  const written = `${appName}{${labels.map((l) => `${l.name}=${l.value}`).join(',')}}`;
  const again = parseAppName(written);
  invariant(
    JSON.stringify(again) === JSON.stringify(result.value),
    `${JSON.stringify(written)} parses differently`,
  );
}

const keyLike = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_. ]{0,8}$/),
  fc.constantFrom('__name__', 'service_name', '', ' ', 'a-b', '\u00e9', 'a=b', '{'),
);
const structuredName = fc
  .record({
    app: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_.\-/ ]{0,12}$/), fc.constantFrom('', ' ', 'app!', '\u00e9')),
    open: fc.constantFrom('{', '', '{{'),
    pairs: fc.array(fc.tuple(keyLike, fc.constantFrom('=', '', '=='), fc.string({ maxLength: 10 })), {
      maxLength: 5,
    }),
    separator: fc.constantFrom(',', ', ', ',,'),
    close: fc.constantFrom('}', '', '}}x', ',', '},a=b'),
  })
  .map(
    ({ app, open, pairs, separator, close }) =>
      `${app}${open}${pairs.map((p) => p.join('')).join(separator)}${close}`,
  );
const recordedNames = recordedIngests().map((r) => new URLSearchParams(r.query).get('name') ?? '');

fuzzTarget({
  name: 'app-name',
  codec: textCodec,
  check: checkAppName,
  properties: [
    { name: 'arbitrary strings', arbitrary: fc.string({ unit: 'binary', maxLength: 60 }), runs: 200 },
    { name: 'structured names', arbitrary: structuredName, runs: 300 },
    {
      name: 'mutations of recorded and structured names',
      arbitrary: fc.oneof(
        stringMutants(recordedNames, [...TEXT_TOKENS, ...textTokens('__name__=', 'service_name=x', '{}')]),
        structuredName.chain((n) => stringMutants([n], TEXT_TOKENS)),
      ),
      runs: 200,
    },
  ],
});

// ---------------------------------------------------------------------------------------------------------
// parseTime

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Documented to never throw: unparseable input means now. */
function checkTime(value: string): void {
  let nanos: bigint;
  try {
    nanos = parseTime(value, NOW_MS);
  } catch (error) {
    throw new UndocumentedError(`parseTime threw for ${JSON.stringify(value.slice(0, 80))}`, {
      cause: error,
    });
  }
  invariant(typeof nanos === 'bigint' && nanos >= INT64_MIN && nanos <= INT64_MAX, `${nanos} outside int64`);
  invariant(parseTime(value, NOW_MS) === nanos, 'parseTime is not deterministic');
}

const UNITS = ['s', 'm', 'min', 'h', 'd', 'w', 'M', 'mon', 'y', '', 'ms', 'x', 'h30m', 'sec', 'hours'];
const structuredTime = fc.oneof(
  fc
    .record({
      reference: fc.constantFrom('now', '', 'today', 'x', 'now ', '1795702181'),
      sign: fc.constantFrom('-', '+', '', '+-', '--', '-+'),
      amount: fc.oneof(fc.stringMatching(/^\d{0,4}$/), fc.stringMatching(/^\d{15,40}$/)),
      unit: fc.constantFrom(...UNITS),
    })
    .map(({ reference, sign, amount, unit }) => `${reference}${sign}${amount}${unit}`),
  fc.oneof(
    fc.stringMatching(/^\d{1,25}$/),
    fc.constantFrom('20260229', '20250229', '19000101', '00000000', '99991231'),
  ),
  fc
    .tuple(fc.bigInt({ min: 0n, max: 10n ** 22n }), fc.constantFrom('_', ',', ' '))
    .map(([n, separator]) => n.toLocaleString('en-US').replace(/,/g, separator)),
);

fuzzTarget({
  name: 'time',
  codec: textCodec,
  check: checkTime,
  properties: [
    { name: 'arbitrary strings', arbitrary: fc.string({ unit: 'binary', maxLength: 40 }), runs: 200 },
    { name: 'structured times', arbitrary: structuredTime, runs: 300 },
    {
      name: 'mutations of structured times',
      arbitrary: structuredTime.chain((t) =>
        stringMutants([t], [...TEXT_TOKENS, ...textTokens('now', '-', '+', '_', '9'.repeat(30))]),
      ),
      runs: 200,
    },
  ],
});
