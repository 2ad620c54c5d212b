import type { Socket } from 'node:net';
import { openEmbeddedStorage } from '@emberscope/storage';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { type Logger, pino } from 'pino';
import { parseListen, type ServerConfig } from './config.js';
import { sendConnectError } from './connect.js';
import { ServerContext } from './context.js';
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

export interface RunningServer {
  app: FastifyInstance;
  context: ServerContext;
  /** The address actually bound, e.g. http://127.0.0.1:4040. */
  url: string;
  /** Stops accepting, finishes in-flight requests, flushes storage. */
  close(): Promise<void>;
}

/** Malformed HTTP or oversized headers/URL, answered before any route runs, in the same JSON shape as other errors. */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable) return void socket.destroy();
  const overflow = err.code === 'HPE_HEADER_OVERFLOW';
  const status = overflow ? '431 Request Header Fields Too Large' : '400 Bad Request';
  const body = JSON.stringify(
    overflow
      ? { code: 'resource_exhausted', message: 'request URL and headers exceed the 16 KiB limit' }
      : { code: 'invalid_argument', message: `malformed HTTP request: ${err.message}` },
  );
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'emberscope' } });
}

/** Opens storage, builds the HTTP application and starts listening. */
export async function startServer(
  config: ServerConfig,
  log: Logger = createLogger(config.log_level),
): Promise<RunningServer> {
  const { host, port } = parseListen(config.listen);
  log.info({ dataDir: config.data_dir }, 'opening storage');
  const storage = await openEmbeddedStorage({
    dataDir: config.data_dir,
    blockDurationMs: config.block_duration,
    maxHeadBytes: config.max_head_size,
    maxSeriesPerTenant: config.max_series_per_tenant,
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
    // Slow clients must not hold connections forever.
    requestTimeout: 5 * 60_000,
    connectionTimeout: 0,
    return503OnClosing: true,
    clientErrorHandler: answerClientError,
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

  registerStatusRoutes(app, context);
  registerAdminRoutes(app, context);
  registerIngestRoutes(app, context);
  registerQuerierRoutes(app, context);
  registerRenderRoutes(app, context);
  registerOgRoutes(app, context);
  registerUiRoutes(app);
  const scrape = createScrapeManager(context);
  registerTargetRoutes(app, context, scrape);

  await app.listen({ host, port });
  const address = app.server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${boundPort}`;
  context.state = 'ready';
  log.info({ url, dataDir: config.data_dir }, 'listening');
  await scrape.start();

  let closing: Promise<void> | undefined;
  return {
    app,
    context,
    url,
    close() {
      closing ??= (async () => {
        context.state = 'stopping';
        await scrape.stop();
        await app.close();
        await context.compute.close();
        await storage.close();
      })();
      return closing;
    },
  };
}
