import type { Kysely, Transaction } from 'kysely';
import type { Database } from './tables.js';

export type Db = Kysely<Database> | Transaction<Database>;

export async function exists(query: { executeTakeFirst(): Promise<unknown> }): Promise<boolean> {
  return (await query.executeTakeFirst()) !== undefined;
}

export async function maxOf<T extends keyof Database>(
  db: Db,
  table: T,
  column: string,
  // biome-ignore lint/suspicious/noExplicitAny: the filter narrows a query of any table
  filter: (query: any) => any = (query) => query,
): Promise<number> {
  // biome-ignore lint/suspicious/noExplicitAny: column names vary per table
  const query = (db.selectFrom(table) as any).select((eb: any) => eb.fn.max(column).as('top'));
  const row = (await filter(query).executeTakeFirst()) as { top: number | null } | undefined;
  return Number(row?.top ?? 0);
}
