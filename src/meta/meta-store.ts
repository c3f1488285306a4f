import type { StatisticsRefresh } from './dialect-adapter.js';
import type {
  FsckEvent,
  FsckLogRow,
  FsckTargets,
  GenericQueueTask,
  GenericQueueType,
} from './fsck-queries.js';
import type { LeaseRow } from './lease-queries.js';
import type { ClaimScope } from './queue-claims.js';
import type { DeletionTask, ReapBatch, ReplicationTask } from './queue-queries.js';
import type { DeviceFid, RebalanceItem } from './rebalance-queries.js';
import type {
  ClassFields,
  ClassRow,
  CommittedFile,
  CopyRecord,
  DeviceFields,
  DeviceRow,
  DeviceUsage,
  DomainRow,
  FidBinding,
  FidQueues,
  FileRow,
  HostFields,
  HostRow,
  LocatedFile,
  NewDevice,
  StoredChecksum,
  TempfileRow,
} from './rows.js';
import type { ClassUsage, CopyCount, QueueDepth, StatsQueue } from './stats-queries.js';

export type WorkQueue = 'file_to_replicate' | 'file_to_delete2';

/**
 * The metadata store, named after MogileFS operations. One implementation on Kysely
 * serves every engine; dialect folders only supply the connection and the DDL.
 * Writes that violate a unique constraint throw `MetaDuplicateError`.
 */
export interface MetaStore {
  readonly engine: 'sqlite' | 'postgres' | 'mysql';

  // Cluster view (cached by each tracker).
  listDomains(): Promise<DomainRow[]>;
  listClasses(): Promise<ClassRow[]>;
  listHosts(): Promise<HostRow[]>;
  listDevices(): Promise<DeviceRow[]>;

  // Server settings (spec/behaviour.md §13).
  listSettings(): Promise<Map<string, string>>;
  getSetting(name: string): Promise<string | undefined>;
  /** `null` deletes the setting. */
  setSetting(name: string, value: string | null): Promise<void>;

  // Domains and classes.
  findDomain(name: string): Promise<DomainRow | undefined>;
  createDomain(name: string): Promise<DomainRow>;
  /** Deletes the domain row and its classid-0 (`default`) row. */
  deleteDomain(dmid: number): Promise<void>;
  domainHasFiles(dmid: number): Promise<boolean>;
  /** True when the domain has a class other than `default`. */
  domainHasClasses(dmid: number): Promise<boolean>;
  findClass(dmid: number, name: string): Promise<ClassRow | undefined>;
  /** `classid` is given for `default` (0); otherwise max+1 in the domain. */
  createClass(dmid: number, name: string, fields: ClassFields, classid?: number): Promise<ClassRow>;
  updateClass(dmid: number, classid: number, fields: ClassFields): Promise<void>;
  deleteClass(dmid: number, classid: number): Promise<void>;
  classHasFiles(dmid: number, classid: number): Promise<boolean>;

  // Hosts and devices.
  /** Inserts a host (status `down` unless given) with every field in one statement. */
  createHost(name: string, ip: string, fields?: HostFields): Promise<HostRow>;
  updateHost(hostid: number, fields: HostFields): Promise<void>;
  deleteHost(hostid: number): Promise<void>;
  hostHasDevices(hostid: number): Promise<boolean>;
  createDevice(device: NewDevice): Promise<void>;
  updateDevice(devid: number, fields: DeviceFields): Promise<void>;
  recordDeviceUsage(devid: number, usage: DeviceUsage): Promise<void>;

  // Files.
  /** The highest fid in `file`, 0 when empty. */
  maxFileFid(): Promise<number>;
  /**
   * Allocates a fid that was never handed out before (architecture.md §4.3) and writes
   * its tempfile row. An explicit fid is used as given; it throws MetaDuplicateError
   * when that fid is already a tempfile or file row.
   */
  reserveTempfile(tempfile: NewTempfile): Promise<number>;

