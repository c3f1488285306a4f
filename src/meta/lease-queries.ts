import type { Kysely } from 'kysely';
import { insertIgnoring } from './query-helpers.js';
import type { Database } from './tables.js';

/**
 * Singleton duties across trackers (architecture.md §6): one `mogile_lease` row per duty
 * names its holder and when the holding ends. It stands in for the original's named locks
 * `mgfs:tempfiles` and `mgfs:reaper` (metadata-schema.md §6), which were per-host on
 * PostgreSQL (the QUIRK there) and are lost with the connection on MySQL; a lease is
 * cluster-wide on every engine and moves to another tracker once its holder stops renewing.
 */

/**
 * Takes or renews the lease `name` for `holder` until `nowSeconds + ttlSeconds`; true when
 * `holder` holds it afterwards. A lease held by someone else is taken only once expired.
 */
export async function acquireLease(
  db: Kysely<Database>,
  name: string,
  holder: string,
  nowSeconds: number,
  ttlSeconds: number,
): Promise<boolean> {
  // An expired, unheld row first, so that taking it is one conditional update everywhere.
  await insertIgnoring(db, 'mogile_lease', { name, holder: '', expires_at: 0 });
  const expiresAt = nowSeconds + ttlSeconds;
  await db
    .updateTable('mogile_lease')
    .set({ holder, expires_at: expiresAt })
    .where('name', '=', name)
    .where((eb) => eb.or([eb('holder', '=', holder), eb('expires_at', '<=', nowSeconds)]))
    .execute();
  // The row says who won; MySQL's affected-row count would not (it counts changed rows).
  const row = await db
    .selectFrom('mogile_lease')
    .select(['holder', 'expires_at'])
    .where('name', '=', name)
    .executeTakeFirst();
  return row?.holder === holder && Number(row.expires_at) === expiresAt;
}

/** Gives the lease up at once, so another tracker need not wait for it to expire. */
export async function releaseLease(
  db: Kysely<Database>,
  name: string,
  holder: string,
): Promise<void> {
  await db
    .updateTable('mogile_lease')
    .set({ holder: '', expires_at: 0 })
    .where('name', '=', name)
    .where('holder', '=', holder)
    .execute();
}

export interface LeaseRow {
  readonly name: string;
  readonly holder: string;
  readonly expiresAt: number;
}

/** Every lease row, for status pages and tests. */
export async function listLeases(db: Kysely<Database>): Promise<LeaseRow[]> {
  const rows = await db.selectFrom('mogile_lease').selectAll().orderBy('name').execute();
  return rows.map((row) => ({
    name: row.name,
    holder: row.holder,
    expiresAt: Number(row.expires_at),
  }));
}
