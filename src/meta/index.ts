export {
  MetaDuplicateError,
  MetaKeyCollisionError,
  MetaSchemaError,
  MetaServerError,
} from './errors.js';
export type { MetaStore, NewTempfile } from './meta-store.js';
export { openMetaStore } from './open-meta-store.js';
export * from './rows.js';
