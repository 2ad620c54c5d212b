import { ApiError } from '@emberscope/api';
import Fastify from 'fastify';
import { describe, expect, test } from 'vitest';
import { sendConnectError, toApiError } from '../src/connect.js';

// Found by the Connect fuzz target (test/fuzz/regressions/connect-push, connect-querier): an empty or
// malformed Content-Type header made Fastify raise a 415 before any route ran, and toApiError turned it
// into a 500 "internal error" (logged as a server failure) on every POST route.
describe('toApiError: client errors Fastify raises before a route runs stay client errors', () => {
  test('a Fastify 415 becomes Connect unimplemented with status 415', () => {
    const fastifyError = Object.assign(new Error('Unsupported Media Type'), {
      code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
      statusCode: 415,
    });
    const error = toApiError(fastifyError);
    expect(error).toBeInstanceOf(ApiError);
    expect({ code: error.code, status: error.status, reason: error.reason }).toEqual({
      code: 'unimplemented',
      status: 415,
      reason: 'bad_content_type',
    });
  });

  test('other 4xx are invalid_argument with their status; 413 and non-client errors are unchanged', () => {
    const badRequest = toApiError(Object.assign(new Error('bad length'), { statusCode: 400 }));
    expect({ code: badRequest.code, status: badRequest.status }).toEqual({
      code: 'invalid_argument',
      status: 400,
    });
    const tooLarge = toApiError(Object.assign(new Error('too big'), { statusCode: 413 }));
    expect({ code: tooLarge.code, status: tooLarge.status, reason: tooLarge.reason }).toEqual({
      code: 'resource_exhausted',
      status: 413,
      reason: 'too_large',
    });
    const internal = toApiError(Object.assign(new Error('boom'), { statusCode: 503 }));
    expect({ code: internal.code, status: internal.status }).toEqual({ code: 'internal', status: 500 });
  });

  test('a write that failed because the disk is full is a 507 low_disk with Retry-After, not a 500', () => {
    for (const code of ['ENOSPC', 'EDQUOT']) {
      const full = toApiError(Object.assign(new Error(`${code}: no space left on device, write`), { code }));
      expect({ code: full.code, status: full.status, reason: full.reason }).toEqual({
        code: 'resource_exhausted',
        status: 507,
        reason: 'low_disk',
      });
      expect(full.message).toBe(
        `the data directory's filesystem is full (a write failed with ${code}); writes are refused until space is freed, reads keep working`,
      );
      expect((full as { retryAfterS?: number }).retryAfterS).toBe(60);
    }
  });

  test.each([[''], [';'], ['/']])(
    'a POST with Content-Type %j is answered 415 in Connect JSON',
    async (contentType) => {
      const app = Fastify();
      // As server.ts sets it up: raw bodies, and errors raised before a route are sent by sendConnectError.
      app.removeAllContentTypeParsers();
      app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
      const errors: ApiError[] = [];
      app.setErrorHandler((error, request, reply) =>
        sendConnectError(reply, request.url, error, { onError: (_route, e) => errors.push(e) }),
      );
      app.post('/push.v1.PusherService/Push', async () => ({}));
      const res = await app.inject({
        method: 'POST',
        url: '/push.v1.PusherService/Push',
        headers: { 'content-type': contentType },
        payload: 'x',
      });
      expect(res.statusCode).toBe(415);
      expect(res.json()).toEqual({ code: 'unimplemented', message: expect.any(String) });
      expect(errors.map((e) => e.status)).toEqual([415]);
      await app.close();
    },
  );
});
