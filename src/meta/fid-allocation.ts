import { type Db, forUpdate, insertIgnoring, maxOf } from './query-helpers.js';

const FID_HIGH_WATER = 'fid_high_water';

/**
 * Reserves `count` fids: raises the persisted high-water mark above every fid in `file`,
 * `tempfile` and the delete queue, plus `count`, so a rewound auto-increment or deleted
 * top fids can never bring one back. Returns the first and last fid of the block.
 */
export async function reserveFidBlock(
  db: Db,
  count: number,
): Promise<{ first: number; last: number }> {
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
  await raiseHighWater(db, top + count);
  return { first: top + 1, last: top + count };
}

/** The persisted high-water mark: every fid up to it may have been handed out. */
export async function highWaterMark(db: Db): Promise<number> {
  const mark = await db
    .selectFrom('mogile_counter')
    .select('value')
    .where('name', '=', FID_HIGH_WATER)
    .executeTakeFirst();
  return Number(mark?.value ?? 0);
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
