import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import { MetaDuplicateError, MetaKeyCollisionError } from './errors.js';
import {
  type Db,
  engineOf,
  insertIgnoring,
  mysqlAtLeast,
  mysqlVersion,
  reusableQuery,
  reusableQueryOfShape,
} from './query-helpers.js';
import type {
  CommittedFile,
  FidBinding,
  FidQueues,
  FileRow,
  LocatedFile,
  StoredChecksum,
  TempfileRow,
} from './rows.js';
import type { Database } from './tables.js';

/** The file-lifecycle queries of the store (spec metadata-schema.md §2). */

/*
 * The statements of the store and read paths are reusable (compiled once per engine); the
 * rest are built per call.
 */
const fileByKeyQuery = reusableQuery((db: Db, dmid: number, key: string) =>
  db.selectFrom('file').selectAll().where('dmid', '=', dmid).where('dkey', '=', key),
);
const fileByFidQuery = reusableQuery((db: Db, fid: number) =>
  db.selectFrom('file').selectAll().where('fid', '=', fid),
);
const devidsOfFidQuery = reusableQuery((db: Db, fid: number) =>
  db.selectFrom('file_on').select('devid').where('fid', '=', fid),
);
const tempfileByFidQuery = reusableQuery((db: Db, fid: number) =>
  db.selectFrom('tempfile').selectAll().where('fid', '=', fid),
);
const deleteTempfileQuery = reusableQuery((db: Db, fid: number) =>
  db.deleteFrom('tempfile').where('fid', '=', fid),
);
const deleteTempfileReturningQuery = reusableQuery((db: Db, fid: number) =>
  db.deleteFrom('tempfile').where('fid', '=', fid).returningAll(),
);
const deleteFileQuery = reusableQuery((db: Db, fid: number) =>
  db.deleteFrom('file').where('fid', '=', fid),
);
/**
 * The fid's `file_on` rows counted as `file.devcount` holds them (at most 255, a TINYINT),
 * as a subquery: the count is taken by the statement that writes it.
 */
const copyCount = (db: Db, fid: number) =>
  db
    .selectFrom('file_on')
    .select(sql<number>`case when count(*) > 255 then 255 else count(*) end`.as('copies'))
    .where('fid', '=', fid);

/** `devcount` set from the fid's `file_on` rows in one statement. */
export const refreshDevcountQuery = reusableQuery((db: Db, fid: number) =>
  db
    .updateTable('file')
    .set({ devcount: copyCount(db, fid) })
    .where('fid', '=', fid),
);

/** `refreshDevcountQuery` that touches the row only when its devcount is wrong. */
export const correctDevcountQuery = reusableQuery((db: Db, fid: number) =>
  db
    .updateTable('file')
    .set({ devcount: copyCount(db, fid) })
    .where('fid', '=', fid)
    .where('devcount', '<>', copyCount(db, fid)),
);

/** A file row's values; its devcount is counted from `file_on` as it is written. */
type FileValues = [fid: number, dmid: number, dkey: string, length: number, classid: number];
const insertFile = (db: Db, ...[fid, dmid, dkey, length, classid]: FileValues) =>
  db.insertInto('file').values({ fid, dmid, dkey, length, classid, devcount: copyCount(db, fid) });
const insertFileQuery = reusableQuery(insertFile);
/** `insertFileQuery` over any row of the same fid (PostgreSQL, SQLite). */
const upsertFileQuery = reusableQuery((db: Db, ...values: FileValues) =>
  insertFile(db, ...values).onConflict((conflict) =>
    conflict.column('fid').doUpdateSet((eb) => ({
      dmid: eb.ref('excluded.dmid'),
      dkey: eb.ref('excluded.dkey'),
      length: eb.ref('excluded.length'),
      classid: eb.ref('excluded.classid'),
      devcount: eb.ref('excluded.devcount'),
    })),
  ),
);
const checksumByFidQuery = reusableQuery((db: Db, fid: number) =>
  db.selectFrom('checksum').selectAll().where('fid', '=', fid),
);
const deleteChecksumQuery = reusableQuery((db: Db, fid: number) =>
  db.deleteFrom('checksum').where('fid', '=', fid),
);
const insertChecksum = (db: Db, fid: number, hashtype: number, checksum: Uint8Array) =>
  db.insertInto('checksum').values({ fid, hashtype, checksum });
