/**
 * Connect unary requests, decoded by the server's own path: `registerConnectService` of
 * apps/server/src/connect.ts on a Fastify instance with the server's raw-body parser, driven by
 * `inject`. Push requests go on into ingestPush (mapped as routes/ingest.ts maps them); querier requests
 * stop at the decoded message. A request either decodes (and the message survives a round trip through
 * its own encoding) or is answered with a 4xx Connect error; never a 500, and never a decode error whose
 * message betrays a JavaScript bug.
 */
import { gzipSync } from 'node:zlib';
import {
  type DescField,
  type DescMessage,
  type DescMethod,
  fromBinary,
  fromJson,
  type JsonValue,
  type Message,
  ScalarType,
  toBinary,
  toJson,
} from '@bufbuild/protobuf';
import { type ApiError, PusherService, PushRequestSchema, QuerierService } from '@emberscope/api';
import fc from 'fast-check';
import Fastify from 'fastify';
import { afterAll } from 'vitest';
import {
  type ConnectOptions,
  registerConnectService,
  type ServiceImpl,
  sendConnectError,
} from '../../apps/server/src/connect.js';
import { ingestPush } from '../../packages/ingest/src/index.js';
import { fuzzTarget, type Headed, headedCodec, invariant, UndocumentedError } from './harness.js';
import { mutants, PROTOBUF_TOKENS, textTokens } from './mutate.js';
import { checkIngested, ingestContext } from './oracles.js';
import { arbClientPprof, pprofFixtures } from './seeds.js';

type ConnectInput = Headed<'path' | 'contentType' | 'encoding'>;

/** What the last request left behind: the decoded message, or the error the server answered with. */
let captured: { input?: Message; error?: ApiError } = {};

const app = Fastify({ bodyLimit: 16 * 1024 * 1024 });
const connectOptions: ConnectOptions = {
  maxDecompressedBytes: 1024 * 1024,
  onError(_route, error) {
    captured.error = error;
  },
};
// As in server.ts: every route reads the raw body, and errors Fastify raises before a route runs are
// answered by sendConnectError.
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
app.setErrorHandler((error, request, reply) =>
  sendConnectError(reply, request.routeOptions.url ?? request.url, error, connectOptions),
);
registerConnectService(
  app,
  PusherService,
  {
    async push(req) {
      captured.input = req;
      const ctx = ingestContext();
      const profiles = ingestPush(
        req.series.map((s) => ({
          labels: s.labels.map((l) => ({ name: l.name, value: l.value })),
          samples: s.samples.map((x) => ({ rawProfile: x.rawProfile, id: x.ID })),
        })),
        ctx,
      );
      for (const profile of profiles) checkIngested(profile, ctx);
      return {};
    },
  },
  connectOptions,
  'ingest',
);
const querierImpl = Object.fromEntries(
  QuerierService.methods.map((method) => [
    method.localName,
    async (req: Message) => {
      captured.input = req;
      return {};
    },
  ]),
) as ServiceImpl<typeof QuerierService>;
registerConnectService(app, QuerierService, querierImpl, connectOptions, 'read');
afterAll(() => app.close());

const methods = new Map<string, DescMethod>(
  [...PusherService.methods, ...QuerierService.methods].map((m) => [`${m.parent.typeName}/${m.name}`, m]),
);

/** Messages of errors that escaped from JavaScript itself rather than from the protobuf decoder. */
const JS_BUG =
  /Maximum call stack|is not a function|Cannot read propert|Cannot convert|undefined is not|is not iterable|Invalid array length/;
const DECODE_REASONS = new Set(['bad_message', 'bad_gzip', 'too_large', 'bad_content_type', 'bad_encoding']);

