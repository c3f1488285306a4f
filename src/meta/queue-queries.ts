import { type Kysely, sql } from 'kysely';
import { refreshDevcountQuery, toFileRow, toTempfileRow } from './file-queries.js';
import type { Db } from './query-helpers.js';
import { engineOf, forUpdate, insertIgnoring, reusableQuery } from './query-helpers.js';
import { type Claimed, claimRows, deferClaimed, finishClaimed } from './queue-claims.js';
import type { CopyRecord, FileRow, StoredChecksum, TempfileRow } from './rows.js';
import type { Database } from './tables.js';

/**
 * The background workers' queries (spec metadata-schema.md §2–3): claiming due queue rows,
 * finishing or deferring them, and the copy bookkeeping that goes with them. Every
 * function is one small transaction so that client queries never wait long behind a
 * worker (architecture.md §5).
 */

/** A claimed `file_to_replicate` row. */
export interface ReplicationTask extends Claimed {
  readonly fromdevid: number | null;
  readonly failcount: number;
}

/** A claimed `file_to_delete2` row. */
export interface DeletionTask extends Claimed {
  readonly failcount: number;
}

/**
 * Claims due replication rows in nexttry order (new files, nexttry 0, first) under a
 * short lease (queue-claims.ts; architecture.md §6).
 */
export function claimReplicationTasks(
  db: Kysely<Database>,
  nowSeconds: number,
  limit: number,
): Promise<ReplicationTask[]> {
  return claimRows(db, { table: 'file_to_replicate' }, nowSeconds, (trx) =>
    trx
      .selectFrom('file_to_replicate')
      .select(['fid', 'fromdevid', 'failcount'])
      .where('nexttry', '<=', nowSeconds)
      .orderBy('nexttry')
      .limit(limit),
  );
}

export function claimDeletionTasks(
  db: Kysely<Database>,
  nowSeconds: number,
  limit: number,
): Promise<DeletionTask[]> {
  return claimRows(db, { table: 'file_to_delete2' }, nowSeconds, (trx) =>
    trx
      .selectFrom('file_to_delete2')
      .select(['fid', 'failcount'])
      .where('nexttry', '<=', nowSeconds)
      .orderBy('nexttry')
      .limit(limit),
  );
}

/** Deletes a finished row; with `lease`, only while that claim still holds it. */
export function finishQueueRow(
  db: Db,
  table: 'file_to_replicate' | 'file_to_delete2',
  fid: number,
  lease?: number,
): Promise<void> {
  return finishClaimed(db, { table }, fid, lease);
}

/** Reschedules a row; with `lease`, only while that claim still holds it. */
export function deferQueueRow(
  db: Db,
  table: 'file_to_replicate' | 'file_to_delete2',
  fid: number,
  nexttry: number,
  failcount: number,
  lease?: number,
): Promise<void> {
  return deferClaimed(db, { table }, fid, {
    nexttry,
    failcount,
    ...(lease !== undefined && { lease }),
  });
}

/** The file row, locked until the transaction ends where the engine has row locks. */
const lockedFileByFidQuery = reusableQuery((db: Db, fid: number) =>
  forUpdate(db, db.selectFrom('file').selectAll().where('fid', '=', fid)),
);

/**
 * Makes the fid's deletion due at once, whether or not a row waits already. A row some
 * tracker's delete worker holds gets its claim token replaced (0 is never a token: claims
 * write a time ahead of their clock), so that worker cannot finish the row without
 * seeing a copy recorded after it looked: the row stays, due, for the next pass.
 */
const deletionDueNowQuery = reusableQuery((db: Db, fid: number) => {
  const insert = db.insertInto('file_to_delete2').values({ fid, nexttry: 0, failcount: 0 });
  // file_to_delete2 has no key but fid, so MySQL's duplicate-key update hits only this row.
  return engineOf(db) === 'mysql'
    ? insert.onDuplicateKeyUpdate({ nexttry: 0 })
    : insert.onConflict((conflict) => conflict.column('fid').doUpdateSet({ nexttry: 0 }));
});

/** Ends an `addFileCopy` transaction without writing: the file is not the one copied. */
class NotTheFileCopied extends Error {
  constructor(readonly now: FileRow) {
    super(`fid ${now.fid} changed while it was copied`);
  }
}

/**
 * Records a verified copy and refreshes devcount, in one transaction that holds the file
 * row: a delete of the file waits for it, so the delete worker then sees this copy. When
 * the file was deleted while the copy was made, the copy is recorded anyway and the fid's
 * deletion made due again, so the bytes are removed instead of leaking, even when another
 * tracker's delete worker is already at it. With `madeFor`, nothing is written when the
 * row now differs from it in dmid or length (a new key does not matter: the copy holds
 * the fid's bytes whatever the key is called).
 */
export async function addFileCopy(
  db: Kysely<Database>,
  fid: number,
  devid: number,
  madeFor?: FileRow,
): Promise<CopyRecord> {
  try {
    return await db.transaction().execute(async (trx): Promise<CopyRecord> => {
      await insertIgnoring(trx, 'file_on', { fid, devid });
      const row = (await lockedFileByFidQuery(trx, fid)).rows[0];
      if (!row) {
        await deletionDueNowQuery(trx, fid);
        return { outcome: 'file_deleted' };
      }
      const now = toFileRow(row);
      if (madeFor && !sameBytes(now, madeFor)) throw new NotTheFileCopied(now);
      await refreshDevcountQuery(trx, fid);
      return { outcome: 'recorded' };
    });
  } catch (error) {
    if (error instanceof NotTheFileCopied) return { outcome: 'file_changed', now: error.now };
    throw error;
  }
}

function sameBytes(a: FileRow, b: FileRow): boolean {
  return a.fid === b.fid && a.dmid === b.dmid && a.length === b.length;
}

