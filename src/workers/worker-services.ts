import type { TrackerServices } from '../tracker/services.js';

/** The part of the tracker's services the background workers use. */
export type WorkerServices = Pick<
  TrackerServices,
  'meta' | 'cluster' | 'observations' | 'nodes' | 'logger' | 'nowSeconds'
> & {
  readonly options: Pick<
    TrackerServices['options'],
    | 'defaultMindevcount'
    | 'minFreeSpaceMb'
    | 'nodeTimeoutMs'
    | 'mogstoredStreamPort'
    | 'copiesBetweenNodes'
    | 'replUseGetPort'
    // Fsck and rebalance: the injectors run on the tracker their settings name.
    | 'hostname'
  >;
  /** Counts a broken invariant in the tracker's `invariant_violations` (the worker logs it). */
  readonly countInvariantViolation?: () => void;
};

/** Runs `work` over `items` with at most `limit` in flight; resolves when all are done. */
export async function forEachConcurrently<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