const insertChecksumQuery = reusableQuery(insertChecksum);
/** `insertChecksumQuery` over any row of the same fid (PostgreSQL, SQLite). */
const upsertChecksumQuery = reusableQuery(
  (db: Db, fid: number, hashtype: number, checksum: Uint8Array) =>
    insertChecksum(db, fid, hashtype, checksum).onConflict((conflict) =>
      conflict.column('fid').doUpdateSet((eb) => ({
        hashtype: eb.ref('excluded.hashtype'),
        checksum: eb.ref('excluded.checksum'),
      })),
    ),
);

export async function findFile(db: Db, dmid: number, key: string): Promise<FileRow | undefined> {
  const row = sameKeyRows(db, (await fileByKeyQuery(db, dmid, key)).rows, key)[0];
  return row && toFileRow(row);
}

/**
 * The rows of exactly `key`. MySQL and MariaDB compare keys by the column's collation,
 * which ignores trailing spaces (every `_bin` collation but the NO PAD ones) and, in
 * databases made by the original, case: there `foo ` finds the file of `foo`. Key lookups
 * keep only the rows whose key is byte for byte the one asked for, so that one key never
 * reads or changes another's file. PostgreSQL (COLLATE "C") and SQLite compare exactly.
 */
function sameKeyRows<Row extends { dkey: string | null }>(db: Db, rows: Row[], key: string): Row[] {
  return engineOf(db) === 'mysql' ? rows.filter((row) => row.dkey === key) : rows;
}

/**
 * Renames the file of exactly `fromKey`; false when there is none. A `toKey` the database
 * already has (by its own comparison) fails on the unique key, which the store reports as
 * MetaDuplicateError.
 */
export async function renameFile(
  db: Db,
  dmid: number,
  fromKey: string,
  toKey: string,
): Promise<boolean> {
  let update = db
    .updateTable('file')
    .set({ dkey: toKey })
    .where('dmid', '=', dmid)
    .where('dkey', '=', fromKey);
  if (engineOf(db) === 'mysql') {
    // The collation may match another key than `fromKey`: rename only that key's fid.
    const file = await findFile(db, dmid, fromKey);
    if (!file) return false;
    update = update.where('fid', '=', file.fid);
  }
  return Number((await update.executeTakeFirst()).numUpdatedRows) > 0;
}

/** Files with their checksum and copies, one row per copy: the read path's join. */
function locatedRows(db: Db) {
  return db
    .selectFrom('file as f')
    .leftJoin('checksum as c', 'c.fid', 'f.fid')
    .leftJoin('file_on as o', 'o.fid', 'f.fid')
    .select([
      'f.fid',
      'f.dmid',
      'f.dkey',
      'f.length',
      'f.classid',
      'f.devcount',
      'c.hashtype',
      'c.checksum',
      'o.devid',
    ]);
}

const locateFileQuery = reusableQuery((db: Db, dmid: number, key: string) =>
  locatedRows(db).where('f.dmid', '=', dmid).where('f.dkey', '=', key),
);

const locateFidQuery = reusableQuery((db: Db, fid: number) =>
  locatedRows(db).where('f.fid', '=', fid),
);

/**
 * Keys per batched lookup statement. The keys go as a list of parameters (`dkey in ($2, …)`),
 * one statement per count, because PostgreSQL plans a prepared `dkey = any($2)` anew on
 * every call (its generic plan cannot know the array's length), which cost 3–4 times the
 * lookup itself; a fixed list keeps one plan. Beyond 16 keys the generic plan costs more
 * per key, so larger batches go as several statements.
 */
const MAX_KEYS_PER_LOOKUP = 16;

/** The batched lookup of exactly `count` keys (PostgreSQL, MySQL). */
function locateFilesQuery(count: number) {
  return reusableQueryOfShape(`locate-files ${count}`, (db: Db, dmid: number, ...keys: string[]) =>
    locatedRows(db).where('f.dmid', '=', dmid).where('f.dkey', 'in', keys),
  );
}

type LocatedRow = Awaited<ReturnType<typeof locateFileQuery>>['rows'][number];

/**
 * A key's file row with its checksum and the devices holding it, in one statement: the
 * read path (`get_paths`) needs all three for every request.
 */