  findFile(dmid: number, key: string): Promise<FileRow | undefined>;
  /** The file with its checksum and holding devices, in one round trip. */
  locateFile(dmid: number, key: string): Promise<LocatedFile | undefined>;
  /** `locateFile` by fid. */
  locateFid(fid: number): Promise<LocatedFile | undefined>;
  findFileByFid(fid: number): Promise<FileRow | undefined>;
  /** Devices with a `file_on` row for the fid, in database order. */
  fileDevids(fid: number): Promise<number[]>;
  /** Reads and deletes the tempfile row; undefined when it was already gone. */
  claimTempfile(fid: number): Promise<TempfileRow | undefined>;
  /** Binds key → fid (see CommittedFile); MetaDuplicateError when already bound to it. */
  commitFile(file: CommittedFile): Promise<{ replacedFid?: number }>;
  /** Records the copy on `devid` and queues the fid for deletion. */
  abandonUpload(fid: number, devid: number, nowSeconds: number): Promise<void>;
  /** Deletes the file row and queues every copy for deletion. */
  deleteFile(fid: number, nowSeconds: number): Promise<void>;
  /** Renames a key; MetaDuplicateError when `toKey` exists. False when `fromKey` is gone. */
  renameFile(dmid: number, fromKey: string, toKey: string): Promise<boolean>;
  /** Queues every file of a class for replication; returns how many were queued. */
  queueClassReplication(dmid: number, classid: number, nowSeconds: number): Promise<number>;
  /** Changes the class and queues the fid so the replicator adds or removes copies. */
  updateFileClass(fid: number, classid: number): Promise<void>;
  /** Moves the copy on `devid` from one fid to another; false when there was none. */
  moveCopy(oldFid: number, newFid: number, devid: number): Promise<boolean>;
  getChecksum(fid: number): Promise<StoredChecksum | undefined>;
  listKeys(dmid: number, prefix: string, after: string, limit: number): Promise<string[]>;
  listFids(afterFid: number, count: number): Promise<FileRow[]>;
  fidQueues(fid: number): Promise<FidQueues>;
  /**
   * The key the fid is bound to, if any, and whether it waits in `file_to_delete2`: one
   * statement (create_close asks it before binding).
   */
  fidBinding(fid: number): Promise<FidBinding>;

  // Queues.
  /** Makes every deferred replication due now; returns the number of rows changed. */
  replicateNow(nowSeconds: number): Promise<number>;
  /** Claims due `file_to_replicate` rows, nexttry order, under a short lease (queue-claims). */
  claimReplicationTasks(nowSeconds: number, limit: number): Promise<ReplicationTask[]>;
  claimDeletionTasks(nowSeconds: number, limit: number): Promise<DeletionTask[]>;
  /** Extends claims still holding token `lease`; returns the fids still held. */
  renewClaims(
    scope: ClaimScope,
    fids: readonly number[],
    lease: number,
    newLease: number,
  ): Promise<number[]>;
  /** With `lease`, only while that claim still holds the row. */
  finishQueueRow(table: WorkQueue, fid: number, lease?: number): Promise<void>;
  deferQueueRow(
    table: WorkQueue,
    fid: number,
    nexttry: number,
    failcount: number,
    lease?: number,
  ): Promise<void>;
  /**
   * Records a verified copy (devcount refreshed) while holding the file row. A fid deleted
   * meanwhile gets the copy recorded and its deletion made due; with `madeFor`, a row that
   * now differs from it in dmid or length gets nothing written (a renamed key is fine).
   */
  addFileCopy(fid: number, devid: number, madeFor?: FileRow): Promise<CopyRecord>;
  removeFileCopy(fid: number, devid: number): Promise<void>;
  dropCopyRow(fid: number, devid: number): Promise<void>;
  saveChecksumIfAbsent(fid: number, checksum: StoredChecksum): Promise<void>;
  /** Deletes a deleted fid's checksum and tempfile rows. */
  forgetDeletedFid(fid: number): Promise<void>;
  staleTempfiles(createdBeforeSeconds: number, limit: number): Promise<TempfileRow[]>;
  abandonTempfile(tempfile: TempfileRow, nowSeconds: number): Promise<void>;
  /** Re-queues a bounded batch of a dead device's copies and drops them; returns the count. */
  reapDeviceCopies(batch: ReapBatch): Promise<number>;
  /** Rows in `file_to_replicate`, counted up to `atMost` only. */
  replicationQueueLength(atMost: number): Promise<number>;

