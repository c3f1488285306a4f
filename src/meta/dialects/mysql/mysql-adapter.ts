import { Kysely, MysqlDialect, sql } from 'kysely';
import { createPool } from 'mysql2';
import type { DialectAdapter } from '../../dialect-adapter.js';
import { MetaServerError } from '../../errors.js';
import { kyselyLogOption } from '../../query-observer.js';
import { type Database, SCHEMA_TABLES } from '../../tables.js';
import type { ServerDatabaseOptions } from '../postgres/postgres-adapter.js';
import { EXACT_KEY_COLLATIONS, mysqlSchema } from './schema.js';
import { MYSQL_UPGRADE } from './upgrade-dialect.js';

export function createMysqlAdapter(options: ServerDatabaseOptions): DialectAdapter {
  const url = new URL(options.url);
  const socketPath = url.searchParams.get('socket');
  const pool = createPool({
    // `?socket=/path` reaches the server through its Unix socket instead of TCP.
    ...(socketPath === null
      ? { host: url.hostname, port: url.port === '' ? 3306 : Number(url.port) }
      : { socketPath }),
    database: decodeURIComponent(url.pathname.replace(/^\//, '')),
    user: url.username ? decodeURIComponent(url.username) : options.user,
    password: url.password ? decodeURIComponent(url.password) : (options.password ?? ''),
    connectionLimit: options.poolSize ?? 8,
    ...(options.connectTimeoutMs !== undefined && { connectTimeout: options.connectTimeoutMs }),
    enableKeepAlive: true,
    // Fids, counts and sums as numbers; they stay far below 2^53.
    supportBigNumbers: true,
    bigNumberStrings: false,
    decimalNumbers: true,
    charset: 'utf8mb4',
  });
  // READ COMMITTED, as on PostgreSQL, where the store's transactions are designed for. InnoDB's
  // default REPEATABLE READ takes gap locks on every locking read and delete of a missing
  // row; concurrent create_close transactions then deadlock on each other's gaps (seen on
  // the checksum table under load). Needs binlog_format ROW or MIXED when binlogs are on.
  pool.on('connection', (connection) => {
    connection.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
  });
  const db = new Kysely<Database>({
    dialect: new MysqlDialect({ pool }),
    ...kyselyLogOption(options.onQuery),
  });
  return {
    engine: 'mysql',
    db,
    async checkServer() {
      const { rows } = await sql<{ logBin: number | string; format: string }>`
        SELECT @@log_bin AS logBin, @@binlog_format AS format`.execute(db);
      const refusal = binlogRefusal(rows[0]);
      if (refusal) throw new MetaServerError(refusal);
      // As the original (without USE_UNSAFE_MYSQL): the store's transactions and row
      // locks are InnoDB's; on MyISAM they would silently be neither.
      const others = await sql<{ name: string; engine: string }>`
        SELECT table_name AS name, engine FROM information_schema.tables
        WHERE table_schema = DATABASE() AND table_name IN (${sql.join(SCHEMA_TABLES)})
          AND engine <> 'InnoDB'`.execute(db);
      if (others.rows.length > 0) {
        const list = others.rows.map((row) => `${row.name} (${row.engine})`).join(', ');
        throw new MetaServerError(
          `MogileFS tables of this database are not InnoDB: ${list}; the tracker's transactions ` +
            'need InnoDB: ALTER TABLE <table> ENGINE=InnoDB for each, then start again',
        );
      }
    },
    async createSchema() {
      const { rows } = await sql<{ name: string }>`
        SELECT collation_name AS name FROM information_schema.collations
        WHERE collation_name IN (${sql.join(EXACT_KEY_COLLATIONS)})`.execute(db);
      const keyCollation = EXACT_KEY_COLLATIONS.find((name) =>
        rows.some((row) => row.name === name),
      );
      for (const statement of mysqlSchema(keyCollation)) await sql.raw(statement).execute(db);
    },
    async listTables() {
      const result = await sql<{ name: string }>`
        SELECT table_name AS name FROM information_schema.tables
        WHERE table_schema = DATABASE()`.execute(db);
      return result.rows.map((row) => row.name);
    },
    upgrade: MYSQL_UPGRADE,
    isUniqueViolation(error) {
      return (error as { errno?: number })?.errno === 1062;
    },
    async close() {
      await db.destroy();
    },
  };
}

/**
 * Why a server with these binary-log settings cannot run the store, or undefined. The
 * store's transactions run at READ COMMITTED (above), and InnoDB refuses every write at
 * that level while the binary log records statements.
 */
export function binlogRefusal(
  settings: { logBin: number | string; format: string } | undefined,
): string | undefined {
  if (!settings || Number(settings.logBin) !== 1) return undefined;
  if (String(settings.format).toUpperCase() !== 'STATEMENT') return undefined;
  return (
    'the server writes its binary log by statement (binlog_format = STATEMENT), and InnoDB ' +
    'then refuses the writes of the READ COMMITTED transactions the tracker runs; set ' +
    "binlog_format to MIXED or ROW (in the server's configuration, or SET GLOBAL " +
    "binlog_format = 'MIXED') and start again"
  );
}
