import { ConfigError, createLogger, loadConfig, serverHelp, startServer } from '@emberscope/server';

/** `emberscope server`: runs until SIGTERM/SIGINT, then shuts down gracefully and exits 0. */
export async function runServerCommand(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(serverHelp());
    return 0;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(args);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`emberscope server: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const log = createLogger(config.log_level);
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer(config, log);
  } catch (err) {
    // Mistakes found at start (TLS files, contradicting limits) read like flag errors.
    if (err instanceof ConfigError) {
      console.error(`emberscope server: ${err.message}`);
      return 2;
    }
    log.fatal({ err }, 'cannot start server');
    return 1;
  }

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  log.info(
    { signal, timeoutMs: config.shutdown_timeout },
    'shutting down: finishing in-flight requests and flushing',
  );
  const timeout = setTimeout(() => {
    log.error(
      'shutdown timed out; exiting with data still in the write-ahead log (it is replayed on the next start)',
    );
    process.exit(1);
  }, config.shutdown_timeout);
  timeout.unref();
  await server.close();
  log.info('stopped');
  return 0;
}
