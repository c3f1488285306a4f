import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { DialectAdapter } from '../../dialect-adapter.js';
import { runDirectly } from '../../query-helpers.js';
import { kyselyLogOption, type QueryObserver } from '../../query-observer.js';
import type { Database } from '../../tables.js';
import { SQLITE_SCHEMA } from './schema.js';
import { StatementCache } from './statement-cache.js';
import { SQLITE_UPGRADE } from './upgrade-dialect.js';
import { WalBarrier } from './wal-barrier.js';
import { WalCheckpointer } from './wal-checkpointer.js';

export interface SqliteOptions {
  /** A file path, or `:memory:`. */
  readonly path: string;
  readonly busyTimeoutMs?: number;
  readonly onQuery?: QueryObserver;
}

const UNIQUE_CODES = new Set(['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY']);

export function createSqliteAdapter(options: SqliteOptions): DialectAdapter {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  const connection = new SQLite(options.path);
  // WAL lets readers proceed while one writer commits. Commits only write the log; writes a
  // client is told about are made durable by the barrier, one flush per burst.
  connection.pragma('journal_mode = WAL');
  connection.pragma('synchronous = NORMAL');
  connection.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
  const statements = new StatementCache(connection);
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: statements.connectionForKysely() }),
    ...kyselyLogOption(options.onQuery),
  });
  runDirectly(db, statements.directReader(options.onQuery));
  const onDisk = options.path !== ':memory:';
  const barrier = onDisk ? new WalBarrier(`${options.path}-wal`) : undefined;
  const checkpointer = onDisk ? new WalCheckpointer(connection, options.path) : undefined;
  return {
    engine: 'sqlite',
    db,
    async syncCommitted() {
      await barrier?.sync();
    },
    async createSchema() {
      connection.transaction(() => {
        for (const statement of SQLITE_SCHEMA) connection.exec(statement);
      })();
    },
    async listTables() {
      const rows = connection
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .all() as { name: string }[];
      return rows.map((row) => row.name).filter((name) => name !== 'sqlite_sequence');
    },
    upgrade: SQLITE_UPGRADE,
    isUniqueViolation(error) {
      return UNIQUE_CODES.has((error as { code?: string })?.code ?? '');
    },
    async close() {
      await checkpointer?.close();
      await barrier?.close();
      await db.destroy();
    },
  };
}
