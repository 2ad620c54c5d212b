import { Transform } from 'node:stream';
import { ApiError } from '@emberscope/api';
import type { FastifyInstance } from 'fastify';
import { formatBytes } from './format-bytes.js';

/**
 * A server-wide budget for request bodies in memory. Every body is buffered whole before its route
 * parses it, so without a shared bound many concurrent uploads (each under `max_request_body`) could
 * exhaust the heap. A body is reserved from the budget before it is read (by its Content-Length) or
 * while it streams in (chunked), and released when its response is done.
 */
export class BodyBudget {
  private used = 0;

  /** `limitBytes` 0 means no limit (bytes are still counted, for the metric). */
  constructor(readonly limitBytes: number) {}

  get inUse(): number {
    return this.used;
  }

  tryReserve(bytes: number): boolean {
    if (this.limitBytes > 0 && this.used + bytes > this.limitBytes) return false;
    this.used += bytes;
    return true;
  }

  release(bytes: number): void {
    this.used -= bytes;
  }
}

export interface BodyBudgetOptions {
  /** `max_request_body`: a streamed body is cut with 413 above it, as Fastify does for declared lengths. */
  maxBodyBytes: number;
  /** Called with the reason of every refusal, for the metrics. */
  onRefused(reason: string): void;
}

/** Seconds a client is told to wait: bodies in flight are usually done within a second or two. */
const RETRY_AFTER_S = 1;

function overBudget(budget: BodyBudget, bytes: number): ApiError {
  return Object.assign(
    new ApiError(
      'unavailable',
      `the server is busy: ${formatBytes(budget.inUse)} of request bodies are in flight and ${formatBytes(bytes)} more would exceed max_inflight_body_bytes (${formatBytes(budget.limitBytes)}); retry in ${RETRY_AFTER_S}s`,
      'body_budget',
      503,
    ),
    { retryAfterS: RETRY_AFTER_S },
  );
}

/** Reserves every request body from `budget` before the content-type parser buffers it. */
export function registerBodyBudget(app: FastifyInstance, budget: BodyBudget, opts: BodyBudgetOptions): void {
  app.addHook('preParsing', async (request, reply, payload) => {
    if (request.method === 'GET' || request.method === 'HEAD') return payload;
    const declared = request.headers['content-length'];
    if (declared === undefined && request.headers['transfer-encoding'] === undefined) return payload;
    let held = 0;
    reply.raw.once('close', () => {
      budget.release(held);
      held = 0;
    });

    if (declared !== undefined) {
      const length = Number(declared);
      // Empty bodies need nothing; over max_request_body, Fastify answers 413 without reading.
      if (!(length > 0) || length > opts.maxBodyBytes) return payload;
      if (!budget.tryReserve(length)) {
        opts.onRefused('body_budget');
        throw overBudget(budget, length);
      }
      held = length;
      return payload;
    }

    // Chunked: no length up front, so count (and reserve) while the bytes arrive.
    const source = payload;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        let refusal: ApiError | undefined;
        if (held + chunk.length > opts.maxBodyBytes)
          refusal = new ApiError(
            'resource_exhausted',
            `request body exceeds max_request_body (${formatBytes(opts.maxBodyBytes)})`,
            'too_large',
            413,
          );
        else if (!budget.tryReserve(chunk.length)) {
          opts.onRefused('body_budget');
          refusal = overBudget(budget, chunk.length);
        }
        if (refusal) {
          // Stop buffering; the rest of the body is read and dropped (no memory) so the connection stays usable.
          source.unpipe(counted);
          source.resume();
          callback(refusal);
          return;
        }
        held += chunk.length;
        callback(null, chunk);
      },
    });
    source.on('error', (err) => counted.destroy(err));
    source.pipe(counted);
    return counted;
  });
}
