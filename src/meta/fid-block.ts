/**
 * Fids handed out from blocks reserved in the database (architecture.md §4.3): one durable
 * write of the high-water mark covers many uploads, and the mark is already above every fid
 * of the block, so none can be handed out again after a crash. Unused fids of a block are
 * simply skipped.
 */
export class FidBlock {
  #next = 1;
  #last = 0;
  #refill: Promise<void> | undefined;
  readonly #reserve: () => Promise<{ first: number; last: number }>;

  constructor(reserve: () => Promise<{ first: number; last: number }>) {
    this.#reserve = reserve;
  }

  async next(): Promise<number> {
    while (this.#next > this.#last) {
      // Concurrent callers share one reservation.
      this.#refill ??= this.#reserve()
        .then(({ first, last }) => {
          this.#next = first;
          this.#last = last;
        })
        .finally(() => {
          this.#refill = undefined;
        });
      await this.#refill;
    }
    const fid = this.#next;
    this.#next += 1;
    return fid;
  }
}
