import { ingestPush } from '@emberscope/ingest';
import type { ServerContext } from '../context.js';
import { ScrapeManager } from './manager.js';

export {
  BUILTIN_PROFILE_NAMES,
  type ProfileTarget,
  parseScrapeConfigs,
  readScrapeConfigFile,
  ScrapeConfigError,
  type ScrapeJobConfig,
} from './config.js';
export { CumulativeDelta } from './delta.js';
export { parseTargetFile } from './discovery.js';
export { type ProfileHealth, ScrapeManager, scrapeOffset, type TargetHealth } from './manager.js';

/**
 * The scrape manager of a server: scraped profiles go through the same pipeline as the Push API
 * (`ingestPush`, then storage), into the tenant named by the job's `tenant_id`.
 */
export function createScrapeManager(ctx: ServerContext): ScrapeManager {
  const { config, storage } = ctx;
  return new ScrapeManager(
    config.scrape_configs ?? [],
    async (tenant, series, bytes) => {
      await ctx.shedding.admitWrite();
      const profiles = ingestPush(series, ctx.ingestContext(tenant));
      await storage.append(profiles);
      ctx.countIngested(tenant, 'scrape', bytes, profiles);
    },
    ctx.log.child({ component: 'scrape' }),
    {
      maxBodyBytes: config.max_request_body,
      maxProfileBytes: config.max_profile_size,
      configFile: config.config_file,
    },
  );
}