/** Forgets one copy and refreshes devcount (surplus removal, behaviour.md §6.4). */
export function removeFileCopy(db: Kysely<Database>, fid: number, devid: number): Promise<void> {
  return db.transaction().execute(async (trx) => {
    await trx.deleteFrom('file_on').where('fid', '=', fid).where('devid', '=', devid).execute();
    await refreshDevcountQuery(trx, fid);
  });
}

/** Drops a `file_on` row of a deleted fid; devcount is moot, the file row is gone. */
export async function dropCopyRow(db: Db, fid: number, devid: number): Promise<void> {
  await db.deleteFrom('file_on').where('fid', '=', fid).where('devid', '=', devid).execute();
}

/** Records the fid's checksum unless it has one; one statement, so no race between trackers. */
export async function saveChecksumIfAbsent(
  db: Db,
  fid: number,
  checksum: StoredChecksum,
): Promise<void> {
  await insertIgnoring(db, 'checksum', {
    fid,
    hashtype: checksum.hashtype,
    checksum: checksum.digest,
  });
}

/** The delete worker's first step (§2.3): the fid's checksum and tempfile rows go. */
export function forgetDeletedFid(db: Kysely<Database>, fid: number): Promise<void> {
  return db.transaction().execute(async (trx) => {
    await trx.deleteFrom('checksum').where('fid', '=', fid).execute();
    await trx.deleteFrom('tempfile').where('fid', '=', fid).execute();
  });
}

export async function staleTempfiles(
  db: Db,
  createdBeforeSeconds: number,
  limit: number,
): Promise<TempfileRow[]> {
  const rows = await db
    .selectFrom('tempfile')
    .selectAll()
    .where('createtime', '<', createdBeforeSeconds)
    .orderBy('fid')
    .limit(limit)
    .execute();
  return rows.map(toTempfileRow);
}

/**
 * An abandoned upload (metadata-schema.md §2.4): when no file row took the fid, every
 * device it was offered is queued for deletion (404s are fine); the tempfile row goes.
 */
export function abandonTempfile(
  db: Kysely<Database>,
  tempfile: TempfileRow,
  nowSeconds: number,
): Promise<void> {
  return db.transaction().execute(async (trx) => {
    const deleted = await trx
      .deleteFrom('tempfile')
      .where('fid', '=', tempfile.fid)
      .executeTakeFirst();
    // create_close claimed it meanwhile: the upload is not abandoned after all.
    if (Number(deleted.numDeletedRows) === 0) return;
    const bound = await trx
      .selectFrom('file')
      .select('fid')
      .where('fid', '=', tempfile.fid)
      .executeTakeFirst();
    const devids = tempfile.devids ?? '';
    if (bound || !/^\d+(,\d+)*$/.test(devids)) return;
    for (const devid of new Set(devids.split(',').map(Number))) {
      await insertIgnoring(trx, 'file_on', { fid: tempfile.fid, devid });
    }
    await insertIgnoring(trx, 'file_to_delete2', {
      fid: tempfile.fid,
      nexttry: nowSeconds,
      failcount: 0,
    });
  });
}

/** One reaper batch over a dead device (metadata-schema.md §2.6). */
export interface ReapBatch {
  readonly devid: number;
  readonly nowSeconds: number;
  /** The most `file_on` rows this batch takes (`queue_rate_for_reaper`). */
  readonly limit: number;
}

/**
 * Rows in `file_to_replicate`, counted up to `atMost` only (the reaper's
 * `queue_size_for_reaper`): a huge queue costs no more to count than a full one.
 */
export async function replicationQueueLength(
  db: Kysely<Database>,
  atMost: number,
): Promise<number> {
  const { queued } = await db
    .selectFrom((eb) =>
      eb.selectFrom('file_to_replicate').select('fid').limit(Math.max(atMost, 0)).as('capped'),
    )
    .select((eb) => eb.fn.countAll<number>().as('queued'))
    .executeTakeFirstOrThrow();
  return Number(queued);
}

/**
 * One reaper batch over a dead device (§2.6): up to `limit` of its copies are queued for
 * replication (nexttry now + 1) and forgotten. Set-based, so a batch is a constant number
 * of statements whatever its size: one SELECT, one multi-row insert-if-absent, one DELETE,
 * in one transaction. devcount is left alone, as in the original; the replicator
 * refreshes it when it adds the new copy. Returns the rows handled.
 */
export function reapDeviceCopies(db: Kysely<Database>, batch: ReapBatch): Promise<number> {
  const { devid, nowSeconds } = batch;
  const limit = Math.floor(batch.limit);
  if (limit <= 0) return Promise.resolve(0);
  return db.transaction().execute(async (trx) => {
    const rows = await trx
      .selectFrom('file_on')
      .select('fid')
      .where('devid', '=', devid)
      .limit(limit)
      .execute();
    if (rows.length === 0) return 0;
    const fids = rows.map((row) => row.fid);
    // INSERT … SELECT: one parameter per fid, so even the largest batch stays far below
    // every engine's limit (SQLite's 32,766). The other columns take their defaults.
    const queued = trx
      .insertInto('file_to_replicate')
      .columns(['fid', 'nexttry'])
      .expression((eb) =>
        eb
          .selectFrom('file_on')
          .select(['fid', sql.lit(Math.trunc(nowSeconds) + 1).as('nexttry')])
          .where('devid', '=', devid)
          .where('fid', 'in', fids),
      );
    if (engineOf(trx) === 'mysql') await queued.ignore().execute();
    else await queued.onConflict((conflict) => conflict.doNothing()).execute();
    await trx.deleteFrom('file_on').where('devid', '=', devid).where('fid', 'in', fids).execute();
    return rows.length;
  });
}
