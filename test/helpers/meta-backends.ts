import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/**
 * The engines the store tests run on. `META_BACKENDS=sqlite,postgres` narrows the set;
 * every test runs against each real engine, never a mock.
 */
export interface Backend {
  readonly name: string;
  /** A URL for a new, empty database, and how to drop it afterwards. */
  freshDatabase(): Promise<{ url: string; drop(): Promise<void> }>;
  /** Runs raw statements against a database, behind the store's back. */
  exec(url: string, statements: readonly string[]): Promise<void>;
  /** Statements that empty `tempfile` and rewind its auto-increment. */
  readonly rewindTempfile: readonly string[];
}

const sqlite: Backend = {
  name: 'sqlite',
  async freshDatabase() {
    const dir = mkdtempSync(join(tmpdir(), 'mogile-meta-'));
    return {
      url: `sqlite:${join(dir, 'meta.db')}`,
      async drop() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  async exec(url, statements) {
    const raw = new Database(url.slice('sqlite:'.length));
    try {
      for (const statement of statements) raw.exec(statement);
    } finally {
      raw.close();
    }
  },
  rewindTempfile: ['DELETE FROM tempfile', 'DELETE FROM sqlite_sequence'],
};

/** A database name no other test run uses. */
function uniqueName(): string {
  return `mogile_test_${process.pid}_${randomBytes(4).toString('hex')}`;
}

const PG_ADMIN = process.env['MOGILE_TEST_PG'] ?? 'postgres://postgres@127.0.0.1:5432';
const MYSQL_ADMIN = process.env['MOGILE_TEST_MYSQL'] ?? 'mysql://root@127.0.0.1:3306';

const postgres: Backend = {
  name: 'postgres',
  async freshDatabase() {
    const { default: pg } = await import('pg');
    const name = uniqueName();
    const admin = new pg.Client({ connectionString: `${PG_ADMIN}/postgres` });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }
    return {
      url: `${PG_ADMIN}/${name}`,
      async drop() {
        await postgres.exec(`${PG_ADMIN}/postgres`, [
          `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`,
        ]);
      },
    };
  },
  async exec(url, statements) {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      for (const statement of statements) await client.query(statement);
    } finally {
      await client.end();
    }
  },
  rewindTempfile: ['DELETE FROM tempfile', 'ALTER SEQUENCE tempfile_fid_seq RESTART WITH 1'],
};

const mysql: Backend = {
  name: 'mysql',
  async freshDatabase() {
    const name = uniqueName();
    await mysql.exec(MYSQL_ADMIN, [
      `CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`,
    ]);
    return {
      url: `${MYSQL_ADMIN}/${name}`,
      drop: () => mysql.exec(MYSQL_ADMIN, [`DROP DATABASE IF EXISTS ${name}`]),
    };
  },
  async exec(url, statements) {
    const { createConnection } = await import('mysql2/promise');
    const connection = await createConnection(url);
    try {
      for (const statement of statements) await connection.query(statement);
    } finally {
      await connection.end();
    }
  },
  rewindTempfile: ['DELETE FROM tempfile', 'ALTER TABLE tempfile AUTO_INCREMENT = 1'],
};

const ALL: readonly Backend[] = [sqlite, postgres, mysql];

export function backends(): readonly Backend[] {
  const wanted = process.env['META_BACKENDS']?.split(',').map((name) => name.trim());
  return wanted ? ALL.filter((backend) => wanted.includes(backend.name)) : ALL;
}
