import { ApiError } from '@emberscope/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.js';
import { resolveTenant } from '../tenant.js';
import { type Access, type Principal, refusal } from './access.js';
import type { Role } from './keys.js';

export type { Access, Principal } from './access.js';

export interface RouteAccess {
  method: string;
  url: string;
  access: Access;
}

/** The key a request carries: `Authorization: Bearer KEY`, or Basic auth with the key as password. */
function presentedKey(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const space = header.indexOf(' ');
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === 'bearer') return value;
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    // The SDKs put the key in the password; a key given as the user name alone works too.
    return colon < 0 ? decoded : decoded.slice(colon + 1) || decoded.slice(0, colon);
  }
  return undefined;
}

/**
 * Authentication and authorization of every request. Records each route's declared access into
 * `ctx.routes` (refusing routes that declare none), then, before any handler runs, identifies the
 * caller, checks the route's access and fixes the tenant the request acts on (`request.principal`).
 */
export function registerAuth(app: FastifyInstance, ctx: ServerContext): void {
  app.addHook('onRoute', (route) => {
    const access = route.config?.access;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!access) throw new Error(`route ${methods.join(',')} ${route.url} declares no access level`);
    for (const method of methods) {
      if (method !== 'HEAD') ctx.routes.push({ method, url: route.url, access });
    }
  });

  app.addHook('onRequest', async (request) => {
    // Unmatched URLs (404) have no route config; they are answered without touching any data.
    const access = request.routeOptions.config?.access;
    if (!access) return;
    const route = `${request.method} ${request.routeOptions.url}`;
    try {
      request.principal = identify(request, ctx, access);
      if (access === 'public') return;
      const refused = refusal(request.principal, access, route);
      if (refused) throw refused;
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 403))
        ctx.metrics.authFailures.inc({ reason: err.reason });
      throw err;
    }
  });

  app.get('/api/v1/auth/whoami', { config: { access: 'public' } }, async (request) => {
    const p = request.principal!;
    return {
      authEnabled: ctx.config.auth_enabled,
      // Lets the UI ask for a tenant (X-Scope-OrgID) up front when the key is not bound to one.
      multitenancy: ctx.config.multitenancy_enabled,
      role: p.role,
      // '' is "no tenant yet" (multi-tenancy, no X-Scope-OrgID, key bound to none).
      tenant: p.role === null || p.tenant === '' ? null : p.tenant,
      keyId: p.keyId,
      via: p.via,
    };
  });
}

/**
 * The principal of a request. On public routes bad or missing credentials just leave the role null;
 * elsewhere they are a 401, and a tenant the key is not bound to is a 403.
 */
function identify(request: FastifyRequest, ctx: ServerContext, access: Access): Principal {
  const { config } = ctx;
  const orgId = request.headers['x-scope-orgid'];
  const isPublic = access === 'public';
  // Whole-server routes act on no tenant: they do not require X-Scope-OrgID.
  const needsTenant = !isPublic && access !== 'server-admin';
  const tenantOf = (bound: string | null): string => {
    if (bound === null) {
      if (needsTenant) return resolveTenant(orgId, config.multitenancy_enabled);
      try {
        return resolveTenant(orgId, config.multitenancy_enabled);
      } catch {
        return '';
      }
    }
    const asked = Array.isArray(orgId) ? orgId[0] : orgId;
    if (asked && asked !== bound && !isPublic)
      throw new ApiError(
        'permission_denied',
        `this key is bound to tenant ${JSON.stringify(bound)} and cannot act on tenant ${JSON.stringify(asked)}`,
        'forbidden_tenant',
      );
    return bound;
  };

  if (!config.auth_enabled)
    return { role: 'admin', tenant: tenantOf(null), boundTenant: null, keyId: null, via: 'none' };

  const authorization = request.headers.authorization;
  const key = presentedKey(authorization);
  if (key !== undefined) {
    const record = ctx.keys.authenticate(key);
    if (record)
      return {
        role: record.role,
        tenant: tenantOf(record.tenant),
        boundTenant: record.tenant,
        keyId: record.id,
        via: 'key',
      };
    if (!isPublic) throw unauthenticated('invalid API key (unknown, revoked or mistyped)', 'invalid_key');
  } else if (config.auth_proxy_header && request.headers[config.auth_proxy_header.toLowerCase()]) {
    return {
      role: config.auth_proxy_role as Role,
      tenant: tenantOf(null),
      boundTenant: null,
      keyId: null,
      via: 'proxy',
    };
  } else if (!isPublic) {
    throw unauthenticated(
      authorization
        ? 'unsupported Authorization scheme: send "Bearer <API key>" or Basic auth with the key as password'
        : 'an API key is required: send "Authorization: Bearer <API key>" (or Basic auth with the key as password)',
      'no_credentials',
    );
  }
  return { role: null, tenant: '', boundTenant: null, keyId: null, via: 'none' };
}

function unauthenticated(message: string, reason: string): ApiError {
  return new ApiError('unauthenticated', message, reason);
}