export async function locateFile(
  db: Db,
  dmid: number,
  key: string,
): Promise<LocatedFile | undefined> {
  const rows = sameKeyRows(db, (await locateFileQuery(db, dmid, key)).rows, key);
  return rows.length === 0 ? undefined : toLocatedFile(rows);
}

/** `locateFile` by fid: what the replicator needs of a file, in one statement. */
export async function locateFid(db: Db, fid: number): Promise<LocatedFile | undefined> {
  const { rows } = await locateFidQuery(db, fid);
  return rows.length === 0 ? undefined : toLocatedFile(rows);
}

/**
 * `locateFile` for several keys of one domain (PostgreSQL, MySQL), by key, in one statement
 * per 16 keys; a key with no file is absent, and so is one that a MySQL collation matched
 * to a row of another key (each row goes to its own key only).
 */
export async function locateFiles(
  db: Db,
  dmid: number,
  keys: readonly string[],
): Promise<Map<string, LocatedFile>> {
  const chunks: string[][] = [];
  for (let at = 0; at < keys.length; at += MAX_KEYS_PER_LOOKUP) {
    chunks.push(keys.slice(at, at + MAX_KEYS_PER_LOOKUP));
  }
  const results = await Promise.all(
    chunks.map((chunk) => locateFilesQuery(chunk.length)(db, dmid, ...chunk)),
  );
  const byKey = new Map<string, LocatedRow[]>();
  for (const row of results.flatMap((result) => result.rows)) {
    const same = byKey.get(row.dkey);
    if (same) same.push(row);
    else byKey.set(row.dkey, [row]);
  }
  const located = new Map<string, LocatedFile>();
  for (const [key, same] of byKey) located.set(key, toLocatedFile(same));
  return located;
}

/** The rows of one file (one per copy, or one with no copy) as a LocatedFile. */
function toLocatedFile(rows: readonly LocatedRow[]): LocatedFile {
  const first = rows[0]!;
  return {
    file: toFileRow(first),
    ...(first.hashtype !== null &&
      first.checksum !== null && {
        checksum: { hashtype: first.hashtype, digest: new Uint8Array(first.checksum) },
      }),
    devids: rows.flatMap((row) => (row.devid === null ? [] : [row.devid])),
  };
}

export async function findFileByFid(db: Db, fid: number): Promise<FileRow | undefined> {
  const row = (await fileByFidQuery(db, fid)).rows[0];
  return row && toFileRow(row);
}

export async function fileDevids(db: Db, fid: number): Promise<number[]> {
  const { rows } = await devidsOfFidQuery(db, fid);
  return rows.map((row) => row.devid);
}

/**
 * Reads and deletes the tempfile row; whoever deletes it owns the close (§2.1). One
 * `DELETE … RETURNING` where the server has it (MariaDB since 10.0.5, not MySQL); elsewhere
 * a read and a delete share a transaction.
 */
export async function claimTempfile(
  db: Kysely<Database>,
  fid: number,
): Promise<TempfileRow | undefined> {
  if (engineOf(db) !== 'mysql' || (await hasDeleteReturning(db))) {
    const claimed = (await deleteTempfileReturningQuery(db, fid)).rows[0];
    return claimed && toTempfileRow(claimed);
  }
  return db.transaction().execute(async (trx) => {
    const row = (await tempfileByFidQuery(trx, fid)).rows[0];
    if (!row) return undefined;
    const deleted = await deleteTempfileQuery(trx, fid);
    return Number(deleted.numAffectedRows) === 1 ? toTempfileRow(row) : undefined;
  });
}

async function hasDeleteReturning(db: Kysely<Database>): Promise<boolean> {
  return mysqlAtLeast(await mysqlVersion(db), null, [10, 0, 5]);
}

/**
 * Binds the key to the uploaded fid in one transaction: replaces an older fid (queued for
 * deletion), records the copy and the checksum, and queues replication.
 * Throws MetaDuplicateError when the key is already bound to this very fid.
 */
