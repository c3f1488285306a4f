import type { Logger } from 'pino';
import type { MetaStore } from '../meta/index.js';

/** How often a tracker on PostgreSQL looks again for lookup tables without statistics. */
export const STATISTICS_CHECK_INTERVAL_MS = 5 * 60_000;

const ADVICE = 'lookups may read whole domains until an owner runs ANALYZE on them';

/**
 * Keeps planner statistics present for the lookup tables (PostgreSQL). A table that holds
 * rows but was never analyzed (a restored dump, a bulk load, autovacuum off) can make the
 * server answer a key lookup by reading the whole domain. The tracker analyzes such tables
 * before it serves, and looks again every few minutes for tables filled since; once they
 * have statistics, each look is one small query per table. A user that does not own the
 * tables is warned once per table: the tracker still works, with the plans the server
 * picks.
 */
export class PlannerStatisticsWatch {
  readonly #meta: MetaStore;
  readonly #logger: Logger | undefined;
  readonly #warned = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(meta: MetaStore, logger: Logger | undefined) {
    this.#meta = meta;
    this.#logger = logger;
  }

  /** One look; never throws. */
  check(): Promise<void> {
    this.#running ??= this.#check().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Looks again every `intervalMs` until stopped. */
  start(intervalMs: number): void {
    this.#timer = setInterval(() => void this.check(), intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  async #check(): Promise<void> {
    try {
      const { analyzed, refused } = await this.#meta.analyzeTablesWithoutStatistics();
      if (analyzed.length > 0) {
        this.#logger?.info({ tables: analyzed }, 'analyzed tables that had no planner statistics');
      }
      const fresh = refused.filter((table) => !this.#warned.has(table));
      for (const table of fresh) this.#warned.add(table);
      if (fresh.length > 0) {
        this.#logger?.warn({ tables: fresh }, `tables without planner statistics; ${ADVICE}`);
      }
    } catch (error) {
      this.#logger?.warn({ err: error }, `could not check the planner statistics; ${ADVICE}`);
    }
  }
}
