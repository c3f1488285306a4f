import type { Kysely } from 'kysely';
import type { Database } from './tables.js';

/**
 * Read-only counts behind `mogile_stats` (docs/protocol-extensions.md): what mogstats
 * reported by reading the database directly. Each is one grouped scan; nothing is locked.
 */

/** Files and bytes of one class. */
export interface ClassUsage {
  readonly dmid: number;
  readonly classid: number;
  readonly files: number;
  readonly bytes: number;
}

/** How many files of one class have `devcount` copies. */
export interface CopyCount {
  readonly dmid: number;
  readonly classid: number;
  readonly devcount: number;
  readonly files: number;
}

/** Rows of one work queue by `nexttry`, in mogstats' buckets. */
export interface QueueDepth {
  /** `nexttry` below 1000: the original's "new" (0) and "redo" (1) markers. */
  readonly new: number;
  /** Due: `nexttry` has passed and no worker holds the row (mogile queues with now). */
  readonly overdue: number;
  /** Waiting for a retry, or claimed by a worker (its lease is a future `nexttry`). */
  readonly deferred: number;
  /** `nexttry` at the end of time: only an operator (`replicate_now`) brings them back. */
  readonly manual: number;
}

export type StatsQueue = 'replicate' | 'delete' | 'fsck' | 'rebalance';

/** The original's "never again" nexttry (spec metadata-schema.md, ENDOFTIME). */
const END_OF_TIME = 2_147_483_647;
/** Smaller `nexttry` values are markers, not times (mogstats reads them so). */
const MARKER_LIMIT = 1000;

export async function classUsage(db: Kysely<Database>): Promise<ClassUsage[]> {
  const rows = await db
    .selectFrom('file')
    .select((eb) => [
      'dmid',
      'classid',
      eb.fn.countAll().as('files'),
      eb.fn.sum<number | string | null>('length').as('bytes'),
    ])
    .groupBy(['dmid', 'classid'])
    .orderBy('dmid')
    .orderBy('classid')
    .execute();
  return rows.map((row) => ({
    dmid: row.dmid,
    classid: row.classid,
    files: Number(row.files),
    bytes: Number(row.bytes ?? 0),
  }));
}

export async function copyCounts(db: Kysely<Database>): Promise<CopyCount[]> {
  const rows = await db
    .selectFrom('file')
    .select((eb) => ['dmid', 'classid', 'devcount', eb.fn.countAll().as('files')])
    .groupBy(['dmid', 'classid', 'devcount'])
    .orderBy('dmid')
    .orderBy('classid')
    .orderBy('devcount')
    .execute();
  return rows.map((row) => ({
    dmid: row.dmid,
    classid: row.classid,
    devcount: row.devcount,
    files: Number(row.files),
  }));
}

export async function queueDepths(
  db: Kysely<Database>,
  nowSeconds: number,
): Promise<Record<StatsQueue, QueueDepth>> {
  const [replicate, remove, fsck, rebalance] = await Promise.all([
    bucketNexttry(db.selectFrom('file_to_replicate'), nowSeconds),
    bucketNexttry(db.selectFrom('file_to_delete2'), nowSeconds),
    bucketNexttry(db.selectFrom('file_to_queue').where('type', '=', 1), nowSeconds),
    bucketNexttry(db.selectFrom('file_to_queue').where('type', '=', 2), nowSeconds),
  ]);
  return { replicate, delete: remove, fsck, rebalance };
}

/** Any queue table: they all have `nexttry` in the same meaning. */
interface NexttryQuery {
  // biome-ignore lint/suspicious/noExplicitAny: the three queue tables share only `nexttry`
  select(selection: (eb: any) => unknown[]): { executeTakeFirst(): Promise<unknown> };
}

async function bucketNexttry(query: NexttryQuery, nowSeconds: number): Promise<QueueDepth> {
  // biome-ignore lint/suspicious/noExplicitAny: see NexttryQuery
  const count = (eb: any, when: (eb: any) => unknown, name: keyof QueueDepth) =>
    eb.fn.sum(eb.case().when(when(eb)).then(1).else(0).end()).as(name);
  const row = (await query
    .select((eb) => [
      count(eb, (e) => e('nexttry', '<', MARKER_LIMIT), 'new'),
      count(
        eb,
        (e) => e.and([e('nexttry', '>=', MARKER_LIMIT), e('nexttry', '<=', nowSeconds)]),
        'overdue',
      ),
      count(
        eb,
        (e) => e.and([e('nexttry', '>', nowSeconds), e('nexttry', '<', END_OF_TIME)]),
        'deferred',
      ),
      count(eb, (e) => e('nexttry', '>=', END_OF_TIME), 'manual'),
    ])
    .executeTakeFirst()) as Record<keyof QueueDepth, number | string | null> | undefined;
  return {
    new: Number(row?.new ?? 0),
    overdue: Number(row?.overdue ?? 0),
    deferred: Number(row?.deferred ?? 0),
    manual: Number(row?.manual ?? 0),
  };
}
