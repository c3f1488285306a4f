import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';

/**
 * Group commit for SQLite in WAL mode with `synchronous = NORMAL`: commits only write the
 * log, and `sync()` makes everything committed so far durable with one fdatasync of the
 * log file. Concurrent callers share the fdatasync in progress or the next one, so a burst
 * of acknowledged writes costs one disk flush, not one each.
 */
export class WalBarrier {
  readonly #walPath: string;
  #handle: Promise<FileHandle> | undefined;
  #running: Promise<void> | undefined;
  #queued: Promise<void> | undefined;

  constructor(walPath: string) {
    this.#walPath = walPath;
  }

  /** Resolves once every transaction committed before the call is on disk. */
  sync(): Promise<void> {
    // A flush already running may have started before our commit: wait for the next one.
    if (this.#running) {
      this.#queued ??= this.#running.then(() => {
        this.#queued = undefined;
        return this.#start();
      });
      return this.#queued;
    }
    return this.#start();
  }

  #start(): Promise<void> {
    const flush = this.#flush().finally(() => {
      if (this.#running === flush) this.#running = undefined;
    });
    this.#running = flush;
    return flush;
  }

  async #flush(): Promise<void> {
    this.#handle ??= open(this.#walPath, 'r+');
    let handle: FileHandle;
    try {
      handle = await this.#handle;
    } catch (error) {
      this.#handle = undefined;
      // No log yet: nothing has been committed since the database opened.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    await handle.datasync();
  }

  async close(): Promise<void> {
    await this.#running;
    await this.#queued;
    const handle = await this.#handle?.catch(() => undefined);
    await handle?.close();
  }
}
