/** The limits that can differ per tenant; the server-wide options are every tenant's defaults. */
export interface TenantLimits {
  ingestion_rate_mb: number;
  ingestion_burst_mb: number;
  max_series_per_tenant: number;
  max_query_concurrency: number;
}

export const TENANT_LIMIT_KEYS = [
  'ingestion_rate_mb',
  'ingestion_burst_mb',
  'max_series_per_tenant',
  'max_query_concurrency',
] as const satisfies readonly (keyof TenantLimits)[];

/**
 * Validates the config file's `tenant_limits` section: a mapping of tenant id → some of the limit keys,
 * each a non-negative integer. Throws an Error naming the offending entry.
 */
export function parseTenantLimits(raw: unknown, source: string): Record<string, Partial<TenantLimits>> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new Error(`${source}: tenant_limits must be a mapping of tenant id to limits`);
  const out: Record<string, Partial<TenantLimits>> = {};
  for (const [tenant, limits] of Object.entries(raw)) {
    if (limits === null || typeof limits !== 'object' || Array.isArray(limits))
      throw new Error(`${source}: tenant_limits.${tenant} must be a mapping of limits`);
    const parsed: Partial<TenantLimits> = {};
    for (const [key, value] of Object.entries(limits)) {
      if (!(TENANT_LIMIT_KEYS as readonly string[]).includes(key))
        throw new Error(
          `${source}: tenant_limits.${tenant}: unknown key "${key}" (use ${TENANT_LIMIT_KEYS.join(', ')})`,
        );
      if (!Number.isInteger(value) || (value as number) < 0)
        throw new Error(`${source}: tenant_limits.${tenant}.${key} must be a non-negative integer`);
      parsed[key as keyof TenantLimits] = value as number;
    }
    out[tenant] = parsed;
  }
  return out;
}

/** Resolves a tenant's limits: its overrides from `tenant_limits`, else the server-wide options. */
export function tenantLimitsResolver(
  config: TenantLimits & {
    tenant_limits?: Record<string, Partial<TenantLimits>>;
  },
): (tenant: string) => TenantLimits {
  const defaults: TenantLimits = {
    ingestion_rate_mb: config.ingestion_rate_mb,
    ingestion_burst_mb: config.ingestion_burst_mb,
    max_series_per_tenant: config.max_series_per_tenant,
    max_query_concurrency: config.max_query_concurrency,
  };
  const overrides = config.tenant_limits ?? {};
  return (tenant) => {
    const own = Object.hasOwn(overrides, tenant) ? overrides[tenant] : undefined;
    return own ? { ...defaults, ...own } : defaults;
  };
}
