import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { buildInfo } from '../version.js';

/** Health, build information and metrics. */
export function registerStatusRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/ready', async (_request, reply) => {
    if (ctx.state !== 'ready') return reply.code(503).type('text/plain').send(`not ready: ${ctx.state}\n`);
    return reply.type('text/plain').send('ready\n');
  });

  app.get('/api/v1/status/buildinfo', async () => ({ status: 'success', data: buildInfo }));

  app.get('/metrics', async (_request, reply) => {
    const text = await ctx.metrics.registry.metrics();
    return reply.type(ctx.metrics.registry.contentType).send(text);
  });
}
