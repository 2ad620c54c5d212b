export { type KeyRecord, KeyStore, KeyStoreError, keyFilePath, ROLES, type Role } from './auth/keys.js';
export { ConfigError, loadConfig, type ServerConfig, serverHelp } from './config.js';
export { createLogger, type RunningServer, startServer } from './server.js';
