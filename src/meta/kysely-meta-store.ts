import type { Kysely } from 'kysely';
import { forgetClassOptions, saveClassDurability } from './class-options.js';
import type { DialectAdapter, StatisticsRefresh } from './dialect-adapter.js';
import { MetaDuplicateError } from './errors.js';
import { highWaterMark, raiseHighWater, reserveFidBlock } from './fid-allocation.js';
import { FidBlock } from './fid-block.js';
import * as files from './file-queries.js';
import type {
  FsckEvent,
  FsckLogRow,
  FsckTargets,
  GenericQueueTask,
  GenericQueueType,
} from './fsck-queries.js';
import * as fsck from './fsck-queries.js';
import type { LeaseRow } from './lease-queries.js';
import * as leases from './lease-queries.js';
import { LocateBatch } from './locate-batch.js';
import type { MetaStore, NewTempfile, WorkQueue } from './meta-store.js';
import { exists, insertIgnoring, maxOf } from './query-helpers.js';
import type { ClaimScope } from './queue-claims.js';
import * as claims from './queue-claims.js';
import type { DeletionTask, ReapBatch, ReplicationTask } from './queue-queries.js';
import * as queues from './queue-queries.js';
import type { DeviceFid, RebalanceItem } from './rebalance-queries.js';
import * as rebalance from './rebalance-queries.js';
import { hostColumns, toClassRow, toDeviceRow, toHostRow } from './row-mappers.js';
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
import * as stats from './stats-queries.js';
import type { Database } from './tables.js';

/** Fids reserved per database write; the rest of a block is skipped after a restart. */
const FID_BLOCK_SIZE = 64;

