import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { findLocalSocket } from '../../src/tracker/db-dsn.js';
import { backends } from '../helpers/meta-backends.js';
import { TrackerConnection } from '../helpers/tracker-connection.js';
import { spawnTracker } from '../helpers/tracker-process.js';

/*
 * A mogilefsd.conf names its database with `db_dsn` and logs in with `db_user` and
 * `db_pass`, which a DBI DSN never carries. A tracker started that way must log in as
 * that user, with that password.
 */
const byName = new Map(backends().map((backend) => [backend.name, backend]));
const postgres = byName.get('postgres');
const mysql = byName.get('mysql');

describe('a tracker configured with db_dsn, db_user and db_pass', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** Starts a tracker with `args`, checks it serves; returns the database its log names. */
  async function serves(args: string[]): Promise<string> {
    const tracker = await spawnTracker({ args: [...args, '--http-listen', 'none'] });
    cleanups.push(() => tracker.stop());
    const conn = await TrackerConnection.open(tracker.port);
    cleanups.push(async () => conn.close());
    expect(await conn.request('create_domain domain=login')).toBe('OK domain=login\r\n');
    const started = tracker
      .stderr()
      .split('\n')
      .filter((line) => line.includes('tracker listening'))
      .map((line) => JSON.parse(line) as { database?: string });
    expect(started).toHaveLength(1);
    return started[0]!.database ?? '';
  }

  it.runIf(postgres)('logs in to PostgreSQL as db_user', async () => {
    const database = await postgres!.freshDatabase();
    cleanups.push(database.drop);
    const url = new URL(database.url);
    await serves([
      '--db-dsn',
      `DBI:Pg:dbname=${url.pathname.slice(1)};host=${url.hostname};port=${url.port}`,
      '--db-user',
      url.username,
    ]);
  });

  it.runIf(postgres)('without a host in the DSN, finds the server as DBD::Pg would', async () => {
    const database = await postgres!.freshDatabase();
    cleanups.push(database.drop);
    const url = new URL(database.url);
    const name = url.pathname.slice(1);
    const port = url.port || '5432';
    const logged = await serves([
      '--db-dsn',
      `DBI:Pg:dbname=${name};port=${port}`,
      '--db-user',
      url.username,
    ]);
    // The socket in libpq's default folder where there is one, else TCP on localhost.
    const socketFolder = findLocalSocket('postgres', port);
    expect(logged).toBe(
      socketFolder === undefined
        ? `postgres://localhost:${port}/${name}`
        : `postgres://localhost:${port}/${name}?host=${encodeURIComponent(socketFolder)}`,
    );
  });

  it.runIf(mysql)('logs in to MySQL as db_user with db_pass', async () => {
    const database = await mysql!.freshDatabase();
    cleanups.push(database.drop);
    const url = new URL(database.url);
    const name = url.pathname.slice(1);
    const user = `mogile_login_${randomBytes(3).toString('hex')}`;
    const admin = `${url.protocol}//${url.username}@${url.host}`;
    await mysql!.exec(admin, [
      `CREATE USER '${user}'@'%' IDENTIFIED BY 'pa;ss w0rd'`,
      `GRANT ALL ON ${name}.* TO '${user}'@'%'`,
    ]);
    cleanups.push(() => mysql!.exec(admin, [`DROP USER '${user}'@'%'`]));
    await serves([
      '--db-dsn',
      `DBI:mysql:database=${name};host=${url.hostname};port=${url.port}`,
      '--db-user',
      user,
      '--db-pass',
      'pa;ss w0rd',
    ]);
  });
});
