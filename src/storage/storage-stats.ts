/** A point-in-time copy of the node's counters, as served by `GET /_stats`. */
export interface StorageStatsSnapshot {
  readonly uptimeMs: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly requestsByMethod: Readonly<Record<string, number>>;
  readonly responsesByStatus: Readonly<Record<string, number>>;
  readonly putsStored: number;
  readonly putsFailed: number;
  readonly fsyncCount: number;
  readonly fsyncTotalMs: number;
  readonly fsyncMaxMs: number;
  readonly connectionsOpen: number;
  readonly connectionsTotal: number;
  readonly sideCommands: number;
  readonly sideDigests: number;
  readonly sideDigestBytes: number;
}

/**
 * In-process counters of the storage node, for the monitor and metrics. Plain numbers
 * updated on the hot path; nothing here allocates per request except the first use of a
 * new method or status.
 */
export class StorageStats {
  readonly #startedMs = Date.now();
  #bytesIn = 0;
  #bytesOut = 0;
  readonly #requestsByMethod: Record<string, number> = {};
  readonly #responsesByStatus: Record<string, number> = {};
  #putsStored = 0;
  #putsFailed = 0;
  #fsyncCount = 0;
  #fsyncTotalMs = 0;
  #fsyncMaxMs = 0;
  #connectionsOpen = 0;
  #connectionsTotal = 0;
  #sideCommands = 0;
  #sideDigests = 0;
  #sideDigestBytes = 0;

  request(method: string): void {
    this.#requestsByMethod[method] = (this.#requestsByMethod[method] ?? 0) + 1;
  }

  response(status: number): void {
    this.#responsesByStatus[status] = (this.#responsesByStatus[status] ?? 0) + 1;
  }

  bytesIn(count: number): void {
    this.#bytesIn += count;
  }

  bytesOut(count: number): void {
    this.#bytesOut += count;
  }

  putStored(): void {
    this.#putsStored++;
  }

  putFailed(): void {
    this.#putsFailed++;
  }

  fsync(durationMs: number): void {
    this.#fsyncCount++;
    this.#fsyncTotalMs += durationMs;
    if (durationMs > this.#fsyncMaxMs) this.#fsyncMaxMs = durationMs;
  }

  connectionOpened(): void {
    this.#connectionsOpen++;
    this.#connectionsTotal++;
  }

  connectionClosed(): void {
    this.#connectionsOpen--;
  }

  sideCommand(): void {
    this.#sideCommands++;
  }

  sideDigest(bytes: number): void {
    this.#sideDigests++;
    this.#sideDigestBytes += bytes;
  }

  snapshot(): StorageStatsSnapshot {
    return {
      uptimeMs: Date.now() - this.#startedMs,
      bytesIn: this.#bytesIn,
      bytesOut: this.#bytesOut,
      requestsByMethod: { ...this.#requestsByMethod },
      responsesByStatus: { ...this.#responsesByStatus },
      putsStored: this.#putsStored,
      putsFailed: this.#putsFailed,
      fsyncCount: this.#fsyncCount,
      fsyncTotalMs: Math.round(this.#fsyncTotalMs * 1000) / 1000,
      fsyncMaxMs: Math.round(this.#fsyncMaxMs * 1000) / 1000,
      connectionsOpen: this.#connectionsOpen,
      connectionsTotal: this.#connectionsTotal,
      sideCommands: this.#sideCommands,
      sideDigests: this.#sideDigests,
      sideDigestBytes: this.#sideDigestBytes,
    };
  }
}
