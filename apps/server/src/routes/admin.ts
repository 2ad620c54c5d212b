import { ApiError } from '@emberscope/api';
import { LabelName } from '@emberscope/model';
import type { FastifyInstance } from 'fastify';
import { KeyStoreError, ROLES, type Role } from '../auth/keys.js';
import type { ServerContext } from '../context.js';

/**
 * Administration: delete a service's data (tenant-scoped, admin), and for an admin key bound to no
 * tenant, apply retention now and manage API keys.
 */
export function registerAdminRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/api/v1/admin/retention', { config: { access: 'server-admin' } }, async () => {
    const result = await ctx.storage.enforceRetention();
    ctx.log.info(result, 'retention applied on request');
    return result;
  });

  app.delete<{ Params: { name: string } }>(
    '/api/v1/admin/services/:name',
    { config: { access: 'admin' } },
    async (request) => {
      const tenant = ctx.tenantOf(request);
      const name = request.params.name;
      if (!name) throw new ApiError('invalid_argument', 'a service name is required', 'bad_request');
      const result = await ctx.storage.deleteSeries(tenant, [
        { name: LabelName.ServiceName, op: '=', value: name },
      ]);
      ctx.log.info({ tenant, service: name, ...result }, 'service deleted on request');
      return result;
    },
  );

  app.get('/api/v1/admin/keys', { config: { access: 'server-admin' } }, async () => ({
    keys: ctx.keys.list(),
  }));

  app.post('/api/v1/admin/keys', { config: { access: 'server-admin' } }, async (request, reply) => {
    const body = parseJsonBody(request.body);
    const role = body.role;
    if (typeof role !== 'string' || !ROLES.includes(role as Role))
      throw new ApiError('invalid_argument', `"role" must be one of ${ROLES.join(', ')}`, 'bad_role');
    for (const field of ['tenant', 'description'] as const) {
      if (body[field] !== undefined && body[field] !== null && typeof body[field] !== 'string')
        throw new ApiError('invalid_argument', `"${field}" must be a string`, 'bad_request');
    }
    try {
      const { key, record } = ctx.keys.create({
        role: role as Role,
        tenant: (body.tenant as string | null | undefined) ?? null,
        description: (body.description as string | undefined) ?? '',
      });
      ctx.log.info({ keyId: record.id, role: record.role, tenant: record.tenant }, 'API key created');
      return reply.code(201).send({ key, ...record });
    } catch (err) {
      if (err instanceof KeyStoreError)
        throw new ApiError('invalid_argument', err.message, 'bad_key_request');
      throw err;
    }
  });

  app.delete<{ Params: { id: string } }>(
    '/api/v1/admin/keys/:id',
    { config: { access: 'server-admin' } },
    async (request) => {
      const { id } = request.params;
      if (!ctx.keys.revoke(id)) throw new ApiError('not_found', `no API key with id ${JSON.stringify(id)}`);
      ctx.log.info({ keyId: id }, 'API key revoked');
      return { revoked: id };
    },
  );
}

function parseJsonBody(body: unknown): Record<string, unknown> {
  const text = Buffer.isBuffer(body) ? body.toString('utf8') : '';
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch (err) {
    throw new ApiError('invalid_argument', `invalid JSON body: ${(err as Error).message}`, 'bad_json');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new ApiError('invalid_argument', 'the body must be a JSON object', 'bad_json');
  return parsed as Record<string, unknown>;
}
