import { ApiError } from '@emberscope/api';
import { LabelName } from '@emberscope/model';
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';

/**
 * Administration: apply retention now, delete a service's data (tenant-scoped). Until authentication
 * exists (see SECURITY issue), anyone who can reach the server can call these, as with ingest.
 */
export function registerAdminRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/api/v1/admin/retention', async () => {
    const result = await ctx.storage.enforceRetention();
    ctx.log.info(result, 'retention applied on request');
    return result;
  });

  app.delete<{ Params: { name: string } }>('/api/v1/admin/services/:name', async (request) => {
    const tenant = ctx.tenantOf(request);
    const name = request.params.name;
    if (!name) throw new ApiError('invalid_argument', 'a service name is required', 'bad_request');
    const result = await ctx.storage.deleteSeries(tenant, [
      { name: LabelName.ServiceName, op: '=', value: name },
    ]);
    ctx.log.info({ tenant, service: name, ...result }, 'service deleted on request');
    return result;
  });
}
