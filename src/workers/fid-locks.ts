/**
 * This tracker's per-fid work in progress. It stands in for the original's
 * `mgfs:fid:<fid>:replicate` lock (behaviour.md §6.2 step 1, §7.1 step 1) between the
 * replicator and the delete worker of one tracker; across trackers, queue claims keep two
 * trackers off the same queue row.
 */
export class FidLocks {
  readonly #held = new Set<number>();

  /** Takes the fid's lock; false when someone holds it already. */
  tryLock(fid: number): boolean {
    if (this.#held.has(fid)) return false;
    this.#held.add(fid);
    return true;
  }

  unlock(fid: number): void {
    this.#held.delete(fid);
  }
}
