import { type Db, insertIgnoring } from './query-helpers.js';
import type { ClassDurability } from './rows.js';

/**
 * Our per-class settings live in `mogile_class_option`, not in new `class` columns, so a
 * Perl tracker sharing the database sees its own schema unchanged. A class without a row
 * has the defaults (`durability=async`, the original's behaviour).
 */
export function durabilityOf(stored: string | null | undefined): ClassDurability {
  return stored === 'sync' ? 'sync' : 'async';
}

/** Sets a class's durability: insert-if-absent, then update, so two writers never collide. */
export async function saveClassDurability(
  db: Db,
  dmid: number,
  classid: number,
  durability: ClassDurability,
): Promise<void> {
  await insertIgnoring(db, 'mogile_class_option', { dmid, classid, durability });
  await db
    .updateTable('mogile_class_option')
    .set({ durability })
    .where('dmid', '=', dmid)
    .where('classid', '=', classid)
    .execute();
}

/**
 * Removes the options of one class, or of every class of a domain. Also run before a class
 * is created: a Perl tracker deletes classes without knowing this table.
 */
export async function forgetClassOptions(db: Db, dmid: number, classid?: number): Promise<void> {
  let query = db.deleteFrom('mogile_class_option').where('dmid', '=', dmid);
  if (classid !== undefined) query = query.where('classid', '=', classid);
  await query.execute();
}
