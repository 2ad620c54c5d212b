/**
 * `/ingest` requests: the multipart parser, the `sample_type_config` part, and the whole of ingestLegacy
 * (query parameters, format dispatch, every body format, normalization) with small limits.
 */
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { parseMultipartFiles } from '../../packages/ingest/src/formats/multipart.js';
import { ingestLegacy, selectLegacyFormat } from '../../packages/ingest/src/index.js';
import { parseSampleTypeConfigs } from '../../packages/ingest/src/sample-type-config.js';
import { isGzip } from '../../packages/pprof/src/index.js';
import { fuzzTarget, type Headed, headedCodec, invariant, outcome, scaled, textCodec } from './harness.js';
import { mutants, PROTOBUF_TOKENS, TEXT_TOKENS, textTokens } from './mutate.js';
import { checkFormatError, checkIngestError, checkIngested, IngestError, ingestContext } from './oracles.js';
import {
  arbChain,
  arbClientPprof,
  arbNodes,
  arbSamples,
  encodePreorder,
  foldedText,
  linesText,
  multipartBody,
  recordedIngests,
  SAMPLE_TYPE_CONFIG,
} from './seeds.js';

const recorded = recordedIngests();
const recordedMultipart = recorded.find((r) => r.contentType.startsWith('multipart/'))!;

/** Header-safe: the one-line fields of a request cannot hold line breaks. */
const oneLine = (s: string) => s.replace(/[\r\n]/g, '');

// ---------------------------------------------------------------------------------------------------------
// multipart

type MultipartInput = Headed<'contentType'>;

