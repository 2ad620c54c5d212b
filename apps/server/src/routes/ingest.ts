import { PusherService } from '@emberscope/api';
import { applyPushDeltas } from '@emberscope/ingest';
import type { FastifyInstance } from 'fastify';
import { decodeContentEncoding } from '../body.js';
import { registerConnectService, sendConnectError } from '../connect.js';
import type { ServerContext } from '../context.js';

/** The write path: Pyroscope's legacy `/ingest` and the Connect Push API, both into the same pipeline. */
export function registerIngestRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { config, storage } = ctx;

  for (const route of ['/ingest', '/pyroscope/ingest']) {
    app.post(route, { config: { access: 'ingest' } }, async (request, reply) => {
      try {
        const tenant = ctx.tenantOf(request);
        await ctx.shedding.admitWrite();
        const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        ctx.rateLimiter.take(tenant, raw.length);
        const body = await decodeContentEncoding(
          raw,
          request.headers['content-encoding'],
          config.max_profile_size,
        );
        const profiles = await ctx.decoders.run('ingestLegacy', {
          query: request.url.slice(request.url.indexOf('?') + 1 || request.url.length),
          contentType: request.headers['content-type'] ?? '',
          body,
          ctx: ctx.decodeContext(tenant),
        });
        await storage.append(profiles);
        ctx.countIngested(tenant, 'ingest', raw.length, profiles);
        await reply.code(200).send();
      } catch (err) {
        sendConnectError(reply, route, err, ctx.connectOptions);
      }
    });
  }

  registerConnectService(
    app,
    PusherService,
    {
      async push(req, { request }) {
        const tenant = ctx.tenantOf(request);
        await ctx.shedding.admitWrite();
        const bytes = Buffer.isBuffer(request.body) ? request.body.length : 0;
        ctx.rateLimiter.take(tenant, bytes);
        const decoded = await ctx.decoders.run('decodePush', {
          series: req.series.map((s) => ({
            labels: s.labels.map((l) => ({ name: l.name, value: l.value })),
            samples: s.samples.map((x) => ({ rawProfile: x.rawProfile, id: x.ID })),
          })),
          ctx: ctx.decodeContext(tenant),
        });
        const profiles = applyPushDeltas(decoded, ctx.deltas);
        await storage.append(profiles);
        ctx.countIngested(tenant, 'push', bytes, profiles);
        return {};
      },
    },
    ctx.connectOptions,
    'ingest',
  );
}
