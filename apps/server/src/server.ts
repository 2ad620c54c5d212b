import type { Server as TlsServer } from 'node:tls';
import { openEmbeddedStorage } from '@emberscope/storage';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { type DestinationStream, type Logger, pino } from 'pino';
import { registerAuth } from './auth/index.js';
import { registerBodyBudget } from './body-budget.js';
import { parseListen, type ServerConfig } from './config.js';
import { sendConnectError } from './connect.js';
import { ServerContext } from './context.js';
import { CONNECTION_ROUTE, checkHttpLimits, clientErrorHandler, createNodeServer } from './http-server.js';
import { checkLoadSheddingConfig } from './load-shedding.js';
import { loggerOptions } from './log-redaction.js';
import { createMetrics } from './metrics.js';
import { registerAdminRoutes } from './routes/admin.js';
import { registerIngestRoutes } from './routes/ingest.js';
import { registerOgRoutes } from './routes/og.js';
import { registerQuerierRoutes } from './routes/querier.js';
import { registerRenderRoutes } from './routes/render.js';
import { registerStatusRoutes } from './routes/status.js';
import { registerTargetRoutes } from './routes/targets.js';
import { registerUiRoutes } from './routes/ui.js';
import { createScrapeManager } from './scrape/index.js';
import { registerSecurityHeaders } from './security-headers.js';
import { tenantLimitsResolver } from './tenant-limits.js';
import { describeCertificate, loadTls, TlsReloader } from './tls.js';

export interface RunningServer {
  app: FastifyInstance;
  context: ServerContext;
  /** The address actually bound, e.g. http://127.0.0.1:4040 (https://… with TLS). */
  url: string;
  /** Stops accepting, finishes in-flight requests, flushes storage. */
  close(): Promise<void>;
}

/** The server's logger: JSON lines with credentials redacted (log-redaction.ts); stdout unless `destination`. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return destination ? pino(loggerOptions(level), destination) : pino(loggerOptions(level));
}

/** Opens storage, builds the HTTP application and starts listening. */
export async function startServer(
  config: ServerConfig,
  log: Logger = createLogger(config.log_level),
): Promise<RunningServer> {
  const { host, port } = parseListen(config.listen);
  // Configuration mistakes stop the start before storage is opened.
  checkHttpLimits(config);
  checkLoadSheddingConfig(config);
  const tls = await loadTls(config);
  log.info({ dataDir: config.data_dir }, 'opening storage');
  const limitsFor = tenantLimitsResolver(config);
  const storage = await openEmbeddedStorage({
    dataDir: config.data_dir,
    blockDurationMs: config.block_duration,
    maxHeadBytes: config.max_head_size,
    maxWalBytes: config.max_wal_size,
    maxSeriesPerTenant: (tenant: string) => limitsFor(tenant).max_series_per_tenant,
    maxStackDepth: config.max_stack_depth,
    walSync: config.wal_fsync,
    retentionMs: config.retention,
    maxDiskBytes: config.max_disk_bytes,
    compactionIntervalMs: config.compaction_interval,
    logger: log.child({ component: 'storage' }),
  });
  const metrics = createMetrics(storage);
  const context = new ServerContext(config, storage, metrics, log);

  const app = Fastify({
    loggerInstance: log.child({ component: 'http' }) as FastifyBaseLogger,
    // Per-request logs would dominate at hundreds of uploads a second; errors are logged by the routes.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.max_request_body,
    // HTTP or HTTPS, with the deadlines that keep slow clients from holding connections (http-server.ts).
    serverFactory: (handler) => createNodeServer(config, tls?.pair, handler),
    return503OnClosing: true,
    clientErrorHandler: clientErrorHandler(config, (status, reason) =>
      metrics.errors.inc({ route: CONNECTION_ROUTE, status: String(status), reason }),
    ),
  });
  // Every route reads raw bytes: payloads are protobuf, gzip or text whose parsing belongs to the route.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.setErrorHandler((err, request, reply) =>
    sendConnectError(reply, request.routeOptions.url ?? request.url, err, context.connectOptions),
  );
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send({ code: 'not_found', message: `no route for ${request.method} ${request.url.split('?')[0]}` }),
  );

  // While stopping, responses to requests already in flight close their connection, so keep-alive
  // clients cannot hold the shutdown open (server.close() only reaps connections idle at that moment).
  app.addHook('onSend', async (_request, reply) => {
    if (context.state === 'stopping') reply.header('connection', 'close');
  });
  registerSecurityHeaders(app, { tls: tls !== undefined });
  registerBodyBudget(app, context.shedding.bodyBudget, {
    maxBodyBytes: config.max_request_body,
    onRefused: (reason) => context.shedding.refused(reason),
  });

  // First: every route registered after this declares its access level and is checked before its handler.
  registerAuth(app, context);
  registerStatusRoutes(app, context);
  registerAdminRoutes(app, context);
  registerIngestRoutes(app, context);
  registerQuerierRoutes(app, context);
  registerRenderRoutes(app, context);
  registerOgRoutes(app, context);
  registerUiRoutes(app);
  const scrape = createScrapeManager(context);
  registerTargetRoutes(app, context, scrape);

  await app.listen({
    host,
    port,
    // Room for a fleet of clients (re)connecting at once while the event loop is busy: with Node's
    // default of 511, SYNs beyond it are dropped and those clients retry after 1, 3, 7, 15… s.
    // Linux caps it at net.core.somaxconn.
    backlog: 4096,
    // Fastify cannot tell that the server from serverFactory speaks TLS.
    listenTextResolver: (address) =>
      `Server listening at ${tls ? address.replace(/^http:/, 'https:') : address}`,
  });
  const address = app.server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  const url = `${tls ? 'https' : 'http'}://${host === '0.0.0.0' ? '127.0.0.1' : host}:${boundPort}`;
  const tlsReloader =
    tls &&
    new TlsReloader(
      app.server as unknown as TlsServer,
      tls.files,
      tls.pair,
      log.child({ component: 'tls' }),
      metrics.registry,
    );
  tlsReloader?.start();
  context.state = 'ready';
  log.info(
    {
      url,
      dataDir: config.data_dir,
      auth: config.auth_enabled,
      ...(tls && describeCertificate(tls.pair.cert)),
    },
    'listening',
  );
  if (config.auth_enabled && context.keys.size === 0)
    log.warn(
      { keyFile: context.keys.file },
      'auth is enabled but no API key exists: create one with `emberscope admin keys create --role admin --data-dir DIR`',
    );
  await scrape.start();

  let closing: Promise<void> | undefined;
  return {
    app,
    context,
    url,
    close() {
      closing ??= (async () => {
        context.state = 'stopping';
        tlsReloader?.stop();
        await scrape.stop();
        await app.close();
        await context.compute.close();
        await context.decoders.close();
        await storage.close();
      })();
      return closing;
    },
  };
}