export async function commitFile(
  db: Transaction<Database>,
  file: CommittedFile,
): Promise<{ replacedFid?: number }> {
  const rows = (await fileByKeyQuery(db, file.dmid, file.key)).rows;
  // Another key the database takes for this one (MySQL's collations, see sameKeyRows):
  // writing this key would replace that key's file.
  const other = rows.find((row) => row.dkey !== file.key);
  if (other) throw new MetaKeyCollisionError(file.key, other.dkey);
  const current = rows[0] && toFileRow(rows[0]);
  if (current?.fid === file.fid) throw new MetaDuplicateError(`fid ${file.fid} is already bound`);
  if (current) await deleteFileRow(db, current.fid, file.nowSeconds);
  await insertIgnoring(db, 'file_on', { fid: file.fid, devid: file.devid });
  if (file.checksum) await saveChecksum(db, file.fid, file.checksum);
  await saveFileRow(db, file.fid, file.dmid, file.key, file.lengthBytes, file.classid);
  await queueReplication(db, file.fid, 0);
  return current ? { replacedFid: current.fid } : {};
}

/**
 * Gives up on an upload: records the copy the client may have written and queues the fid
 * for deletion, so the delete worker removes whatever reached the node (§2.1, step 4).
 */
export async function abandonUpload(
  db: Transaction<Database>,
  fid: number,
  devid: number,
  nowSeconds: number,
) {
  await insertIgnoring(db, 'file_on', { fid, devid });
  await deleteFileRow(db, fid, nowSeconds);
}

/** Removes the file row and queues its fid for deletion of every copy (§2.3). */
export async function deleteFileRow(db: Db, fid: number, nowSeconds: number): Promise<void> {
  await deleteFileQuery(db, fid);
  await insertIgnoring(db, 'file_to_delete2', { fid, nexttry: nowSeconds, failcount: 0 });
}

/**
 * Queues every file of a class for the replicator, after its copy count or policy changed,
 * so files reach the new count without an fsck. Fids already queued keep their row.
 */
export async function queueClassReplication(
  db: Db,
  dmid: number,
  classid: number,
  nexttry: number,
) {
  const rows = db
    .selectFrom('file')
    .select((eb) => [
      'fid',
      eb.val(nexttry).as('nexttry'),
      eb.val(null).as('fromdevid'),
      eb.val(0).as('failcount'),
      eb.val(0).as('flags'),
    ])
    .where('dmid', '=', dmid)
    .where('classid', '=', classid);
  const insert = db
    .insertInto('file_to_replicate')
    .columns(['fid', 'nexttry', 'fromdevid', 'failcount', 'flags'])
    .expression(rows);
  const result =
    engineOf(db) === 'mysql'
      ? await insert.ignore().executeTakeFirst()
      : await insert.onConflict((conflict) => conflict.doNothing()).executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0);
}

/** Insert-if-absent into `file_to_replicate`: an already queued fid keeps its nexttry. */
export async function queueReplication(db: Db, fid: number, nexttry: number): Promise<void> {
  await insertIgnoring(db, 'file_to_replicate', {
    fid,
    nexttry,
    fromdevid: null,
    failcount: 0,
    flags: 0,
  });
}

/** Writes the fid's file row in place of any it had. */
async function saveFileRow(db: Db, ...values: FileValues): Promise<void> {
  if (replacesInOneStatement(db)) {
    await upsertFileQuery(db, ...values);
    return;
  }
  await deleteFileQuery(db, values[0]);
  await insertFileQuery(db, ...values);
}

/** Writes the fid's checksum in place of any it had. */
export async function saveChecksum(db: Db, fid: number, checksum: StoredChecksum): Promise<void> {
  if (replacesInOneStatement(db)) {
    await upsertChecksumQuery(db, fid, checksum.hashtype, checksum.digest);
    return;
  }
  await deleteChecksumQuery(db, fid);
  await insertChecksumQuery(db, fid, checksum.hashtype, checksum.digest);
}

/**
 * Whether a row can be written over the one with the same fid in one statement (MySQL's
 * REPLACE, by primary key only). PostgreSQL and SQLite aim `ON CONFLICT (fid)` at that key
 * alone; MySQL's `ON DUPLICATE KEY UPDATE` would also fire on `file`'s `(dmid, dkey)` key
 * and rewrite another fid's row, so there the old row is deleted first.
 */
function replacesInOneStatement(db: Db): boolean {
  return engineOf(db) !== 'mysql';
}

export async function getChecksum(db: Db, fid: number): Promise<StoredChecksum | undefined> {
  const row = (await checksumByFidQuery(db, fid)).rows[0];
  return row && { hashtype: row.hashtype, digest: new Uint8Array(row.checksum) };
}

/**
 * Moves one copy from `oldFid` to `newFid` (edit_file, spec tracker-protocol.md §5.11):
 * the bytes will be renamed on the node, so the row must follow them.
 */
