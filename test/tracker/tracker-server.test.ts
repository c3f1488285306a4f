import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrackerConnection } from '../helpers/tracker-connection.js';
import { type SpawnedTracker, spawnTracker } from '../helpers/tracker-process.js';

const MIB = 1024 * 1024;

/** Polls `!stats` on its own connection until `processing_queries` reaches `count`. */
async function waitForProcessing(port: number, count: number): Promise<void> {
  const probe = await TrackerConnection.open(port);
  try {
    for (let attempt = 0; attempt < 500; attempt++) {
      const stats = await probe.admin('!stats');
      if (stats.includes(`processing_queries ${count}\r\n`)) return;
    }
    throw new Error(`processing_queries never reached ${count}`);
  } finally {
    probe.close();
  }
}

describe('tracker process: one shared tracker', () => {
  let tracker: SpawnedTracker;

  beforeAll(async () => {
    tracker = await spawnTracker();
  });
  afterAll(async () => {
    expect(await tracker.stop()).toBe(0);
  });

  it('answers pipelined requests in order, one line each', async () => {
    const conn = await TrackerConnection.open(tracker.port);
    const lines = Array.from({ length: 200 }, (_, i) => `noop callid=p${i}\r\n`);
    conn.send(lines.join(''));
    for (let i = 0; i < 200; i++) expect(await conn.readLine()).toBe(`OK callid=p${i}\r\n`);
    conn.close();
  });

  it("keeps sleep's reply ahead of a later noop", async () => {
    const conn = await TrackerConnection.open(tracker.port);
    conn.send('sleep duration=1&callid=s\r\nnoop callid=n\r\n');
    expect(await conn.readLine()).toBe('OK callid=s\r\n');
    expect(await conn.readLine()).toBe('OK callid=n\r\n');
    conn.close();
  });

  it('serves many concurrent clients, each with its own replies', async () => {
    const clients = await Promise.all(
      Array.from({ length: 40 }, () => TrackerConnection.open(tracker.port)),
    );
    await Promise.all(
      clients.map(async (conn, c) => {
        for (let i = 0; i < 15; i++) {
          expect(await conn.request(`noop callid=c${c}r${i}`)).toBe(`OK callid=c${c}r${i}\r\n`);
        }
        conn.close();
      }),
    );
  });

  it('closes a connection whose line passes 1 MiB, and accepts one just under', async () => {
    const fits = await TrackerConnection.open(tracker.port);
    const value = 'x'.repeat(MIB - 100);
    expect(await fits.request(`noop pad=${value}&callid=big`)).toBe('OK callid=big\r\n');
    fits.close();

    const tooLong = await TrackerConnection.open(tracker.port);
    tooLong.send(`noop pad=${'y'.repeat(MIB + 10)}`);
    await tooLong.waitClosed();
    expect(await (await TrackerConnection.open(tracker.port)).request('noop')).toBe('OK \r\n');
  });

  it('answers test crash=1 with ERR failure and keeps serving', async () => {
    const conn = await TrackerConnection.open(tracker.port);
    expect(await conn.request('test crash=1&callid=7')).toBe('ERR failure Operation+failed 7\r\n');
    expect(await conn.request('noop callid=after')).toBe('OK callid=after\r\n');
    // The log line reaches this process's pipe on its own schedule.
    await expect
      .poll(() => tracker.stderr(), { timeout: 5000 })
      .toContain('test crash requested by the client');
    conn.close();
  });

  it('streams log lines to a !watch connection', async () => {
    const watcher = await TrackerConnection.open(tracker.port);
    expect(await watcher.admin('!watch')).toBe('Added you to watcher list.\r\n.\r\n');
    const other = await TrackerConnection.open(tracker.port);
    await other.request('test crash=1');
    expect(await watcher.readLine()).toMatch(/^:: \[error\] command test failed: test crash/);
    other.close();
    watcher.close();
  });

  it('answers a bare ! as an unknown command and !version with 2.73', async () => {
    const conn = await TrackerConnection.open(tracker.port);
    expect(await conn.request('!')).toBe('ERR unknown_command Unknown+server+command\r\n');
    expect(await conn.admin('!version')).toBe('2.73\r\n.\r\n');
    conn.close();
  });
});

describe('tracker process: its own tracker per behaviour', () => {
  it('runs pipelined requests concurrently with --pipeline-depth, replies still in order', async () => {
    const tracker = await spawnTracker({ args: ['--pipeline-depth', '4'] });
    try {
      const conn = await TrackerConnection.open(tracker.port);
      conn.send('sleep duration=1\r\nnoop callid=fast\r\n');
      // The noop has finished (it is in !recent) while the sleep still holds its reply.
      const probe = await TrackerConnection.open(tracker.port);
      let recent = '';
      for (let i = 0; i < 500 && !recent.includes('noop callid=fast'); i++) {
        recent = await probe.admin('!recent');
      }
      expect(recent).toContain('noop callid=fast');
      expect(recent).not.toContain('sleep');
      expect(conn.unread).toBe('');
      expect(await conn.readLine()).toBe('OK \r\n');
      expect(await conn.readLine()).toBe('OK callid=fast\r\n');
      probe.close();
      conn.close();
    } finally {
      await tracker.stop();
    }
  });

  it('closes idle connections between requests, never during one', async () => {
    const tracker = await spawnTracker({ args: ['--idle-timeout', '0.5'] });
    try {
      const busy = await TrackerConnection.open(tracker.port);
      expect(await busy.request('sleep duration=1')).toBe('OK \r\n');
      const idle = await TrackerConnection.open(tracker.port);
      expect(await idle.request('noop')).toBe('OK \r\n');
      await idle.waitClosed(3000);
      await busy.waitClosed(3000);
    } finally {
      await tracker.stop();
    }
  });

  it('stops gracefully on SIGTERM: the running sleep still gets its reply', async () => {
    const tracker = await spawnTracker();
    const conn = await TrackerConnection.open(tracker.port);
    conn.send('sleep duration=1&callid=late\r\n');
    await waitForProcessing(tracker.port, 1);
    tracker.child.kill('SIGTERM');
    expect(await conn.readLine(5000)).toBe('OK callid=late\r\n');
    await conn.waitClosed();
    expect(await tracker.exited).toBe(0);
    // The whole stop ran, the database's close included.
    expect(tracker.stderr()).toContain('"msg":"tracker stopped"');
    await tracker.stop();
    await expect(TrackerConnection.open(tracker.port)).rejects.toThrow();
  });

  it('refuses to start on an invalid setting, naming it', async () => {
    await expect(spawnTracker({ args: ['--query-jobs', 'lots'] })).rejects.toThrow(
      /exited \(1\).*invalid query_jobs "lots"/s,
    );
  });

  it('stops on !shutdown', async () => {
    const tracker = await spawnTracker();
    const conn = await TrackerConnection.open(tracker.port);
    expect(await conn.admin('!shutdown')).toBe('.\r\n');
    await conn.waitClosed();
    expect(await tracker.exited).toBe(0);
    await tracker.stop();
  });
});
