import { ApiError } from '@emberscope/api';

export const defaultTenant = 'anonymous';

/** Tenant ids end up in paths on disk and in label values: keep them to a safe character set. */
const tenantPattern = /^[A-Za-z0-9_.-]{1,150}$/;

/**
 * The tenant of a request. With multi-tenancy off every request belongs to "anonymous" and the header
 * is ignored, as in Grafana Pyroscope; with it on, X-Scope-OrgID is required.
 */
export function resolveTenant(header: string | string[] | undefined, multitenancy: boolean): string {
  if (!multitenancy) return defaultTenant;
  const value = Array.isArray(header) ? header[0] : header;
  if (!value)
    throw new ApiError('unauthenticated', 'no org id: the X-Scope-OrgID header is required', 'no_tenant');
  if (!tenantPattern.test(value) || value === '.' || value === '..')
    throw new ApiError(
      'invalid_argument',
      `invalid X-Scope-OrgID ${JSON.stringify(value)}: use 1-150 characters among A-Z a-z 0-9 _ . -`,
      'bad_tenant',
    );
  return value;
}
