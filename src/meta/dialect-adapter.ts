import type { Kysely } from 'kysely';
import type { UpgradeDialect } from './schema-upgrade.js';
import type { Database } from './tables.js';

/** What one database engine supplies to the shared store; lives in dialects/<engine>/. */
export interface DialectAdapter {
  readonly engine: 'sqlite' | 'postgres' | 'mysql';
  readonly db: Kysely<Database>;
  /**
   * Refuses (MetaServerError) a server set up so that the store's writes would fail,
   * before anything is written. Engines with nothing to check leave it out.
   */
  checkServer?(): Promise<void>;
  /** Creates every table of schema 17 that is missing (idempotent). */
  createSchema(): Promise<void>;
  /** Lists the tables that exist, to tell an empty database from a foreign one. */
  listTables(): Promise<string[]>;
  isUniqueViolation(error: unknown): boolean;
  /** The SQL of mogdbsetup's upgrade steps on this engine (`mogile setup-db`). */
  readonly upgrade: UpgradeDialect;
  /**
   * Makes every committed transaction durable. Server engines sync on commit, so this is
   * a no-op there; SQLite batches it (group commit).
   */
  syncCommitted?(): Promise<void>;
  /**
   * Analyzes those of `tables` that hold rows but have no planner statistics. Only engines
   * whose planner needs statistics to pick the right index supply it.
   */
  analyzeTablesWithoutStatistics?(tables: readonly string[]): Promise<StatisticsRefresh>;
  close(): Promise<void>;
}

/** Tables analyzed, and tables the database did not let this user analyze. */
export interface StatisticsRefresh {
  readonly analyzed: string[];
  readonly refused: string[];
}
