import type { Socket } from 'node:net';
import type { UtilizationSampler } from './disk-utilization.js';

/** A watcher whose socket holds more than this unsent is skipped for the round (§5.3). */
const MAX_BACKLOG_BYTES = 64 * 1024;

/**
 * Feeds every `watch` connection one round per interval: `<devid>\t<util>` per device and
 * a `.` line, LF-terminated (spec/storage-node.md §5.3). Samples only while someone watches.
 */
export class WatchBroadcaster {
  readonly #sampler: UtilizationSampler;
  readonly #intervalMs: number;
  readonly #watchers = new Set<Socket>();
  #timer: NodeJS.Timeout | null = null;

  constructor(sampler: UtilizationSampler, intervalMs: number) {
    this.#sampler = sampler;
    this.#intervalMs = intervalMs;
  }

  subscribe(socket: Socket): void {
    this.#watchers.add(socket);
    socket.once('close', () => {
      this.#watchers.delete(socket);
      if (this.#watchers.size === 0) this.#stop();
    });
    if (this.#timer === null) {
      // The first reading is the baseline the first round's utilization is measured from.
      void this.#sampler.sample();
      this.#timer = setInterval(() => void this.#round(), this.#intervalMs);
    }
  }

  close(): void {
    this.#stop();
    for (const socket of this.#watchers) socket.destroy();
    this.#watchers.clear();
  }

  #stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  async #round(): Promise<void> {
    const rows = await this.#sampler.sample().catch(() => []);
    const text = `${rows.map(([devid, util]) => `${devid}\t${util}\n`).join('')}.\n`;
    for (const socket of this.#watchers) {
      if (socket.writableLength < MAX_BACKLOG_BYTES) socket.write(text);
    }
  }
}
