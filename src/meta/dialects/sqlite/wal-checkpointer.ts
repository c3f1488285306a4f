import { Worker } from 'node:worker_threads';
import type SQLite from 'better-sqlite3';

/** How often the worker copies the log into the database file. */
const CHECKPOINT_INTERVAL_MS = 100;

/** SQLite's default: the writer checkpoints itself once the log holds this many pages. */
const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;

/**
 * Moves WAL checkpoints off the event loop. By default the connection that commits also
 * checkpoints, inside the commit, with two fsyncs: a store then stalls every request of
 * the tracker for that long. Here a worker thread checkpoints on its own connection and
 * the main connection's automatic checkpoints are off; if the worker fails, they are
 * turned back on, so the log never grows without bound.
 */
export class WalCheckpointer {
  readonly #worker: Worker;
  readonly #closed: Promise<void>;

  constructor(connection: SQLite.Database, path: string) {
    connection.pragma('wal_autocheckpoint = 0');
    this.#worker = new Worker(new URL('./checkpoint-worker.js', import.meta.url), {
      workerData: { path, intervalMs: CHECKPOINT_INTERVAL_MS },
      // It allocates next to nothing; a small heap keeps the tracker's memory down.
      resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16 },
    });
    this.#worker.unref();
    const fallBack = () => {
      if (connection.open)
        connection.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
    };
    this.#worker.on('error', fallBack);
    this.#closed = new Promise((resolve) => this.#worker.once('exit', () => resolve()));
  }

  /** Stops the worker; call before the main connection closes. */
  async close(): Promise<void> {
    // Unreferenced so it never keeps a process alive, but waiting for its exit must.
    this.#worker.ref();
    this.#worker.postMessage('close');
    await this.#closed;
  }
}
