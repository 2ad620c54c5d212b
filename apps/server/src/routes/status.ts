import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { buildInfo } from '../version.js';

/** Health, build information and metrics. */
export function registerStatusRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/ready', { config: { access: 'public' } }, async (_request, reply) => {
    if (ctx.state !== 'ready') return reply.code(503).type('text/plain').send(`not ready: ${ctx.state}\n`);
    return reply.type('text/plain').send('ready\n');
  });

  app.get('/api/v1/status/buildinfo', { config: { access: 'public' } }, async () => ({
    status: 'success',
    data: buildInfo,
  }));

  // Storage report: data on disk, oldest and newest profile, blocks, retention effect. Tenant-scoped.
  app.get('/api/v1/status/storage', { config: { access: 'admin' } }, async (request) => {
    const tenant = ctx.tenantOf(request);
    const report = await ctx.storage.report();
    const own = report.tenants.find((t) => t.tenant === tenant);
    const { tenants: _all, totals, ...settings } = report;
    return ctx.config.multitenancy_enabled
      ? { ...settings, tenants: own ? [own] : [] }
      : { ...settings, totals, tenants: report.tenants };
  });

  app.get('/metrics', { config: { access: 'server-admin' } }, async (_request, reply) => {
    const text = await ctx.metrics.registry.metrics();
    return reply.type(ctx.metrics.registry.contentType).send(text);
  });
}