export async function moveCopy(
  db: Db,
  oldFid: number,
  newFid: number,
  devid: number,
): Promise<boolean> {
  const moved = await db
    .updateTable('file_on')
    .set({ fid: newFid })
    .where('fid', '=', oldFid)
    .where('devid', '=', devid)
    .executeTakeFirst();
  if (Number(moved.numUpdatedRows) === 0) return false;
  await refreshDevcountQuery(db, oldFid);
  await queueReplication(db, oldFid, 0);
  return true;
}

/** Keys of a domain in byte order, strictly after `after`, starting with `prefix`. */
export async function listKeys(
  db: Db,
  dmid: number,
  prefix: string,
  after: string,
  limit: number,
): Promise<string[]> {
  let query = db.selectFrom('file').select('dkey').where('dmid', '=', dmid);
  if (after !== '') query = query.where('dkey', '>', after);
  if (prefix !== '') {
    // A range instead of LIKE: LIKE is case-insensitive on SQLite and MySQL.
    query = query.where('dkey', '>=', prefix);
    const upper = prefixUpperBound(prefix);
    if (upper !== undefined) query = query.where('dkey', '<', upper);
  }
  const rows = await query.orderBy('dkey').limit(limit).execute();
  return rows.map((row) => row.dkey).filter((key) => key.startsWith(prefix));
}

/** The smallest string greater than every string that starts with `prefix`. */
export function prefixUpperBound(prefix: string): string | undefined {
  const points = [...prefix];
  while (points.length > 0) {
    const last = points.pop()!.codePointAt(0)!;
    let next = last + 1;
    if (next >= 0xd800 && next <= 0xdfff) next = 0xe000;
    if (next <= 0x10ffff) return points.join('') + String.fromCodePoint(next);
  }
  return undefined;
}

export async function listFids(db: Db, afterFid: number, count: number): Promise<FileRow[]> {
  const rows = await db
    .selectFrom('file')
    .selectAll()
    .where('fid', '>', afterFid)
    .orderBy('fid')
    .limit(count)
    .execute();
  return rows.map(toFileRow);
}

const fidBindingQuery = reusableQuery((db: Db, fid: number) =>
  db.selectNoFrom((eb) => [
    eb.selectFrom('file').select('dmid').where('fid', '=', fid).as('dmid'),
    eb.selectFrom('file').select('dkey').where('fid', '=', fid).as('dkey'),
    eb.selectFrom('file_to_delete2').select('fid').where('fid', '=', fid).as('queued'),
  ]),
);

/** The key a fid is bound to, if any, and whether it waits for deletion: one statement. */
export async function fidBinding(db: Db, fid: number): Promise<FidBinding> {
  const row = (await fidBindingQuery(db, fid)).rows[0];
  const owner =
    row?.dmid != null && row.dkey != null ? { dmid: row.dmid, key: row.dkey } : undefined;
  return { ...(owner && { owner }), queuedForDeletion: row?.queued != null };
}

export async function fidQueues(db: Db, fid: number): Promise<FidQueues> {
  const [tempfile, replicate, del, queued] = await Promise.all([
    db.selectFrom('tempfile').selectAll().where('fid', '=', fid).executeTakeFirst(),
    db.selectFrom('file_to_replicate').selectAll().where('fid', '=', fid).executeTakeFirst(),
    db.selectFrom('file_to_delete2').selectAll().where('fid', '=', fid).executeTakeFirst(),
    db.selectFrom('file_to_queue').selectAll().where('fid', '=', fid).orderBy('type').execute(),
  ]);
  return {
    ...(tempfile && { tempfile: toTempfileRow(tempfile) }),
    ...(replicate && { replicate }),
    ...(del && { delete: { nexttry: del.nexttry, failcount: del.failcount } }),
    queued,
  };
}

export function toFileRow(row: Selectable<Database['file']>): FileRow {
  return {
    fid: row.fid,
    dmid: row.dmid,
    key: row.dkey,
    length: row.length,
    classid: row.classid,
    devcount: row.devcount,
  };
}

export function toTempfileRow(row: Selectable<Database['tempfile']>): TempfileRow {
  return {
    fid: row.fid,
    dmid: row.dmid,
    classid: row.classid,
    key: row.dkey,
    devids: row.devids,
    createdSeconds: row.createtime,
  };
}
