/**
 * The desync guarantee and the overload rules (architecture.md §4.1–4.2, §5) against a real
 * tracker process on PostgreSQL, with a TCP proxy that stalls or cuts the database's
 * network. Defaults throughout: request_timeout 2 s, stale_reply_after 2.5 s.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MogileClient } from '../../src/client/mogile-client.js';
import { TrackerConnection } from '../helpers/tracker-connection.js';
import { okPairs } from '../helpers/transcripts.js';
import { waitUntil } from '../helpers/wait-for.js';
import { PhpLikeClient } from './php-like-client.js';
import {
  fidFileName,
  type ProxiedTracker,
  startProxiedTracker,
  uniqueName,
} from './proxied-tracker.js';

const STALL_MS = 5000;
/** The torture keeps asking this long after the stall, to see answers come back. */
const AFTER_STALL_MS = 1500;

/** The code of an `ERR` line, else undefined. */
function errCode(line: string): string | undefined {
  return /^ERR (\S+)/.exec(line)?.[1];
}

/** Waits until `connection` answers `get_paths` for `key` normally again. */
function answersAgain(connection: TrackerConnection, key: string): Promise<void> {
  return waitUntil(
    `a normal answer for ${key} again`,
    async () => {
      const reply = await connection.request(`get_paths domain=d&key=${key}&noverify=1`);
      return okPairs(reply)?.['key'] === key;
    },
    10_000,
    50,
  );
}

async function getPathsWorks(port: number, key: string): Promise<boolean> {
  const connection = await TrackerConnection.open(port);
  try {
    const reply = await connection.request(`get_paths domain=d&key=${key}&noverify=1`);
    return okPairs(reply)?.['key'] === key;
  } finally {
    connection.close();
  }
}

describe('a tracker whose database stalls', () => {
  let setup: ProxiedTracker;

  beforeAll(async () => {
    setup = await startProxiedTracker({ files: 50 });
  }, 30_000);
  afterAll(async () => {
    await setup?.stop();
  });

  it('answers ERR timeout in each request place, then recovers by itself', async () => {
    const connection = await TrackerConnection.open(setup.tracker.port);
    try {
      expect(
        okPairs(await connection.request('get_paths domain=d&key=k1&noverify=1')),
      ).toMatchObject({ key: 'k1', fid: '1' });
      setup.proxy.pause();
      const started = performance.now();
      // Pipelined in one write: the replies must come back one each, in request order.
      connection.send(
        'get_paths domain=d&key=k2&noverify=1&callid=a\r\n' +
          'file_info domain=d&key=k3&callid=b\r\n' +
          'noop callid=c\r\n',
      );
      const first = await connection.readLine(4000);
      const firstMs = performance.now() - started;
      const second = await connection.readLine(4000);
      const third = await connection.readLine(4000);
      expect(errCode(first)).toBe('timeout');
      expect(first.trimEnd().endsWith(' a')).toBe(true);
      // Below the 3 s the Perl client waits (architecture.md §4.2).
      expect(firstMs).toBeLessThan(3000);
      expect(errCode(second)).toBe('timeout');
      expect(second.trimEnd().endsWith(' b')).toBe(true);
      // It waited behind the others (pipeline_depth 1) past its own deadline.
      expect(errCode(third)).toBe('timeout');
      expect(third.trimEnd().endsWith(' c')).toBe(true);
      setup.proxy.resume();
      // The same connection, and no restart, answers normally again.
      await answersAgain(connection, 'k4');
      expect(connection.isClosed).toBe(false);
    } finally {
      setup.proxy.resume();
      connection.close();
    }
  }, 20_000);

  it('never hands a PHP-like client (300 ms read timeout, socket kept) another key', async () => {
    const clients = Array.from({ length: 4 }, () => new PhpLikeClient(setup.tracker.port, 300));
    const counts = { ok: 0, mismatches: 0, errors: 0, timeouts: 0, closed: 0 };
    const errors = new Map<string, number>();
    setup.proxy.pause();
    const stallEnds = performance.now() + STALL_MS;
    const resumeTimer = setTimeout(() => setup.proxy.resume(), STALL_MS);
    const tortureEnds = stallEnds + AFTER_STALL_MS;
    try {
      await Promise.all(
        clients.map(async (client, c) => {
          for (let i = c; performance.now() < tortureEnds; i += clients.length) {
            const { key } = setup.keys[i % setup.keys.length]!;
            const reply = await client.ask(`get_paths domain=d&key=${key}&noverify=1`);
            if (reply.kind === 'timeout') counts.timeouts += 1;
            else if (reply.kind === 'closed') counts.closed += 1;
            else if (okPairs(reply.line)) {
              if (okPairs(reply.line)?.['key'] === key) counts.ok += 1;
              else counts.mismatches += 1;
            } else {
              counts.errors += 1;
              const code = errCode(reply.line) ?? reply.line;
              errors.set(code, (errors.get(code) ?? 0) + 1);
            }
          }
        }),
      );
    } finally {
      clearTimeout(resumeTimer);
      setup.proxy.resume();
      for (const client of clients) client.close();
    }
    const reconnects = clients.reduce((sum, client) => sum + client.reconnects, 0);
    const summary = { ...counts, reconnects, errorCodes: Object.fromEntries(errors) };
    expect(counts.mismatches, JSON.stringify(summary)).toBe(0);
    expect(counts.timeouts, JSON.stringify(summary)).toBeGreaterThan(0);
    expect(counts.ok, JSON.stringify(summary)).toBeGreaterThan(0);
  }, 20_000);

  it('never hands MogileClient (default settings) another key', async () => {
    const client = new MogileClient({
      domain: 'd',
      trackers: [`127.0.0.1:${setup.tracker.port}`],
    });
    const counts = { ok: 0, mismatches: 0, failures: 0 };
    const failures = new Map<string, number>();
    setup.proxy.pause();
    const resumeTimer = setTimeout(() => setup.proxy.resume(), STALL_MS);
    const tortureEnds = performance.now() + STALL_MS + AFTER_STALL_MS;
    try {
      await Promise.all(
        Array.from({ length: 4 }, async (_, c) => {
          for (let i = c; performance.now() < tortureEnds; i += 4) {
            const { key, fid } = setup.keys[i % setup.keys.length]!;
            try {
              const paths = await client.getPaths(key);
              if (paths.length > 0 && paths.every((path) => path.endsWith(fidFileName(fid)))) {
                counts.ok += 1;
              } else {
                counts.mismatches += 1;
              }
            } catch (error) {
              const code = (error as { code?: string }).code ?? 'unknown';
              if (code === 'ECALLID_MISMATCH') counts.mismatches += 1;
              else counts.failures += 1;
              failures.set(code, (failures.get(code) ?? 0) + 1);
            }
          }
        }),
      );
    } finally {
      clearTimeout(resumeTimer);
      setup.proxy.resume();
      await client.close();
    }
    const summary = JSON.stringify({ ...counts, failures: Object.fromEntries(failures) });
    expect(counts.mismatches, summary).toBe(0);
    expect(counts.failures, summary).toBeGreaterThan(0);
    expect(counts.ok, summary).toBeGreaterThan(0);
  }, 20_000);

  it('survives a database restart (every connection cut) without a restart of its own', async () => {
    const connection = await TrackerConnection.open(setup.tracker.port);
    try {
      // One request is in flight when the connections go.
      setup.proxy.pause();
      const started = performance.now();
      connection.send('get_paths domain=d&key=k5&noverify=1\r\n');
      await new Promise((resolve) => setTimeout(resolve, 200));
      setup.proxy.dropAll();
      setup.proxy.resume();
      const reply = await connection.readLine(4000).catch((error: unknown) => {
        throw new Error(`${error}\n${setup.tracker.stderr().slice(-3000)}`);
      });
      expect(performance.now() - started).toBeLessThan(2500);
      expect(['db', 'db_busy', 'timeout']).toContain(errCode(reply));
      await answersAgain(connection, 'k6');
    } finally {
      setup.proxy.resume();
      connection.close();
    }
  }, 20_000);
});