/** The MetaStore on Kysely; the same code runs on every engine. */
export class KyselyMetaStore implements MetaStore {
  readonly #adapter: DialectAdapter;
  readonly #db: Kysely<Database>;
  readonly #fids = new FidBlock(() =>
    this.#write(() =>
      this.#db.transaction().execute((trx) => reserveFidBlock(trx, FID_BLOCK_SIZE)),
    ),
  );

  /**
   * `get_paths` lookups that arrive together share one statement on PostgreSQL and MySQL,
   * whose round trips cost the tracker more than the lookups themselves.
   */
  readonly #locateBatch: LocateBatch | undefined;

  constructor(adapter: DialectAdapter) {
    this.#adapter = adapter;
    const db = adapter.db;
    this.#db = db;
    this.#locateBatch =
      adapter.engine !== 'sqlite'
        ? new LocateBatch({
            one: (dmid, key) => files.locateFile(db, dmid, key),
            many: (dmid, keys) => files.locateFiles(db, dmid, keys),
          })
        : undefined;
  }

  get engine() {
    return this.#adapter.engine;
  }

  /**
   * Runs a write a client will be told about: unique-constraint failures become
   * MetaDuplicateError, and it returns only once the write is durable.
   */
  async #write<T>(work: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await work();
    } catch (error) {
      if (this.#adapter.isUniqueViolation(error)) throw new MetaDuplicateError(error);
      throw error;
    }
    await this.#adapter.syncCommitted?.();
    return result;
  }

  async listDomains(): Promise<DomainRow[]> {
    const rows = await this.#db.selectFrom('domain').select(['dmid', 'namespace']).execute();
    return rows.map((row) => ({ dmid: row.dmid, name: row.namespace }));
  }

  async listClasses(): Promise<ClassRow[]> {
    const rows = await this.#classes().execute();
    return rows.map(toClassRow);
  }

  async listHosts(): Promise<HostRow[]> {
    const rows = await this.#db.selectFrom('host').selectAll().orderBy('hostid').execute();
    return rows.map(toHostRow);
  }

  async listDevices(): Promise<DeviceRow[]> {
    const rows = await this.#db.selectFrom('device').selectAll().orderBy('devid').execute();
    return rows.map(toDeviceRow);
  }

  async listSettings(): Promise<Map<string, string>> {
    const rows = await this.#db.selectFrom('server_settings').selectAll().execute();
    return new Map(rows.map((row) => [row.field, row.value ?? '']));
  }

  async getSetting(name: string): Promise<string | undefined> {
    const row = await this.#db
      .selectFrom('server_settings')
      .select('value')
      .where('field', '=', name)
      .executeTakeFirst();
    return row === undefined ? undefined : (row.value ?? '');
  }

  async setSetting(name: string, value: string | null): Promise<void> {
    await this.#write(() =>
      this.#db.transaction().execute(async (trx) => {
        await trx.deleteFrom('server_settings').where('field', '=', name).execute();
        if (value !== null) {
          await trx.insertInto('server_settings').values({ field: name, value }).execute();
        }
      }),
    );
  }

  async findDomain(name: string): Promise<DomainRow | undefined> {
    const row = await this.#db
      .selectFrom('domain')
      .select(['dmid', 'namespace'])
      .where('namespace', '=', name)
      .executeTakeFirst();
    return row && { dmid: row.dmid, name: row.namespace };
  }

  createDomain(name: string): Promise<DomainRow> {
    return this.#write(() =>
      this.#db.transaction().execute(async (trx) => {
        const dmid = (await maxOf(trx, 'domain', 'dmid')) + 1;
        await trx.insertInto('domain').values({ dmid, namespace: name }).execute();
        return { dmid, name };
      }),
    );
  }

  async deleteDomain(dmid: number): Promise<void> {
    await this.#write(() =>
      this.#db.transaction().execute(async (trx) => {
        await trx.deleteFrom('class').where('dmid', '=', dmid).where('classid', '=', 0).execute();
        await forgetClassOptions(trx, dmid);
        await trx.deleteFrom('domain').where('dmid', '=', dmid).execute();
      }),
    );
  }

  async domainHasFiles(dmid: number): Promise<boolean> {
    return exists(this.#db.selectFrom('file').select('fid').where('dmid', '=', dmid));
  }

  async domainHasClasses(dmid: number): Promise<boolean> {
    return exists(
      this.#db
        .selectFrom('class')
        .select('classid')
        .where('dmid', '=', dmid)
        .where('classid', '!=', 0),
    );
  }

  async findClass(dmid: number, name: string): Promise<ClassRow | undefined> {
    const row = await this.#classes()
      .where('class.dmid', '=', dmid)
      .where('classname', '=', name)
      .executeTakeFirst();
    return row && toClassRow(row);
  }

  /** Classes with their options (class-options.ts). */
  #classes() {
    return this.#db
      .selectFrom('class')
      .leftJoin('mogile_class_option as option', (join) =>
        join.onRef('option.dmid', '=', 'class.dmid').onRef('option.classid', '=', 'class.classid'),
      )
      .selectAll('class')
      .select('option.durability');
  }

  createClass(
    dmid: number,
    name: string,
    fields: ClassFields,
    classid?: number,
  ): Promise<ClassRow> {
    return this.#write(() =>
      this.#db.transaction().execute(async (trx) => {
        const id =
          classid ??
          (await maxOf(trx, 'class', 'classid', (query) => query.where('dmid', '=', dmid))) + 1;
        const row = {
          dmid,
          classid: id,
          classname: name,
          mindevcount: fields.mindevcount ?? 2,
          replpolicy: fields.replpolicy ?? null,
          hashtype: fields.hashtype ?? null,
        };
        await trx.insertInto('class').values(row).execute();
        await forgetClassOptions(trx, dmid, id);
        if (fields.durability === 'sync') await saveClassDurability(trx, dmid, id, 'sync');
        return toClassRow({ ...row, durability: fields.durability ?? null });
      }),
    );
  }

  async updateClass(dmid: number, classid: number, fields: ClassFields): Promise<void> {
    const changes: Partial<Database['class']> = {};
    if (fields.mindevcount !== undefined) changes.mindevcount = fields.mindevcount;
    if (fields.replpolicy !== undefined) changes.replpolicy = fields.replpolicy;
    if (fields.hashtype !== undefined) changes.hashtype = fields.hashtype;
    const { durability } = fields;
    if (Object.keys(changes).length === 0 && durability === undefined) return;
    await this.#write(() =>
      this.#db.transaction().execute(async (trx) => {
        if (Object.keys(changes).length > 0) {
          await trx
            .updateTable('class')
            .set(changes)
            .where('dmid', '=', dmid)
            .where('classid', '=', classid)
            .execute();
        }
        if (durability !== undefined) await saveClassDurability(trx, dmid, classid, durability);
      }),
    );
  }

  async deleteClass(dmid: number, classid: number): Promise<void> {
    await this.#write(() =>
      this.#db.transaction().execute(async (trx) => {
        await trx
          .deleteFrom('class')
          .where('dmid', '=', dmid)
          .where('classid', '=', classid)
          .execute();
        await forgetClassOptions(trx, dmid, classid);
      }),
    );
  }

  async classHasFiles(dmid: number, classid: number): Promise<boolean> {
    return exists(
      this.#db
        .selectFrom('file')
        .select('fid')
        .where('dmid', '=', dmid)
        .where('classid', '=', classid),
    );
  }

  createHost(name: string, ip: string, fields: HostFields = {}): Promise<HostRow> {
    return this.#write(() =>
      this.#db.transaction().execute(async (trx) => {
        const hostid = (await maxOf(trx, 'host', 'hostid')) + 1;
        await trx
          .insertInto('host')
          .values({
            ...hostColumns(fields),
            hostid,
            hostname: name,
            hostip: ip,
            status: fields.status ?? 'down',
          })
          .execute();
        const row = await trx
          .selectFrom('host')
          .selectAll()
          .where('hostid', '=', hostid)
          .executeTakeFirstOrThrow();
        return toHostRow(row);
      }),
    );
  }

  async updateHost(hostid: number, fields: HostFields): Promise<void> {
    const changes = hostColumns(fields);
    if (Object.keys(changes).length === 0) return;
    await this.#write(() =>
      this.#db.updateTable('host').set(changes).where('hostid', '=', hostid).execute(),
    );
  }

  async deleteHost(hostid: number): Promise<void> {
    await this.#write(() => this.#db.deleteFrom('host').where('hostid', '=', hostid).execute());
  }

  async hostHasDevices(hostid: number): Promise<boolean> {
    return exists(this.#db.selectFrom('device').select('devid').where('hostid', '=', hostid));
  }

  async createDevice(device: NewDevice): Promise<void> {
    await this.#write(() =>
      this.#db
        .insertInto('device')
        .values({
          devid: device.devid,
          hostid: device.hostid,
          status: device.status,
          weight: device.weight,
        })
        .execute(),
    );
  }

  async updateDevice(devid: number, fields: DeviceFields): Promise<void> {
    const changes: Partial<Database['device']> = {};
    if (fields.status !== undefined) changes.status = fields.status;
    if (fields.weight !== undefined) changes.weight = fields.weight;
    if (Object.keys(changes).length === 0) return;
    await this.#write(() =>
      this.#db.updateTable('device').set(changes).where('devid', '=', devid).execute(),
    );
  }

  async recordDeviceUsage(devid: number, usage: DeviceUsage): Promise<void> {
    await this.#db
      .updateTable('device')
      .set({ mb_total: usage.mbTotal, mb_used: usage.mbUsed, mb_asof: usage.asofSeconds })
      .where('devid', '=', devid)
      .execute();
  }

  maxFileFid(): Promise<number> {
    return maxOf(this.#db, 'file', 'fid');
  }

  async reserveTempfile(tempfile: NewTempfile): Promise<number> {
    const row = {
      createtime: tempfile.createdSeconds,
      classid: tempfile.classid,
      dmid: tempfile.dmid,
      dkey: tempfile.key,
      devids: tempfile.devids.join(','),
    };
    if (tempfile.fid !== undefined) return this.#reserveExplicitFid(tempfile.fid, row);
    for (;;) {
      const fid = await this.#fids.next();
      // A fid of our block may have been taken meanwhile by a Perl tracker sharing the
      // database (its auto-increment does not know our blocks): skip it.
      const taken = (await files.findFileByFid(this.#db, fid)) !== undefined;
      if (!taken && (await insertIgnoring(this.#db, 'tempfile', { fid, ...row })) === 1) return fid;
    }
  }

  /**
   * An explicit fid must never have been handed out: above the high-water mark, so it
   * cannot fall inside any tracker's block, and free in `tempfile` and `file`.
   */
  #reserveExplicitFid(fid: number, row: Omit<Database['tempfile'], 'fid'>): Promise<number> {
    return this.#write(() =>
      this.#db.transaction().execute(async (trx) => {
        const inUse =
          fid <= (await highWaterMark(trx)) ||
          (await exists(trx.selectFrom('file').select('fid').where('fid', '=', fid)));
        if (inUse) throw new MetaDuplicateError(`fid ${fid} was handed out before`);
        await raiseHighWater(trx, fid);
        await trx
          .insertInto('tempfile')
          .values({ fid, ...row })
          .execute();
        return fid;
      }),
    );
  }

  locateFile(dmid: number, key: string): Promise<LocatedFile | undefined> {
    if (this.#locateBatch) return this.#locateBatch.locate(dmid, key);
    return files.locateFile(this.#db, dmid, key);
  }

  locateFid(fid: number): Promise<LocatedFile | undefined> {
    return files.locateFid(this.#db, fid);
  }

  findFile(dmid: number, key: string): Promise<FileRow | undefined> {
    return files.findFile(this.#db, dmid, key);
  }

  findFileByFid(fid: number): Promise<FileRow | undefined> {
    return files.findFileByFid(this.#db, fid);
  }

  fileDevids(fid: number): Promise<number[]> {
    return files.fileDevids(this.#db, fid);
  }

  claimTempfile(fid: number): Promise<TempfileRow | undefined> {
    return files.claimTempfile(this.#db, fid);
  }

  commitFile(file: CommittedFile): Promise<{ replacedFid?: number }> {
    return this.#write(() => this.#db.transaction().execute((trx) => files.commitFile(trx, file)));
  }

  async abandonUpload(fid: number, devid: number, nowSeconds: number): Promise<void> {
    await this.#write(() =>
      this.#db.transaction().execute((trx) => files.abandonUpload(trx, fid, devid, nowSeconds)),
    );
  }

  async deleteFile(fid: number, nowSeconds: number): Promise<void> {
    await this.#write(() =>
      this.#db.transaction().execute((trx) => files.deleteFileRow(trx, fid, nowSeconds)),
    );
  }

  renameFile(dmid: number, fromKey: string, toKey: string): Promise<boolean> {
    return this.#write(() => files.renameFile(this.#db, dmid, fromKey, toKey));
  }

  async updateFileClass(fid: number, classid: number): Promise<void> {
    await this.#write(() =>
      this.#db.transaction().execute(async (trx) => {
        await trx.updateTable('file').set({ classid }).where('fid', '=', fid).execute();
        await files.queueReplication(trx, fid, 0);
      }),
    );
  }

  queueClassReplication(dmid: number, classid: number, nowSeconds: number): Promise<number> {
    return files.queueClassReplication(this.#db, dmid, classid, nowSeconds);
  }

  moveCopy(oldFid: number, newFid: number, devid: number): Promise<boolean> {
    return this.#write(() =>
      this.#db.transaction().execute((trx) => files.moveCopy(trx, oldFid, newFid, devid)),
    );
  }

  getChecksum(fid: number): Promise<StoredChecksum | undefined> {
    return files.getChecksum(this.#db, fid);
  }

  listKeys(dmid: number, prefix: string, after: string, limit: number): Promise<string[]> {
    return files.listKeys(this.#db, dmid, prefix, after, limit);
  }

  listFids(afterFid: number, count: number): Promise<FileRow[]> {
    return files.listFids(this.#db, afterFid, count);
  }

  fidQueues(fid: number): Promise<FidQueues> {
    return files.fidQueues(this.#db, fid);
  }

  fidBinding(fid: number): Promise<FidBinding> {
    return files.fidBinding(this.#db, fid);
  }

  replicateNow(nowSeconds: number): Promise<number> {
    return claims.makeDeferredReplicationsDue(this.#db, nowSeconds);
  }

  claimReplicationTasks(nowSeconds: number, limit: number): Promise<ReplicationTask[]> {
    return queues.claimReplicationTasks(this.#db, nowSeconds, limit);
  }

  claimDeletionTasks(nowSeconds: number, limit: number): Promise<DeletionTask[]> {
    return queues.claimDeletionTasks(this.#db, nowSeconds, limit);
  }

  renewClaims(
    scope: ClaimScope,
    fids: readonly number[],
    lease: number,
    newLease: number,
  ): Promise<number[]> {
    return claims.renewClaims(this.#db, scope, fids, lease, newLease);
  }

  finishQueueRow(table: WorkQueue, fid: number, lease?: number): Promise<void> {
    return queues.finishQueueRow(this.#db, table, fid, lease);
  }

  deferQueueRow(
    table: WorkQueue,
    fid: number,
    nexttry: number,
    failcount: number,
    lease?: number,
  ): Promise<void> {
    return queues.deferQueueRow(this.#db, table, fid, nexttry, failcount, lease);
  }

  addFileCopy(fid: number, devid: number, madeFor?: FileRow): Promise<CopyRecord> {
    return queues.addFileCopy(this.#db, fid, devid, madeFor);
  }

  removeFileCopy(fid: number, devid: number): Promise<void> {
    return queues.removeFileCopy(this.#db, fid, devid);
  }

  dropCopyRow(fid: number, devid: number): Promise<void> {
    return queues.dropCopyRow(this.#db, fid, devid);
  }

  saveChecksumIfAbsent(fid: number, checksum: StoredChecksum): Promise<void> {
    return queues.saveChecksumIfAbsent(this.#db, fid, checksum);
  }

  forgetDeletedFid(fid: number): Promise<void> {
    return queues.forgetDeletedFid(this.#db, fid);
  }

  staleTempfiles(createdBeforeSeconds: number, limit: number): Promise<TempfileRow[]> {
    return queues.staleTempfiles(this.#db, createdBeforeSeconds, limit);
  }

  abandonTempfile(tempfile: TempfileRow, nowSeconds: number): Promise<void> {
    return queues.abandonTempfile(this.#db, tempfile, nowSeconds);
  }

  reapDeviceCopies(batch: ReapBatch): Promise<number> {
    return queues.reapDeviceCopies(this.#db, batch);
  }

  replicationQueueLength(atMost: number): Promise<number> {
    return queues.replicationQueueLength(this.#db, atMost);
  }

  // ---- Fsck and rebalance (behaviour.md §9–10) ----
  genericQueueLength(type: GenericQueueType): Promise<number> {
    return fsck.genericQueueLength(this.#db, type);
  }

  claimGenericQueueTasks(
    type: GenericQueueType,
    nowSeconds: number,
    limit: number,
  ): Promise<GenericQueueTask[]> {
    return fsck.claimGenericQueueTasks(this.#db, type, nowSeconds, limit);
  }

  finishGenericQueueTask(type: GenericQueueType, fid: number, lease?: number): Promise<void> {
    return fsck.finishGenericQueueTask(this.#db, type, fid, lease);
  }

  deferGenericQueueTask(
    type: GenericQueueType,
    fid: number,
    nexttry: number,
    failcount: number,
    lease?: number,
  ): Promise<void> {
    return fsck.deferGenericQueueTask(this.#db, type, fid, nexttry, failcount, lease);
  }

  enqueueFsckBatch(batch: {
    readonly afterFid: number;
    readonly endFid: number;
    readonly limit: number;
    readonly targets: FsckTargets;
    readonly nowSeconds: number;
  }): Promise<{ queued: number; lastFid: number | undefined }> {
    return fsck.enqueueFsckBatch(this.#db, batch);
  }

  appendFsckLog(event: FsckEvent): Promise<void> {
    return fsck.appendFsckLog(this.#db, event);
  }

  fsckLogAfter(afterLogid: number, limit: number): Promise<FsckLogRow[]> {
    return fsck.fsckLogAfter(this.#db, afterLogid, limit);
  }

  clearFsckLog(): Promise<void> {
    return fsck.clearFsckLog(this.#db);
  }

  maxFsckLogid(): Promise<number> {
    return fsck.maxFsckLogid(this.#db);
  }

  summarizeFsckLog(): Promise<void> {
    return fsck.summarizeFsckLog(this.#db);
  }

  refreshFileDevcount(fid: number): Promise<boolean> {
    return fsck.refreshFileDevcount(this.#db, fid);
  }

  queueReplication(fid: number, nexttry: number): Promise<void> {
    return files.queueReplication(this.#db, fid, nexttry);
  }

  deviceFids(
    devid: number,
    afterFid: number,
    newestFirst: boolean,
    limit: number,
  ): Promise<DeviceFid[]> {
    return rebalance.deviceFids(this.#db, devid, afterFid, newestFirst, limit);
  }

  enqueueRebalanceItems(items: readonly RebalanceItem[], nowSeconds: number): Promise<void> {
    return rebalance.enqueueRebalanceItems(this.#db, items, nowSeconds);
  }
  // ---- end of fsck and rebalance ----

  // ---- Cluster statistics (`mogile_stats`); read-only ----
  classUsage(): Promise<ClassUsage[]> {
    return stats.classUsage(this.#db);
  }

  copyCounts(): Promise<CopyCount[]> {
    return stats.copyCounts(this.#db);
  }

  queueDepths(nowSeconds: number): Promise<Record<StatsQueue, QueueDepth>> {
    return stats.queueDepths(this.#db, nowSeconds);
  }
  // ---- end of cluster statistics ----

  acquireLease(
    name: string,
    holder: string,
    nowSeconds: number,
    ttlSeconds: number,
  ): Promise<boolean> {
    return leases.acquireLease(this.#db, name, holder, nowSeconds, ttlSeconds);
  }

  releaseLease(name: string, holder: string): Promise<void> {
    return leases.releaseLease(this.#db, name, holder);
  }

  listLeases(): Promise<LeaseRow[]> {
    return leases.listLeases(this.#db);
  }

  async analyzeTablesWithoutStatistics(): Promise<StatisticsRefresh> {
    return (
      (await this.#adapter.analyzeTablesWithoutStatistics?.(LOOKUP_TABLES)) ?? {
        analyzed: [],
        refused: [],
      }
    );
  }

  close(): Promise<void> {
    return this.#adapter.close();
  }
}

/** The tables every `get_paths` and `create_close` reads by key or fid. */
const LOOKUP_TABLES = ['file', 'file_on', 'checksum'] as const;