function escapeQuoted(value: string): string {
  return value.replace(/[\\"]/g, (c) => `\\${c}`);
}

function checkMultipart({ contentType, body }: MultipartInput): void {
  const result = outcome(() => parseMultipartFiles(contentType, body), IngestError, checkFormatError);
  if (!result.ok) return;
  const files = result.value;
  for (const [name, content] of files) {
    invariant(
      content.buffer === body.buffer &&
        content.byteOffset >= body.byteOffset &&
        content.byteOffset + content.length <= body.byteOffset + body.length,
      `part ${JSON.stringify(name)} is not a view into the body`,
    );
  }
  // The same files written as a new form parse to the same files.
  const all = Buffer.concat([...files].flatMap(([name, content]) => [Buffer.from(name), content]));
  let boundary = 'fuzz-boundary';
  while (all.includes(boundary)) boundary += 'x';
  const rebuilt = multipartBody(
    boundary,
    [...files].map(([name, content]) => ({ name: escapeQuoted(name), filename: 'f', content })),
  );
  const again = parseMultipartFiles(`multipart/form-data; boundary=${boundary}`, rebuilt);
  invariant(
    again.size === files.size &&
      [...files].every(([name, content]) => Buffer.from(content).equals(again.get(name) ?? Buffer.alloc(1))),
    'multipart: the files written as a new form parse differently',
  );
}

const boundaryLike = fc.oneof(
  fc.constantFrom('b', '----formdata-undici-033728650777', 'x y', 'a"b', '--', ''),
  fc.stringMatching(/^[-A-Za-z0-9'()+_,./:=? ]{1,20}$/),
);
const contentTypeOf = (boundary: string) =>
  fc
    .constantFrom(
      `multipart/form-data; boundary=${boundary}`,
      `multipart/form-data; boundary="${escapeQuoted(boundary)}"`,
      `Multipart/Form-Data;BOUNDARY = ${boundary} ; charset=utf-8`,
      'multipart/form-data',
      `multipart/form-data; boundary=${boundary}; boundary=other`,
    )
    .map(oneLine);
const partName = fc.oneof(
  fc.constantFrom('profile', 'sample_type_config', 'prev_profile', 'x', '', 'pro"file', 'a\\b', 'é'),
  fc.string({ maxLength: 8 }).map(oneLine),
);
const arbForm: fc.Arbitrary<MultipartInput> = fc
  .record({
    boundary: boundaryLike,
    parts: fc.array(
      fc.record({
        name: partName,
        filename: fc.option(fc.constantFrom('profile', 'f.pb.gz', ''), { nil: undefined }),
        content: fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.constant(SAMPLE_TYPE_CONFIG), arbClientPprof),
      }),
      { maxLength: 5 },
    ),
    eol: fc.constantFrom('\r\n', '\n'),
  })
  .chain(({ boundary, parts, eol }) =>
    contentTypeOf(boundary).map((contentType) => ({
      contentType,
      body: multipartBody(boundary, parts, eol),
    })),
  );
const MULTIPART_TOKENS = [
  ...TEXT_TOKENS,
  ...textTokens(
    '--',
    '\r\n--b',
    '\r\n\r\n',
    'Content-Disposition: form-data; name="profile"; filename="p"\r\n',
  ),
  ...textTokens("; filename*=utf-8''x", 'name=', '"', ' \t'),
];
const mutatedForm = (form: MultipartInput) =>
  mutants([form.body], { dictionary: MULTIPART_TOKENS, maxRepeat: scaled(80, 1000) }).map((body) => ({
    contentType: form.contentType,
    body,
  }));

fuzzTarget<MultipartInput>({
  name: 'multipart',
  codec: headedCodec(['contentType']),
  check: checkMultipart,
  properties: [
    {
      name: 'arbitrary content types and bodies',
      arbitrary: fc.record({
        contentType: fc.oneof(contentTypeOf('b'), fc.string({ maxLength: 60 }).map(oneLine)),
        body: fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc.stringMatching(/^[-\r\nb="; a-z:]{0,150}$/).map((s) => Buffer.from(s)),
        ),
      }),
      runs: 150,
    },
    { name: 'generated forms', arbitrary: arbForm, runs: 100 },
    {
      name: 'mutations of generated and recorded forms',
      arbitrary: fc.oneof(arbForm.chain(mutatedForm), mutatedForm(recordedMultipart)),
      runs: 150,
    },
  ],
});

// ---------------------------------------------------------------------------------------------------------
// sample_type_config

const CONFIG_FIELDS: Record<string, string> = {
  displayName: 'display-name',
  units: 'units',
  aggregation: 'aggregation',
  sampled: 'sampled',
  cumulative: 'cumulative',
};
const CONFIG_TYPES: Record<string, string> = {
  displayName: 'string',
  units: 'string',
  aggregation: 'string',
  sampled: 'boolean',
  cumulative: 'boolean',
};

function checkSampleTypeConfig(text: string): void {
  const result = outcome(() => parseSampleTypeConfigs(Buffer.from(text)), IngestError, checkFormatError);
  if (!result.ok) return;
  const configs = result.value;
  const json: Record<string, Record<string, unknown>> = {};
  for (const [sampleType, config] of configs) {
    for (const [field, value] of Object.entries(config)) {
      invariant(CONFIG_TYPES[field] === typeof value, `config field ${field} is a ${typeof value}`);
    }
    json[sampleType] = Object.fromEntries(Object.entries(config).map(([f, v]) => [CONFIG_FIELDS[f], v]));
  }
  // Written back as JSON, the configs parse to the same configs. (Object.fromEntries keeps "__proto__".)
  const written = JSON.stringify(Object.fromEntries([...configs].map(([k]) => [k, json[k]])));
  const again = parseSampleTypeConfigs(Buffer.from(written));
  invariant(
    JSON.stringify([...again]) === JSON.stringify([...configs]),
    'configs written back parse differently',
  );
}

const configValue = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.boolean(),
  fc.constant(null),
  fc.integer(),
  fc.jsonValue({ maxDepth: 2 }),
);
const arbConfigJson = fc
  .dictionary(
    fc.oneof(
      fc.constantFrom('cpu', 'alloc_space', '__proto__', 'constructor', '', '0', 'toString'),
      fc.string({ maxLength: 6 }),
    ),
    fc.oneof(
      fc.constant(null),
      fc.dictionary(fc.constantFrom(...Object.values(CONFIG_FIELDS), '__proto__', 'x'), configValue, {
        maxKeys: 6,
      }),
      configValue,
    ),
    { maxKeys: 5 },
  )
  .map((o) => JSON.stringify(o));
const JSON_TOKENS = textTokens(
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '"',
  'null',
  'true',
  '1e999',
  '"\\u0000"',
  '"__proto__"',
  '\\',
  '\uFEFF',
);

fuzzTarget({
  name: 'sample-type-config',
  codec: textCodec,
  check: checkSampleTypeConfig,
  properties: [
    {
      name: 'arbitrary JSON and strings',
      arbitrary: fc.oneof(fc.json({ maxDepth: 4 }), fc.string({ unit: 'binary', maxLength: 60 })),
      runs: 150,
    },
    { name: 'generated configs with wrong types', arbitrary: arbConfigJson, runs: 150 },
    {
      name: 'mutations of configs, deep nesting',
      arbitrary: fc.oneof(
        arbConfigJson.chain((json) =>
          mutants([Buffer.from(json), Buffer.from(SAMPLE_TYPE_CONFIG)], {
            dictionary: JSON_TOKENS,
            maxRepeat: scaled(200, 100_000),
          }).map((b) => Buffer.from(b).toString('utf8')),
        ),
        fc
          .integer({ min: 1, max: scaled(5000, 1_000_000) })
          .map((n) => `{"cpu":${'['.repeat(n)}${']'.repeat(n)}}`),
      ),
      runs: 150,
    },
  ],
});

// ---------------------------------------------------------------------------------------------------------
// ingestLegacy

type LegacyInput = Headed<'query' | 'contentType'>;

function checkLegacy({ query, contentType, body }: LegacyInput): void {
  const ctx = ingestContext();
  const params = new URLSearchParams(query);
  const result = outcome(
    () => ingestLegacy({ query: params, contentType, body }, ctx),
    IngestError,
    checkIngestError,
  );
  if (!result.ok) return;
  const format = selectLegacyFormat(params.get('format'), contentType);
  const text = format === 'folded' || format === 'lines' || format === 'tree' || format === 'trie';
  invariant(result.value.length <= 1, '/ingest stores at most one profile');
  for (const profile of result.value) checkIngested(profile, ctx, { positiveValues: text });
}

const arbQuery = fc
  .record({
    name: fc.oneof(
      fc.constantFrom(
        'app',
        'app.cpu',
        'my.app.alloc_space{a=b}',
        'svc.wall{service_name=x}',
        'x.unknown',
        'a{profile_id=1}',
      ),
      fc.string({ maxLength: 20 }),
    ),
    format: fc.option(
      fc.constantFrom('folded', 'lines', 'trie', 'tree', 'pprof', 'jfr', 'speedscope', 'other', ''),
      { nil: undefined },
    ),
    from: fc.option(fc.constantFrom('now-10s', '1795702181', '0', '99999999999999999999', 'x'), {
      nil: undefined,
    }),
    until: fc.option(fc.constantFrom('now', '1795702191', '-5', '20260101'), { nil: undefined }),
    sampleRate: fc.option(fc.constantFrom('100', '0', '17', '1000000000000', 'x', '3'), { nil: undefined }),
    spyName: fc.option(fc.constantFrom('gospy', ''), { nil: undefined }),
  })
  .map((q) =>
    new URLSearchParams(
      Object.entries(q).filter((e): e is [string, string] => e[1] !== undefined),
    ).toString(),
  );

const arbLegacyBody = fc.oneof(
  arbSamples.map((s) => Buffer.from(foldedText(s))),
  arbSamples.map((s) => Buffer.from(linesText(s))),
  fc.oneof(arbNodes, arbChain).map(encodePreorder),
  arbClientPprof,
  arbClientPprof.map((pprof) =>
    multipartBody('b', [
      { name: 'profile', filename: 'profile', content: pprof },
      { name: 'sample_type_config', filename: 'c', content: SAMPLE_TYPE_CONFIG },
    ]),
  ),
  fc.uint8Array({ maxLength: 100 }),
);
const arbLegacy: fc.Arbitrary<LegacyInput> = fc.record({
  query: arbQuery,
  contentType: fc.constantFrom(
    '',
    'multipart/form-data; boundary=b',
    'binary/octet-stream+trie',
    'binary/octet-stream+tree',
    'text/plain',
  ),
  body: arbLegacyBody,
});
const legacyMutants = (input: LegacyInput) =>
  mutants([input.body], {
    dictionary: [...TEXT_TOKENS, ...PROTOBUF_TOKENS],
    maxRepeat: scaled(64, 1024),
  }).map((body) => ({ ...input, body }));

fuzzTarget<LegacyInput>({
  name: 'ingest-legacy',
  codec: headedCodec(['query', 'contentType']),
  check: checkLegacy,
  properties: [
    { name: 'generated requests of every format', arbitrary: arbLegacy, runs: 200 },
    { name: 'mutations of generated requests', arbitrary: arbLegacy.chain(legacyMutants), runs: 200 },
    {
      name: 'mutations of the recorded client requests',
      arbitrary: fc.constantFrom(...recorded).chain((r) => {
        const input = { query: r.query, contentType: r.contentType, body: r.body };
        if (!isGzip(r.body)) return legacyMutants(input);
        // The recorded pprof bodies are gzipped: mutate the protobuf inside too, then send it raw.
        const inner = mutants([gunzipSync(r.body)], { protobuf: true, dictionary: PROTOBUF_TOKENS });
        return fc.oneof(
          legacyMutants(input),
          inner.map((body) => ({ ...input, body })),
        );
      }),
      runs: 60,
    },
  ],
});