async function checkConnect(input: ConnectInput): Promise<void> {
  captured = {};
  const method = methods.get(input.path);
  const response = await app.inject({
    method: 'POST',
    url: `/${input.path}`,
    headers: {
      'content-type': input.contentType,
      ...(input.encoding && { 'content-encoding': input.encoding }),
    },
    payload: Buffer.from(input.body),
  });
  const { error } = captured;
  if (error?.code === 'internal' || response.statusCode >= 500) {
    const cause = (error as { cause?: unknown } | undefined)?.cause ?? error;
    throw new UndocumentedError(
      `${input.path} answered ${response.statusCode}: ${error?.message ?? response.body}`,
      { cause },
    );
  }
  if (response.statusCode !== 200) {
    invariant(error !== undefined, `status ${response.statusCode} without a Connect error`);
    invariant(
      response.statusCode === error.status,
      `status ${response.statusCode} for an error of status ${error.status}`,
    );
    const body = JSON.parse(response.body) as { code?: string; message?: string };
    invariant(body.code === error.code && typeof body.message === 'string', `error body ${response.body}`);
    invariant(!JS_BUG.test(error.message), () => `decode error betrays a JavaScript bug: ${error.message}`);
    invariant(
      error.status === 400 || DECODE_REASONS.has(error.reason),
      `unexpected ${error.status} ${error.reason}`,
    );
    return;
  }
  invariant(
    method !== undefined && captured.input !== undefined,
    `${input.path} answered 200 without decoding`,
  );
  // The decoded message survives a round trip through the encoding it came in (compared encoded, since
  // a NaN double is not equal to itself).
  const schema = method.input;
  const message = captured.input;
  const same =
    input.contentType === 'application/json'
      ? JSON.stringify(toJson(schema, fromJson(schema, toJson(schema, message)))) ===
        JSON.stringify(toJson(schema, message))
      : Buffer.from(toBinary(schema, fromBinary(schema, toBinary(schema, message)))).equals(
          toBinary(schema, message),
        );
  invariant(same, `${schema.typeName} does not survive a round trip`);
}

// ---------------------------------------------------------------------------------------------------------
// Schema-driven JSON: valid values for every field of a request, edge values, and junk.

const JUNK: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.constantFrom<JsonValue>(
    null,
    '',
    '1e999',
    -1,
    1.5,
    '0x10',
    'NaN',
    '18446744073709551616',
    [],
    {},
    true,
    '\u0000',
  ),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<JsonValue>,
);

function scalarJson(type: ScalarType): fc.Arbitrary<JsonValue> {
  switch (type) {
    case ScalarType.STRING:
      return fc.oneof(
        fc.string({ maxLength: 12 }),
        fc.constantFrom('{service_name="x"}', 'process_cpu:cpu:nanoseconds:cpu:nanoseconds', '{a=~"(b"}'),
      );
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.BYTES:
      return fc
        .tuple(
          fc.oneof(fc.uint8Array({ maxLength: 24 }), arbClientPprof),
          fc.constantFrom('base64', 'base64url'),
        )
        .map(([bytes, encoding]) => Buffer.from(bytes).toString(encoding));
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return fc.oneof(
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e-400'),
      );
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return fc.oneof(
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
        fc.integer(),
        fc.constantFrom('9223372036854775808', '-0', '1e3'),
      );
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String), fc.nat());
    default:
      return fc.oneof(fc.integer(), fc.constantFrom(2 ** 32, -(2 ** 31) - 1, '4294967296', 1e21));
  }
}

function fieldJson(field: DescField, depth: number): fc.Arbitrary<JsonValue> {
  const enumJson = (e: { values: { name: string; number: number }[] }) =>
    fc.oneof(
      fc.constantFrom(...e.values.map((v) => v.name)),
      fc.constantFrom(...e.values.map((v) => v.number)),
      fc.constantFrom('NOPE', 99),
    );
  const single = (): fc.Arbitrary<JsonValue> => {
    switch (field.fieldKind) {
      case 'scalar':
        return scalarJson(field.scalar);
      case 'enum':
        return enumJson(field.enum);
      case 'message':
        return depth > 3 ? fc.constant({}) : messageJson(field.message, depth + 1);
      case 'list':
        return fc.array(
          field.listKind === 'scalar'
            ? scalarJson(field.scalar)
            : field.listKind === 'enum'
              ? enumJson(field.enum)
              : depth > 3
                ? fc.constant({})
                : messageJson(field.message, depth + 1),
          { maxLength: 3 },
        );
      case 'map':
        return fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 2 });
    }
  };
  return fc.oneof({ weight: 8, arbitrary: single() }, { weight: 1, arbitrary: JUNK });
}

function messageJson(desc: DescMessage, depth = 0): fc.Arbitrary<Record<string, JsonValue>> {
  const entries = desc.fields.map((field) =>
    fc.option(fc.tuple(fc.constantFrom(field.jsonName, field.name), fieldJson(field, depth)), { freq: 3 }),
  );
  const extra = fc.option(fc.tuple(fc.constantFrom('unknownField', '__proto__', ''), JUNK), { freq: 5 });
  return fc.tuple(...entries, extra).map((pairs) => {
    const object: Record<string, JsonValue> = {};
    for (const pair of pairs)
      if (pair)
        Object.defineProperty(object, pair[0], {
          value: pair[1],
          enumerable: true,
          writable: true,
          configurable: true,
        });
    return object;
  });
}

