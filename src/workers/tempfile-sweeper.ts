import type { WorkerServices } from './worker-services.js';

export interface TempfileSweeperOptions {
  readonly services: WorkerServices;
  /** Age after which an upload counts as abandoned (3600 s, metadata-schema.md §2.4). */
  readonly maxAgeSeconds?: number;
  /** Rows per pass (50 in the original). */
  readonly batchSize?: number;
}

/**
 * Cleans up uploads that never reached `create_close` (metadata-schema.md §2.4): their
 * tempfile rows go, and whatever the client may have written is queued for deletion.
 */
export class TempfileSweeper {
  readonly #options: TempfileSweeperOptions;

  constructor(options: TempfileSweeperOptions) {
    this.#options = options;
  }

  async runOnce(): Promise<{ readonly swept: number }> {
    const { meta, nowSeconds } = this.#options.services;
    const now = nowSeconds();
    const stale = await meta.staleTempfiles(
      now - (this.#options.maxAgeSeconds ?? 3600),
      this.#options.batchSize ?? 50,
    );
    for (const tempfile of stale) await meta.abandonTempfile(tempfile, now);
    return { swept: stale.length };
  }
}
