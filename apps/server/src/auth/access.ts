import { ApiError } from '@emberscope/api';
import type { Role } from './keys.js';

/**
 * What a route requires. Every route declares one (`config: { access }`); registering a route without
 * it fails at startup, so no route can be added without being placed in the authorization table.
 * - `public`: anyone (health, build info, the UI's static files, who-am-I);
 * - `ingest`, `read`: a key with that role, or admin;
 * - `admin`: an admin key, acting on its tenant;
 * - `server-admin`: an admin key bound to no tenant (whole-server operations: keys, retention, metrics).
 */
export type Access = 'public' | 'ingest' | 'read' | 'admin' | 'server-admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** Who is asking, once authenticated: the role and the tenant the request acts on. */
export interface Principal {
  /** Null when auth is on and the request carried no valid credentials (public routes only). */
  role: Role | null;
  tenant: string;
  /** The key's tenant binding, null when unbound. */
  boundTenant: string | null;
  keyId: string | null;
  via: 'key' | 'proxy' | 'none';
}

/** The refusal of a principal on a route, or undefined when allowed. */
export function refusal(principal: Principal, access: Access, route: string): ApiError | undefined {
  if (access === 'public') return undefined;
  const { role } = principal;
  if (role === null) return undefined; // the caller answered 401 already
  const allowed =
    role === 'admin' ? access !== 'server-admin' || principal.boundTenant === null : role === access;
  if (allowed) return undefined;
  const needs =
    access === 'server-admin'
      ? 'an admin key that is not bound to a tenant'
      : access === 'admin'
        ? 'the admin role'
        : `the ${access} role (or admin)`;
  return new ApiError(
    'permission_denied',
    `${route} needs ${needs}; this key has the ${role} role${principal.boundTenant ? ` for tenant ${principal.boundTenant}` : ''}`,
    'forbidden_role',
  );
}
