export {
  type EmbeddedStorage,
  type EmbeddedStorageOptions,
  openEmbeddedStorage,
  type StorageLogger,
} from './embedded.js';
export * from './engine.js';
export { BlockCorruptError, StorageLimitError } from './errors.js';
export { stringHashes } from './hash-table.js';
export { LocalFsObjectStore, type ObjectInfo, type ObjectStore } from './object-store.js';
export { encodeRecord as encodeWalRecord } from './wal.js';
