import { type Kysely, sql } from 'kysely';
import { correctDevcountQuery } from './file-queries.js';
import { engineOf, forUpdate, insertIgnoring, maxOf } from './query-helpers.js';
import { type Claimed, claimRows, deferClaimed, finishClaimed } from './queue-claims.js';
import type { Database } from './tables.js';

/**
 * Fsck's queries (spec behaviour.md §9, metadata-schema.md §1.14–1.15, §2.9) and the
 * generic `file_to_queue` claiming it shares with rebalance (type 1 = fsck, 2 = rebalance).
 */

export type GenericQueueType = 1 | 2;

/** A claimed `file_to_queue` row. */
export interface GenericQueueTask extends Claimed {
  readonly devid: number | null;
  readonly arg: string | null;
  readonly failcount: number;
}

/** Which files an fsck run checks (mogile's `fsck_start` targets, docs/operations.md). */
export interface FsckTargets {
  readonly dmid?: number;
  readonly classid?: number;
  readonly keyPrefix?: string;
  readonly devid?: number;
}

export interface FsckLogRow {
  readonly logid: number;
  readonly utime: number;
  readonly fid: number | null;
  readonly evcode: string | null;
  readonly devid: number | null;
}

export interface FsckEvent {
  readonly utimeSeconds: number;
  readonly fid: number;
  readonly evcode: string;
  readonly devid?: number | undefined;
}

export async function genericQueueLength(
  db: Kysely<Database>,
  type: GenericQueueType,
): Promise<number> {
  const row = await db
    .selectFrom('file_to_queue')
    .select((eb) => eb.fn.countAll<number>().as('rows'))
    .where('type', '=', type)
    .executeTakeFirst();
  return Number(row?.rows ?? 0);
}

/**
 * Claims due rows of one generic queue in nexttry order under a short lease, like the
 * replication queue (queue-claims.ts; metadata-schema.md §3).
 */
export function claimGenericQueueTasks(
  db: Kysely<Database>,
  type: GenericQueueType,
  nowSeconds: number,
  limit: number,
): Promise<GenericQueueTask[]> {
  return claimRows(db, { table: 'file_to_queue', type }, nowSeconds, (trx) =>
    trx
      .selectFrom('file_to_queue')
      .select(['fid', 'devid', 'arg', 'failcount'])
      .where('type', '=', type)
      .where('nexttry', '<=', nowSeconds)
      .orderBy('nexttry')
      .limit(limit),
  );
}

/** Deletes a finished row; with `lease`, only while that claim still holds it. */
export function finishGenericQueueTask(
  db: Kysely<Database>,
  type: GenericQueueType,
  fid: number,
  lease?: number,
): Promise<void> {
  return finishClaimed(db, { table: 'file_to_queue', type }, fid, lease);
}

/** Reschedules a row; with `lease`, only while that claim still holds it. */
export function deferGenericQueueTask(
  db: Kysely<Database>,
  type: GenericQueueType,
  fid: number,
  nexttry: number,
  failcount: number,
  lease?: number,
): Promise<void> {
  return deferClaimed(db, { table: 'file_to_queue', type }, fid, {
    nexttry,
    failcount,
    ...(lease !== undefined && { lease }),
  });
}

/**
 * Queues the next batch of fids after `afterFid` up to `endFid` for fsck (§9.1) and returns
 * how many were queued and the last fid seen; `lastFid` undefined means the run is over.
 */
export function enqueueFsckBatch(
  db: Kysely<Database>,
  batch: {
    readonly afterFid: number;
    readonly endFid: number;
    readonly limit: number;
    readonly targets: FsckTargets;
    readonly nowSeconds: number;
  },
): Promise<{ queued: number; lastFid: number | undefined }> {
  return db.transaction().execute(async (trx) => {
    let query = trx
      .selectFrom('file')
      .select('file.fid')
      .where('file.fid', '>', batch.afterFid)
      .where('file.fid', '<=', batch.endFid)
      .orderBy('file.fid')
      .limit(batch.limit);
    const { dmid, classid, keyPrefix, devid } = batch.targets;
    if (dmid !== undefined) query = query.where('file.dmid', '=', dmid);
    if (classid !== undefined) query = query.where('file.classid', '=', classid);
    if (keyPrefix) query = query.where(prefixMatch(engineOf(trx), keyPrefix));
    if (devid !== undefined) {
      query = query.where((eb) =>
        eb.exists(
          eb
            .selectFrom('file_on')
            .select('file_on.fid')
            .whereRef('file_on.fid', '=', 'file.fid')
            .where('file_on.devid', '=', devid),
        ),
      );
    }
    const rows = await query.execute();
    for (const { fid } of rows) {
      await insertIgnoring(trx, 'file_to_queue', {
        fid,
        devid: null,
        type: 1,
        nexttry: batch.nowSeconds,
        failcount: 0,
        flags: 0,
        arg: null,
      });
    }
    return { queued: rows.length, lastFid: rows.at(-1)?.fid };
  });
}

