import type { WebSources } from './web-sources.js';

export interface QueueDepths {
  readonly replicate: number;
  readonly delete: number;
  readonly fsck: number;
  readonly rebalance: number;
}

const CACHE_MS = 1000;

/**
 * Rows in each work queue, counted in the database. Scrapes, the status API and the
 * sampler all ask; one count per second at most keeps them off the pool (§5).
 */
export class QueueDepthReader {
  readonly #sources: WebSources;
  #cached: { atMs: number; depths: Promise<QueueDepths> } | undefined;

  constructor(sources: WebSources) {
    this.#sources = sources;
  }

  read(): Promise<QueueDepths> {
    const now = Date.now();
    if (this.#cached && now - this.#cached.atMs < CACHE_MS) return this.#cached.depths;
    const depths = this.#count();
    this.#cached = { atMs: now, depths };
    // A failed count is not cached, so the next caller tries again.
    depths.catch(() => {
      if (this.#cached?.depths === depths) this.#cached = undefined;
    });
    return depths;
  }

  async #count(): Promise<QueueDepths> {
    const { meta, nowSeconds } = this.#sources.services;
    const rows = await meta.queueDepths(nowSeconds());
    const total = (depth: { new: number; overdue: number; deferred: number; manual: number }) =>
      depth.new + depth.overdue + depth.deferred + depth.manual;
    return {
      replicate: total(rows.replicate),
      delete: total(rows.delete),
      fsck: total(rows.fsck),
      rebalance: total(rows.rebalance),
    };
  }
}
