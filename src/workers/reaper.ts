import type { WorkerServices } from './worker-services.js';

export interface ReaperOptions {
  readonly services: WorkerServices;
  /** Copies handled per device per pass (`queue_rate_for_reaper`, 1000). */
  readonly batchSize?: number;
}

/**
 * Gives up the copies on dead devices (behaviour.md §11): each pass re-queues a bounded
 * batch of a dead device's fids for replication and drops their `file_on` rows. The
 * runner spaces passes out, so a device with 100,000 copies is drained in small
 * transactions instead of one flood. Unlike the original there is no 16 s grace: the
 * replicator already ignores dead devices' copies (§5.2), so reaping at once is safe.
 */
export class Reaper {
  readonly #options: ReaperOptions;

  constructor(options: ReaperOptions) {
    this.#options = options;
  }

  async runOnce(): Promise<{ readonly reaped: number }> {
    const { meta, cluster, nowSeconds } = this.#options.services;
    const snapshot = await cluster.current();
    const dead = snapshot.devices.filter((device) => device.status === 'dead');
    let reaped = 0;
    for (const device of dead) {
      reaped += await meta.reapDeviceCopies(
        device.devid,
        nowSeconds(),
        this.#options.batchSize ?? 1000,
      );
    }
    return { reaped };
  }
}
