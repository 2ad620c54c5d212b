export { ConfigError, loadConfig, type ServerConfig, serverHelp } from './config.js';
export { createLogger, type RunningServer, startServer } from './server.js';
