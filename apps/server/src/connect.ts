import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import {
  create,
  type DescMessage,
  type DescMethod,
  type DescService,
  fromBinary,
  fromJson,
  type MessageInitShape,
  type MessageShape,
  toBinary,
  toJson,
} from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import { ApiError } from '@emberscope/api';
import { StorageLimitError } from '@emberscope/storage';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Access } from './auth/index.js';
import { decodeContentEncoding } from './body.js';
import { lowDiskError } from './disk-guard.js';

const gzipAsync = promisify(gzip);

export interface CallContext {
  request: FastifyRequest;
}

// biome-ignore lint/suspicious/noExplicitAny: handlers are typed per method by `ServiceImpl`.
type AnyHandler = (req: any, ctx: CallContext) => Promise<any>;

/** Handlers of a service's methods, keyed by the method's local name (e.g. `selectMergeStacktraces`). */
export type ServiceImpl<S> =
  S extends GenService<infer Methods extends GenServiceMethods>
    ? {
        [K in keyof Methods]?: (
          req: MessageShape<Methods[K]['input']>,
          ctx: CallContext,
        ) => Promise<MessageInitShape<Methods[K]['output']>>;
      }
    : never;

export interface ConnectOptions {
  maxDecompressedBytes: number;
  onError(route: string, err: ApiError): void;
}

/**
 * Serves a protobuf service over the Connect protocol's unary mode: POST /<service>/<Method> with
 * `application/proto` or `application/json` bodies, optional gzip on request and response, and errors
 * as `{"code","message"}` JSON with the HTTP status of the code.
 */
export function registerConnectService<S extends DescService & GenService<GenServiceMethods>>(
  app: FastifyInstance,
  service: S,
  impl: ServiceImpl<S>,
  opts: ConnectOptions,
  access: Access,
): void {
  for (const method of service.methods) {
    const handler = (impl as Record<string, AnyHandler | undefined>)[method.localName];
    const path = `/${service.typeName}/${method.name}`;
    app.post(path, { config: { access } }, async (request, reply) => {
      try {
        if (!handler)
          throw new ApiError('unimplemented', `${service.typeName}.${method.name} is not implemented yet`);
        const { json, input } = await decodeInput(method, request, opts.maxDecompressedBytes);
        const output = await handler(input, { request });
        await sendOutput(method.output, output, json, request, reply);
      } catch (err) {
        sendConnectError(reply, path, err, opts);
      }
    });
  }
}

async function decodeInput(method: DescMethod, request: FastifyRequest, maxBytes: number) {
  const contentType = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  const json = contentType === 'application/json';
  if (!json && contentType !== 'application/proto')
    throw new ApiError(
      'unimplemented',
      `unsupported Content-Type "${contentType}": use application/proto or application/json (Connect unary)`,
      'bad_content_type',
      415,
    );
  const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  const body = await decodeContentEncoding(raw, request.headers['content-encoding'], maxBytes);
  try {
    if (!json) return { json, input: fromBinary(method.input, body) };
    const text = body.toString('utf8');
    return {
      json,
      input: fromJson(method.input, text.trim() === '' ? {} : JSON.parse(text), {
        ignoreUnknownFields: true,
      }),
    };
  } catch (err) {
    throw new ApiError(
      'invalid_argument',
      `cannot decode ${method.input.typeName}: ${(err as Error).message}`,
      'bad_message',
    );
  }
}

async function sendOutput(
  schema: DescMessage,
  output: object,
  json: boolean,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const message = create(schema, output as MessageInitShape<DescMessage>);
  let body: Buffer = json
    ? Buffer.from(JSON.stringify(toJson(schema, message)))
    : Buffer.from(toBinary(schema, message));
  reply.header('content-type', json ? 'application/json' : 'application/proto');
  if (body.length > 1024 && /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))) {
    body = await gzipAsync(body, { level: 1 });
    reply.header('content-encoding', 'gzip');
  }
  await reply.code(200).send(body);
}

export function sendConnectError(
  reply: FastifyReply,
  route: string,
  err: unknown,
  opts: Pick<ConnectOptions, 'onError'>,
) {
  const apiError = toApiError(err);
  opts.onError(route, apiError);
  const retryAfter = (apiError as { retryAfterS?: number }).retryAfterS;
  if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
  if (apiError.status === 401) reply.header('www-authenticate', 'Bearer realm="emberscope"');
  void reply
    .code(apiError.status)
    .header('content-type', 'application/json')
    .send(JSON.stringify({ code: apiError.code, message: apiError.message }));
}

/** Errors that carry an HTTP status (ApiError, the ingest and storage errors) pass through; anything else is internal. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof StorageLimitError) return new ApiError('resource_exhausted', err.message, err.reason);
  const e = err as { status?: number; code?: string; reason?: string; message?: string; statusCode?: number };
  if (typeof e?.status === 'number' && typeof e.code === 'string' && typeof e.message === 'string') {
    const apiError = new ApiError(e.code as ApiError['code'], e.message, e.reason ?? e.code, e.status);
    return Object.assign(apiError, { retryAfterS: (err as { retryAfterS?: number }).retryAfterS });
  }
  // The disk filled up between two free-space checks (a WAL or block write failed): as refused as by them.
  if (e?.code === 'ENOSPC' || e?.code === 'EDQUOT')
    return lowDiskError(`the data directory's filesystem is full (a write failed with ${e.code})`);
  if (e?.statusCode === 413)
    return new ApiError('resource_exhausted', e.message ?? 'request body too large', 'too_large', 413);
  // Fastify's own client errors, raised before a route runs (an empty or malformed Content-Type is 415).
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    const code = e.statusCode === 415 ? 'unimplemented' : 'invalid_argument';
    const reason = e.statusCode === 415 ? 'bad_content_type' : 'bad_request';
    return new ApiError(code, e.message ?? 'bad request', reason, e.statusCode);
  }
  return Object.assign(new ApiError('internal', 'internal error', 'internal'), { cause: err });
}