/** `dkey` starts with `prefix`, byte for byte on every engine (no LIKE wildcards). */
function prefixMatch(engine: ReturnType<typeof engineOf>, prefix: string) {
  const length = Buffer.byteLength(prefix, 'utf8');
  if (engine === 'mysql')
    return sql<boolean>`LEFT(file.dkey, ${[...prefix].length}) = BINARY ${prefix}`;
  if (engine === 'postgres')
    return sql<boolean>`left(file.dkey, ${[...prefix].length}) = ${prefix}`;
  return sql<boolean>`substr(CAST(file.dkey AS BLOB), 1, ${length}) = CAST(${prefix} AS BLOB)`;
}

export async function appendFsckLog(db: Kysely<Database>, event: FsckEvent): Promise<void> {
  await db
    .insertInto('fsck_log')
    .values({
      utime: event.utimeSeconds,
      fid: event.fid,
      evcode: event.evcode,
      devid: event.devid ?? null,
    })
    .execute();
}

export async function fsckLogAfter(
  db: Kysely<Database>,
  afterLogid: number,
  limit: number,
): Promise<FsckLogRow[]> {
  return db
    .selectFrom('fsck_log')
    .selectAll()
    .where('logid', '>', afterLogid)
    .orderBy('logid')
    .limit(limit)
    .execute();
}

/** `fsck_clearlog` (tracker-protocol.md §6.19): MySQL truncates, resetting logids. */
export async function clearFsckLog(db: Kysely<Database>): Promise<void> {
  if (engineOf(db) === 'mysql') await sql`TRUNCATE TABLE fsck_log`.execute(db);
  else await db.deleteFrom('fsck_log').execute();
}

export function maxFsckLogid(db: Kysely<Database>): Promise<number> {
  return maxOf(db, 'fsck_log', 'logid');
}

const SUM_PREFIX = 'fsck_sum_evcount_';

/**
 * Folds log rows after `fsck_logid_processed` into the `fsck_sum_evcount_<CODE>` counters
 * (§9.1). The cursor row is locked so two trackers never count the same rows twice; it
 * stands in for the original's `mgfs:fscksum` lock.
 */
export function summarizeFsckLog(db: Kysely<Database>): Promise<void> {
  return db.transaction().execute(async (trx) => {
    const cursorQuery = trx
      .selectFrom('server_settings')
      .select('value')
      .where('field', '=', 'fsck_logid_processed');
    const cursor = Number((await forUpdate(trx, cursorQuery).executeTakeFirst())?.value ?? 0) || 0;
    const top = await maxOf(trx, 'fsck_log', 'logid');
    if (top <= cursor) return;
    const counts = await trx
      .selectFrom('fsck_log')
      .select(['evcode', (eb) => eb.fn.countAll<number>().as('events')])
      .where('logid', '>', cursor)
      .where('logid', '<=', top)
      .groupBy('evcode')
      .execute();
    for (const { evcode, events } of counts) {
      if (!evcode) continue;
      const field = `${SUM_PREFIX}${evcode.trim()}`;
      const row = await trx
        .selectFrom('server_settings')
        .select('value')
        .where('field', '=', field)
        .executeTakeFirst();
      await writeSetting(trx, field, String((Number(row?.value ?? 0) || 0) + Number(events)));
    }
    await writeSetting(trx, 'fsck_logid_processed', String(top));
  });
}

async function writeSetting(db: Kysely<Database>, field: string, value: string): Promise<void> {
  await db.deleteFrom('server_settings').where('field', '=', field).execute();
  await db.insertInto('server_settings').values({ field, value }).execute();
}

/** Sets devcount to the number of `file_on` rows; returns true when it was wrong. */
export async function refreshFileDevcount(db: Kysely<Database>, fid: number): Promise<boolean> {
  const result = await correctDevcountQuery(db, fid);
  return Number(result.numAffectedRows ?? 0) > 0;
}
