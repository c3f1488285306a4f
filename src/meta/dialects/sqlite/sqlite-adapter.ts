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
  /** The log file is cut back to this size once it has been copied into the database. */
  readonly walSizeLimitBytes?: number;
}

/**
 * A burst of writes can outrun the checkpoints and grow the log far past its usual size
 * (82 MB during 5,000 stores); SQLite reuses the file from its start afterwards but keeps
 * its size. Cut back to this, it stays large only while a burst lasts.
 */
const DEFAULT_WAL_SIZE_LIMIT_BYTES = 32 * 1024 * 1024;

const UNIQUE_CODES = new Set(['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY']);

export function createSqliteAdapter(options: SqliteOptions): DialectAdapter {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  const connection = new SQLite(options.path);
  // WAL lets readers proceed while one writer commits. Commits only write the log; writes a
  // client is told about are made durable by the barrier, one flush per burst.
  connection.pragma('journal_mode = WAL');
  connection.pragma('synchronous = NORMAL');
  connection.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
  connection.pragma(
    `journal_size_limit = ${options.walSizeLimitBytes ?? DEFAULT_WAL_SIZE_LIMIT_BYTES}`,
  );
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
