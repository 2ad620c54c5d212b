import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import type { ScrapeManager } from '../scrape/manager.js';

/**
 * `GET /api/v1/targets`: the pull-mode targets and their health, per profile type (last scrape time and
 * duration, last error, next scrape). Optional filters: `job`, `health` (up, down, unknown). Only the
 * targets whose job stores into the request's tenant are listed.
 */
export function registerTargetRoutes(app: FastifyInstance, ctx: ServerContext, scrape: ScrapeManager): void {
  app.get('/api/v1/targets', { config: { access: 'read' } }, async (request) => {
    const query = request.query as Record<string, string | string[] | undefined>;
    const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
    const job = one(query.job);
    const health = one(query.health);
    // Only the targets whose data the caller can read: those whose job stores into the request's tenant.
    const tenant = ctx.tenantOf(request);
    let targets = scrape.list().filter((t) => t.tenant === tenant);
    if (job) targets = targets.filter((t) => t.job === job);
    if (health) targets = targets.filter((t) => t.health === health);
    return { status: 'success', data: { activeTargets: targets } };
  });
}