  // ---- Fsck and rebalance (behaviour.md §9–10; file_to_queue types 1 and 2) ----
  genericQueueLength(type: GenericQueueType): Promise<number>;
  /** Claims due `file_to_queue` rows of one type, nexttry order, under a short lease. */
  claimGenericQueueTasks(
    type: GenericQueueType,
    nowSeconds: number,
    limit: number,
  ): Promise<GenericQueueTask[]>;
  finishGenericQueueTask(type: GenericQueueType, fid: number, lease?: number): Promise<void>;
  deferGenericQueueTask(
    type: GenericQueueType,
    fid: number,
    nexttry: number,
    failcount: number,
    lease?: number,
  ): Promise<void>;
  /** Queues the next fsck batch; `lastFid` undefined when no fid is left in the run. */
  enqueueFsckBatch(batch: {
    readonly afterFid: number;
    readonly endFid: number;
    readonly limit: number;
    readonly targets: FsckTargets;
    readonly nowSeconds: number;
  }): Promise<{ queued: number; lastFid: number | undefined }>;
  appendFsckLog(event: FsckEvent): Promise<void>;
  fsckLogAfter(afterLogid: number, limit: number): Promise<FsckLogRow[]>;
  clearFsckLog(): Promise<void>;
  maxFsckLogid(): Promise<number>;
  /** Folds new fsck_log rows into the `fsck_sum_evcount_*` settings. */
  summarizeFsckLog(): Promise<void>;
  /** Fixes devcount from the `file_on` rows; true when it was wrong. */
  refreshFileDevcount(fid: number): Promise<boolean>;
  /** Queues the fid for replication at `nexttry` unless it is queued already. */
  queueReplication(fid: number, nexttry: number): Promise<void>;
  deviceFids(
    devid: number,
    afterFid: number,
    newestFirst: boolean,
    limit: number,
  ): Promise<DeviceFid[]>;
  enqueueRebalanceItems(items: readonly RebalanceItem[], nowSeconds: number): Promise<void>;
  // ---- end of fsck and rebalance ----

  // Singleton duties (architecture.md §6, lease-queries.ts).
  /** Takes or renews lease `name` until now + ttl; true when `holder` holds it. */
  acquireLease(
    name: string,
    holder: string,
    nowSeconds: number,
    ttlSeconds: number,
  ): Promise<boolean>;
  releaseLease(name: string, holder: string): Promise<void>;
  listLeases(): Promise<LeaseRow[]>;

  // ---- Cluster statistics (`mogile_stats`, docs/protocol-extensions.md); read-only ----
  /** Files and bytes per class. */
  classUsage(): Promise<ClassUsage[]>;
  /** Files per class and copy count (`devcount`). */
  copyCounts(): Promise<CopyCount[]>;
  /** Rows of each work queue by how soon they are due. */
  queueDepths(nowSeconds: number): Promise<Record<StatsQueue, QueueDepth>>;
  // ---- end of cluster statistics ----

  /**
   * Gathers the engine's planner statistics for the lookup tables (`file`, `file_on`,
   * `checksum`) that hold rows but have none, as after a restore or a bulk load on
   * PostgreSQL. A no-op on the other engines.
   */
  analyzeTablesWithoutStatistics(): Promise<StatisticsRefresh>;

  close(): Promise<void>;
}

export interface NewTempfile {
  readonly fid?: number;
  readonly dmid: number;
  readonly classid: number;
  readonly key: string;
  readonly devids: readonly number[];
  readonly createdSeconds: number;
}
