import { type Db, forUpdate, insertIgnoring, maxOf } from './query-helpers.js';

const FID_HIGH_WATER = 'fid_high_water';

/**
 * The next fid: above the persisted high-water mark and above every fid in `file` and
 * `tempfile`, so a rewound auto-increment or deleted top fids can never bring one back.
 */
export async function nextFid(db: Db): Promise<number> {
  // The locked counter row serializes allocations of concurrent trackers.
  const mark = await forUpdate(
    db,
    db.selectFrom('mogile_counter').select('value').where('name', '=', FID_HIGH_WATER),
  ).executeTakeFirst();
  const top = Math.max(
    Number(mark?.value ?? 0),
    await maxOf(db, 'file', 'fid'),
    await maxOf(db, 'tempfile', 'fid'),
    await maxOf(db, 'file_to_delete2', 'fid'),
  );
  const fid = top + 1;
  await raiseHighWater(db, fid);
  return fid;
}

export async function raiseHighWater(db: Db, fid: number): Promise<void> {
  const updated = await db
    .updateTable('mogile_counter')
    .set({ value: fid })
    .where('name', '=', FID_HIGH_WATER)
    .where('value', '<', fid)
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) > 0) return;
  await insertIgnoring(db, 'mogile_counter', { name: FID_HIGH_WATER, value: fid });
}

/** Creates the counter row, so that allocations can lock it from the first one on. */
export async function ensureHighWaterRow(db: Db): Promise<void> {
  await insertIgnoring(db, 'mogile_counter', { name: FID_HIGH_WATER, value: 0 });
}