describe('a tracker whose database refuses new connections', () => {
  const role = uniqueName('mogile_role');
  let setup: ProxiedTracker;
  const admin = (statements: readonly string[]) => setup.exec(statements);

  beforeAll(async () => {
    const client = new pg.Client({
      connectionString: 'postgres://postgres@127.0.0.1:5432/postgres',
    });
    await client.connect();
    try {
      await client.query(`CREATE ROLE ${role} LOGIN`);
    } finally {
      await client.end();
    }
    setup = await startProxiedTracker({ files: 5, role, args: ['--db-pool-size', '2'] });
  }, 30_000);
  afterAll(async () => {
    await setup?.stop();
    const client = new pg.Client({
      connectionString: 'postgres://postgres@127.0.0.1:5432/postgres',
    });
    await client.connect();
    try {
      await client.query(`DROP ROLE IF EXISTS ${role}`);
    } finally {
      await client.end();
    }
  });

  it('answers fast errors while refused ("too many connections"), then recovers', async () => {
    expect(await getPathsWorks(setup.tracker.port, 'k1')).toBe(true);
    // No connection slot left for the tracker's role; its open connections are cut.
    await admin([
      `ALTER ROLE ${role} CONNECTION LIMIT 0`,
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '${role}'`,
    ]);
    const connection = await TrackerConnection.open(setup.tracker.port);
    try {
      const codes: string[] = [];
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        const reply = await connection.request('get_paths domain=d&key=k2&noverify=1');
        expect(performance.now() - started).toBeLessThan(1500);
        codes.push(errCode(reply) ?? reply);
      }
      // The first may meet a connection the cut has not reached yet; the rest are refused.
      expect(
        codes.slice(1).every((code) => code === 'db_busy' || code === 'db'),
        codes.join(),
      ).toBe(true);
      await admin([`ALTER ROLE ${role} CONNECTION LIMIT -1`]);
      await answersAgain(connection, 'k3');
    } finally {
      await admin([`ALTER ROLE ${role} CONNECTION LIMIT -1`]);
      connection.close();
    }
  }, 20_000);
});
