import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MogileClient } from '../../src/client/index.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { type SpawnedTracker, spawnTracker } from '../helpers/tracker-process.js';
import { waitUntil } from '../helpers/wait-for.js';

/**
 * architecture.md §4.3: fids come from a persisted high-water mark. Deleting the top fids,
 * restarting the tracker and rewinding the database's auto-increment counter never brings
 * one back, so a pending delete of an old fid can never remove a new file.
 */
describe('fids are never reused', () => {
  let dir: string;
  let dbPath: string;
  let cluster: TestCluster;
  let restarted: SpawnedTracker | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mogile-fid-reuse-'));
    dbPath = join(dir, 'meta.db');
    cluster = await startCluster({
      nodes: 2,
      devicesPerNode: 1,
      classes: { one: 1 },
      tracker: { db: `sqlite:${dbPath}` },
    });
  }, 60_000);
  afterAll(async () => {
    await restarted?.stop();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('hands out fresh fids after top deletions, a restart and an auto-increment rewind', async () => {
    const client = new MogileClient({ trackers: [cluster.trackerAddress], domain: 'd' });
    const fids: number[] = [];
    for (const key of ['a', 'b', 'c', 'd', 'e']) {
      fids.push((await client.store(key, Buffer.from(`bytes of ${key}`), { class: 'one' })).fid);
    }
    const highest = Math.max(...fids);
    await client.delete('d');
    await client.delete('e');
    const db = new Database(dbPath);
    db.pragma('busy_timeout = 5000');
    const count = (sql: string, ...args: unknown[]) =>
      (db.prepare(sql).get(...args) as { n: number }).n;
    try {
      // The delete worker removes the copies and the queue rows: only the mark remembers.
      await waitUntil(
        'the deletion of the top fids',
        () => count('SELECT COUNT(*) AS n FROM file_to_delete2') === 0,
        15_000,
        50,
      );
      await client.close();
      await cluster.tracker.stop();

      // A database restored or restarted with its counters rewound, plus a delete of the
      // next fid still pending (what a reused fid would hit).
      db.prepare("DELETE FROM sqlite_sequence WHERE name = 'tempfile'").run();
      expect(count('SELECT COALESCE(MAX(fid), 0) AS n FROM file')).toBeLessThan(highest);
      db.prepare('INSERT INTO file_to_delete2 (fid, nexttry, failcount) VALUES (?, 0, 0)').run(
        highest + 1,
      );

      restarted = await spawnTracker({ db: `sqlite:${dbPath}` });
      const again = new MogileClient({ trackers: [`127.0.0.1:${restarted.port}`], domain: 'd' });
      try {
        const fresh = await again.store('after-restart', Buffer.from('new bytes'), {
          class: 'one',
        });
        expect(fresh.fid).toBeGreaterThan(highest + 1);
        // The pending delete runs and must leave the new file alone.
        await waitUntil(
          'the pending delete',
          () => count('SELECT COUNT(*) AS n FROM file_to_delete2') === 0,
          15_000,
          50,
        );
        expect((await again.get('after-restart')).toString()).toBe('new bytes');
        expect((await again.get('c')).toString()).toBe('bytes of c');
      } finally {
        await again.close();
      }
    } finally {
      db.close();
    }
  });
});
