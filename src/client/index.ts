export type {
  ClassInfo,
  DeviceInfo,
  DomainInfo,
  FidInfo,
  FsckLogRow,
  FsckStatus,
  HostInfo,
} from './admin-replies.js';
export type { Checksum } from './checksum.js';
export type { TrackerClientOptions } from './client-options.js';
export type { ChecksumMismatchEvent, ConnectionEvent, RequestEvent } from './diagnostics.js';
export {
  CLIENT_ERROR_CODES,
  type ClientErrorCode,
  isMogileClientError,
  MogileClientError,
} from './errors.js';
export type { FileDebugInfo, FileInfo, KeyPage } from './file-replies.js';
export {
  type ClassOptions,
  type CreateDeviceOptions,
  type DeviceState,
  type FsckTargets,
  type HostOptions,
  type HostStatus,
  MogileAdmin,
} from './mogile-admin.js';
export {
  type GetOptions,
  type GetPathsOptions,
  type ListOptions,
  MogileClient,
  type MogileClientOptions,
  type StoreOptions,
  type StoreResult,
} from './mogile-client.js';
export type { ClassStats, ClusterStats, QueueDepth } from './stats-reply.js';
export { IDEMPOTENT_COMMANDS } from './tracker-pool.js';
export type { StoreSource } from './upload-source.js';
