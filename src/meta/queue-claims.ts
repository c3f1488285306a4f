import type { Kysely, Transaction } from 'kysely';
import {
  type Db,
  engineOf,
  mysqlAtLeast,
  mysqlVersion,
  reusableQueryOfShape,
} from './query-helpers.js';
import type { Database } from './tables.js';

/**
 * Leased claims on the work queues (architecture.md §6, metadata-schema.md §3). Several
 * trackers share one database, so a queue row is the lock on its fid: a claim selects due
 * rows with `FOR UPDATE SKIP LOCKED` (PostgreSQL, MySQL 8, MariaDB ≥ 10.6; SQLite has one
 * writer anyway) and, in the same transaction, pushes their nexttry forward by a short
 * lease. The nexttry a claim wrote is its token: the claimer renews, finishes and defers
 * the row only while nexttry still holds that token, so a row that another tracker took
 * after the lease ran out is never clobbered. A tracker that dies leaves rows that are due
 * again one lease later, instead of the original's 1000 s.
 */

/** How long a claim lasts unless renewed; holders renew every third of it. */
export const CLAIM_LEASE_SECONDS = 15;

/**
 * `file_to_replicate.flags` of a row under a claim. The column is reserved (always 0 in the
 * original); we mark claimed rows so that `replicate_now` leaves them alone: making a
 * claimed row due would let a second tracker copy the fid while its holder still does.
 */
export const CLAIMED_FLAG = 1;

export type ClaimTable = 'file_to_replicate' | 'file_to_delete2' | 'file_to_queue';

/** Every claimed row carries the nexttry its claim wrote. */
export interface Claimed {
  readonly fid: number;
  /** The claim's token: the row's nexttry while the claim holds. */
  readonly lease: number;
}

/** Which rows of a table a claim or renewal concerns (`type` for file_to_queue). */
export interface ClaimScope {
  readonly table: ClaimTable;
  readonly type?: number;
}

/**
 * Runs the claiming transaction: `select` picks due rows (already ordered and limited),
 * which are locked and skipped by concurrent claimers, then leased in the same
 * transaction. READ COMMITTED keeps MySQL from taking gap locks that would block inserts
 * of new queue rows while a claim runs.
 */
export async function claimRows<Row extends { fid: number }>(
  db: Kysely<Database>,
  scope: ClaimScope,
  nowSeconds: number,
  // biome-ignore lint/suspicious/noExplicitAny: a select query of whichever queue table
  select: (trx: Transaction<Database>) => any,
): Promise<(Row & Claimed)[]> {
  const engine = engineOf(db);
  const skipLocked = engine !== 'sqlite' && (await hasSkipLocked(db));
  const begin =
    engine === 'sqlite' ? db.transaction() : db.transaction().setIsolationLevel('read committed');
  return begin.execute(async (trx) => {
    const query = select(trx);
    const locking =
      engine === 'sqlite' ? query : skipLocked ? query.forUpdate().skipLocked() : query.forUpdate();
    const rows: Row[] = await locking.execute();
    const lease = nowSeconds + CLAIM_LEASE_SECONDS;
    for (let start = 0; start < rows.length; start += 500) {
      // Chunks keep the IN list below every engine's bound-parameter limit.
      const fids = rows.slice(start, start + 500).map((row) => row.fid);
      await scoped(trx, scope).set(leaseColumns(scope, lease)).where('fid', 'in', fids).execute();
    }
    return rows.map((row) => ({ ...row, lease }));
  });
}

/**
 * PostgreSQL has SKIP LOCKED since 9.5, MySQL since 8.0.1, MariaDB since 10.6. Older MySQL
 * servers get a plain FOR UPDATE: concurrent claims then wait for each other instead of
 * skipping, and still never take the same row.
 */
async function hasSkipLocked(db: Kysely<Database>): Promise<boolean> {
  return engineOf(db) === 'postgres' || mysqlHasSkipLocked(await mysqlVersion(db));
}

/** For `VERSION()` of MySQL (`8.0.36`) or MariaDB (`10.11.6-MariaDB-0+deb12u1`). */
export function mysqlHasSkipLocked(version: string): boolean {
  return mysqlAtLeast(version, [8, 0, 1], [10, 6, 0]);
}

/**
 * Extends the claims of `fids` that still carry token `lease` to `newLease`; returns the
 * fids that are still ours. The others were finished by us meanwhile or taken by another
 * tracker after the lease ran out.
 */
export async function renewClaims(
  db: Kysely<Database>,
  scope: ClaimScope,
  fids: readonly number[],
  lease: number,
  newLease: number,
): Promise<number[]> {
  const kept: number[] = [];
  for (let start = 0; start < fids.length; start += 500) {
    const chunk = fids.slice(start, start + 500);
    await scoped(db, scope)
      .set({ nexttry: newLease })
      .where('fid', 'in', chunk)
      .where('nexttry', '=', lease)
      .execute();
    // Read back rather than trust affected-row counts, which MySQL reports as "changed".
    let check = db
      .selectFrom(scope.table)
      .select('fid')
      .where('fid', 'in', chunk)
      .where('nexttry', '=', newLease);
    if (scope.type !== undefined) check = check.where('type', '=', scope.type);
    for (const row of await check.execute()) kept.push(row.fid);
  }
  return kept;
}

/** Deletes a finished row; with `lease`, only while that claim still holds it. */
export async function finishClaimed(
  db: Db,
  scope: ClaimScope,
  fid: number,
  lease?: number,
): Promise<void> {
  const { table, type } = scope;
  const withType = type !== undefined;
  const withLease = lease !== undefined;
  const run = reusableQueryOfShape(
    `finish ${table} type=${withType} lease=${withLease}`,
    (db: Db, fid: number, type: number | undefined, lease: number | undefined) => {
      let query = db.deleteFrom(table).where('fid', '=', fid);
      if (withType) query = query.where('type', '=', type!);
      if (withLease) query = query.where('nexttry', '=', lease!);
      return query;
    },
  );
  await run(db, fid, type, lease);
}

/** Reschedules a row; with `lease`, only while that claim still holds it. */
export async function deferClaimed(
  db: Db,
  scope: ClaimScope,
  fid: number,
  retry: { readonly nexttry: number; readonly failcount: number; readonly lease?: number },
): Promise<void> {
  // failcount is a TINYINT UNSIGNED in the original schema.
  const failcount = Math.min(retry.failcount, 255);
  let query = scoped(db, scope)
    .set({ ...leaseColumns(scope, retry.nexttry, false), failcount })
    .where('fid', '=', fid);
  if (retry.lease !== undefined) query = query.where('nexttry', '=', retry.lease);
  await query.execute();
}

// biome-ignore lint/suspicious/noExplicitAny: an update of whichever queue table is named
function scoped(db: Db, scope: ClaimScope): any {
  const update = db.updateTable(scope.table);
  return scope.type === undefined ? update : update.where('type', '=', scope.type);
}

function leaseColumns(scope: ClaimScope, nexttry: number, claimed = true) {
  if (scope.table !== 'file_to_replicate') return { nexttry };
  return { nexttry, flags: claimed ? CLAIMED_FLAG : 0 };
}

/** `replicate_now`: every deferred replication row is due now, claimed rows excepted. */
export async function makeDeferredReplicationsDue(
  db: Kysely<Database>,
  nowSeconds: number,
): Promise<number> {
  const result = await db
    .updateTable('file_to_replicate')
    .set({ nexttry: nowSeconds })
    .where('nexttry', '>', nowSeconds)
    .where('flags', '<>', CLAIMED_FLAG)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