/** A valid binary message of `desc`, from valid-looking JSON (junk that does not decode gives an empty one). */
function binaryOf(desc: DescMessage, json: JsonValue): Uint8Array {
  try {
    return toBinary(desc, fromJson(desc, json, { ignoreUnknownFields: true }));
  } catch {
    return new Uint8Array(0);
  }
}

const CONNECT_JSON_TOKENS = textTokens(
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '"',
  'null',
  '1e999',
  '"\\ud800"',
  '"series"',
  '"labels"',
  '"rawProfile"',
  '=',
);

function requestsOf(paths: string[], realPprof: boolean): fc.Arbitrary<ConnectInput> {
  const perMethod = paths.map((path) => {
    const desc = methods.get(path)!.input;
    const json = messageJson(desc);
    const jsonText = json.map((j) => JSON.stringify(j));
    const binary = json.map((j) => binaryOf(desc, j));
    const seedsBinary = realPprof
      ? [toBinary(PushRequestSchema, fromJson(PushRequestSchema, pushJsonOf(pprofFixtures()[1])))]
      : [];
    return fc.oneof(
      fc.record({
        path: fc.constant(path),
        contentType: fc.constant('application/json'),
        encoding: fc.constant(''),
        body: jsonText.map((t) => Buffer.from(t)),
      }),
      fc.record({
        path: fc.constant(path),
        contentType: fc.constant('application/json'),
        encoding: fc.constant(''),
        body: jsonText.chain((t) => mutants([Buffer.from(t)], { dictionary: CONNECT_JSON_TOKENS })),
      }),
      fc.record({
        path: fc.constant(path),
        contentType: fc.constant('application/proto'),
        encoding: fc.constant(''),
        body: binary,
      }),
      fc.record({
        path: fc.constant(path),
        contentType: fc.constant('application/proto'),
        encoding: fc.constantFrom('', 'gzip'),
        body: binary.chain((b) =>
          mutants([b, ...seedsBinary], { protobuf: true, dictionary: PROTOBUF_TOKENS }),
        ),
      }),
    );
  });
  const encoded = fc.oneof(...perMethod).chain((input) =>
    input.encoding === 'gzip'
      ? fc.oneof(
          fc.constant({ ...input, body: gzipSync(input.body) }),
          mutants([gzipSync(input.body)]).map((body) => ({ ...input, body })),
        )
      : fc.constant(input),
  );
  const arbitraryBytes = fc.record({
    path: fc.constantFrom(...paths),
    contentType: fc.constantFrom(
      'application/json',
      'application/proto',
      'application/json; charset=utf-8',
      'text/plain',
      '',
    ),
    encoding: fc.constantFrom('', 'gzip', 'br', 'identity'),
    body: fc.uint8Array({ maxLength: 120 }),
  });
  return fc.oneof({ weight: 5, arbitrary: encoded }, { weight: 1, arbitrary: arbitraryBytes });
}

function pushJsonOf(rawProfile: Uint8Array): JsonValue {
  return {
    series: [
      {
        labels: [
          { name: '__name__', value: 'memory' },
          { name: 'service_name', value: 'fuzz' },
        ],
        samples: [{ rawProfile: Buffer.from(rawProfile).toString('base64'), ID: '' }],
      },
    ],
  };
}

const pushPath = 'push.v1.PusherService/Push';
const querierPaths = QuerierService.methods.map((m) => `${m.parent.typeName}/${m.name}`);

fuzzTarget<ConnectInput>({
  name: 'connect-push',
  codec: headedCodec(['path', 'contentType', 'encoding']),
  async: true,
  check: checkConnect,
  properties: [
    { name: 'JSON and binary Push requests, mutated', arbitrary: requestsOf([pushPath], true), runs: 150 },
  ],
});

fuzzTarget<ConnectInput>({
  name: 'connect-querier',
  codec: headedCodec(['path', 'contentType', 'encoding']),
  async: true,
  check: checkConnect,
  properties: [
    {
      name: 'JSON and binary querier requests, mutated',
      arbitrary: requestsOf(querierPaths, false),
      runs: 200,
    },
  ],
});
