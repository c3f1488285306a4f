import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

interface FolderState {
  running: Promise<void> | null;
  /** Callers whose rename happened after the running fsync began: they need the next one. */
  next: Array<{ resolve: () => void; reject: (error: Error) => void }>;
}

/**
 * fsyncs folders after renames, sharing one fsync among all renames that happened before
 * it started. Uploads that land in the same folder at the same time (consecutive fids share
 * a folder) then cost one folder fsync per round instead of one each, which keeps the small
 * thread pool free for file I/O.
 */
export class FolderSync {
  readonly #folders = new Map<string, FolderState>();
  readonly #onSync: (durationMs: number) => void;

  constructor(onSync: (durationMs: number) => void) {
    this.#onSync = onSync;
  }

  /** Resolves once an fsync of `folder` that started after this call has completed. */
  sync(folder: string): Promise<void> {
    let state = this.#folders.get(folder);
    if (!state) {
      state = { running: null, next: [] };
      this.#folders.set(folder, state);
    }
    const promise = new Promise<void>((resolve, reject) => state.next.push({ resolve, reject }));
    if (state.running === null) this.#startRound(folder, state);
    return promise;
  }

  #startRound(folder: string, state: FolderState): void {
    const waiters = state.next;
    state.next = [];
    state.running = this.#fsync(folder).then(
      () => {
        for (const waiter of waiters) waiter.resolve();
      },
      (error: Error) => {
        for (const waiter of waiters) waiter.reject(error);
      },
    );
    void state.running.then(() => {
      state.running = null;
      if (state.next.length > 0) this.#startRound(folder, state);
      else this.#folders.delete(folder);
    });
  }

  async #fsync(folder: string): Promise<void> {
    const started = performance.now();
    const handle = await open(folder, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    this.#onSync(performance.now() - started);
  }
}
