import type { Kysely } from 'kysely';
import { insertIgnoring } from './query-helpers.js';
import type { Database } from './tables.js';

/** Rebalance's queries (spec behaviour.md §10.3, metadata-schema.md §2.10). */

export interface DeviceFid {
  readonly fid: number;
  readonly lengthBytes: number;
}

export interface RebalanceItem {
  readonly fid: number;
  /** The source device. */
  readonly devid: number;
  /** Comma-separated candidate destination devids. */
  readonly destinations: string;
}

/**
 * Up to `limit` fids on a device past `afterFid`: ascending for `fid_age=old`, descending
 * (`afterFid` 0 meaning "from the top") for `fid_age=new`.
 */
export async function deviceFids(
  db: Kysely<Database>,
  devid: number,
  afterFid: number,
  newestFirst: boolean,
  limit: number,
): Promise<DeviceFid[]> {
  let query = db
    .selectFrom('file_on')
    .innerJoin('file', 'file.fid', 'file_on.fid')
    .select(['file.fid', 'file.length'])
    .where('file_on.devid', '=', devid)
    .limit(limit);
  if (newestFirst) {
    if (afterFid > 0) query = query.where('file.fid', '<', afterFid);
    query = query.orderBy('file.fid', 'desc');
  } else {
    query = query.where('file.fid', '>', afterFid).orderBy('file.fid');
  }
  const rows = await query.execute();
  return rows.map((row) => ({ fid: row.fid, lengthBytes: Number(row.length) }));
}

export function enqueueRebalanceItems(
  db: Kysely<Database>,
  items: readonly RebalanceItem[],
  nowSeconds: number,
): Promise<void> {
  return db.transaction().execute(async (trx) => {
    for (const item of items) {
      await insertIgnoring(trx, 'file_to_queue', {
        fid: item.fid,
        devid: item.devid,
        type: 2,
        nexttry: nowSeconds,
        failcount: 0,
        flags: 0,
        arg: item.destinations,
      });
    }
  });
}
