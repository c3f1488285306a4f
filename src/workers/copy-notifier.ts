/**
 * Tells waiting requests that the replicator recorded a copy of a fid, so a
 * `durability=sync` `create_close` (docs/protocol-extensions.md) looks again at once
 * instead of at its next poll.
 */
export class CopyNotifier {
  readonly #waiters = new Map<number, Set<() => void>>();

  /** Resolves at the next copy of `fid` recorded here, or after `timeoutMs`. */
  next(fid: number, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const waiters = this.#waiters.get(fid) ?? new Set<() => void>();
      this.#waiters.set(fid, waiters);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0 && this.#waiters.get(fid) === waiters) this.#waiters.delete(fid);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      waiters.add(done);
    });
  }

  recorded(fid: number): void {
    for (const done of [...(this.#waiters.get(fid) ?? [])]) done();
  }
}
