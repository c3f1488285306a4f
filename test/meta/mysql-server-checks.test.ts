import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binlogRefusal } from '../../src/meta/dialects/mysql/mysql-adapter.js';
import { MetaServerError, openMetaStore } from '../../src/meta/index.js';
import { setupDatabase } from '../../src/meta/setup-database.js';
import { backends } from '../helpers/meta-backends.js';
import { spawnTracker } from '../helpers/tracker-process.js';

/*
 * Servers the store cannot work on are refused at start, with what to change:
 * - its MySQL transactions run at READ COMMITTED, where InnoDB refuses every write while
 *   the binary log records statements: refused before anything is written, not half a
 *   schema, then a database error per write;
 * - its transactions and row locks are InnoDB's: a MogileFS table on MyISAM (which the
 *   original allowed only with USE_UNSAFE_MYSQL) is refused, as the original does.
 */
describe('binary-log settings', () => {
  it('refuse only a statement-based binary log that is on', () => {
    expect(binlogRefusal({ logBin: 1, format: 'STATEMENT' })).toMatch(/binlog_format to MIXED/);
    expect(binlogRefusal({ logBin: '1', format: 'statement' })).toBeDefined();
    expect(binlogRefusal({ logBin: 1, format: 'MIXED' })).toBeUndefined();
    expect(binlogRefusal({ logBin: 1, format: 'ROW' })).toBeUndefined();
    expect(binlogRefusal({ logBin: 0, format: 'STATEMENT' })).toBeUndefined();
  });
});

const mysql = backends().find((backend) => backend.name === 'mysql');

describe.runIf(mysql)('a MariaDB server logging statements', () => {
  let dir: string;
  let server: ChildProcess | undefined;
  let url: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mogile-binlog-'));
    const user = userInfo().username;
    execFileSync('mariadb-install-db', [
      '--no-defaults',
      `--datadir=${join(dir, 'data')}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      `--user=${user}`,
    ]);
    const socket = join(dir, 'sock');
    server = spawn(
      'mariadbd',
      [
        '--no-defaults',
        `--datadir=${join(dir, 'data')}`,
        '--skip-networking',
        `--socket=${socket}`,
        `--pid-file=${join(dir, 'pid')}`,
        `--log-bin=${join(dir, 'binlog')}`,
        '--binlog-format=STATEMENT',
        `--user=${user}`,
      ],
      { stdio: 'ignore' },
    );
    const admin = (sql: string) =>
      execFileSync('mariadb', ['--no-defaults', `--socket=${socket}`, '-u', 'root', '-e', sql]);
    // Ready once it answers on its socket.
    for (let attempt = 0; ; attempt++) {
      try {
        if (existsSync(socket)) {
          admin('SELECT 1');
          break;
        }
      } catch (error) {
        if (attempt > 300) throw error;
      }
      if (attempt > 300) throw new Error('mariadbd did not start');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    admin('CREATE DATABASE mogilefs');
    url = `mysql://root@localhost/mogilefs?socket=${encodeURIComponent(socket)}`;
  }, 60_000);

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server!.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is refused before a table is made, by the store, setup-db and the tracker', async () => {
    await expect(openMetaStore(url)).rejects.toThrow(MetaServerError);
    await expect(setupDatabase(url)).rejects.toThrow(/binlog_format = STATEMENT/);
    const tables = execFileSync('mariadb', [
      '--no-defaults',
      `--socket=${join(dir, 'sock')}`,
      '-u',
      'root',
      '-N',
      '-e',
      'SHOW TABLES FROM mogilefs',
    ]).toString();
    expect(tables.trim()).toBe('');
    await expect(spawnTracker({ db: url, args: ['--http-listen', 'none'] })).rejects.toThrow(
      /binlog_format to MIXED or ROW/,
    );
  });
});

describe.runIf(mysql)('a MogileFS database with a MyISAM table', () => {
  it('is refused by the store and the tracker, naming the table', async () => {
    const database = await mysql!.freshDatabase();
    try {
      const store = await openMetaStore(database.url);
      await store.close();
      await mysql!.exec(database.url, ['ALTER TABLE file_on ENGINE=MyISAM']);
      await expect(openMetaStore(database.url)).rejects.toThrow(/not InnoDB: file_on \(MyISAM\)/);
      await expect(
        spawnTracker({ db: database.url, args: ['--http-listen', 'none'] }),
      ).rejects.toThrow(/ALTER TABLE <table> ENGINE=InnoDB/);
      await mysql!.exec(database.url, ['ALTER TABLE file_on ENGINE=InnoDB']);
      await (await openMetaStore(database.url)).close();
    } finally {
      await database.drop();
    }
  });
});
