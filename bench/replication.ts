/**
 * Replication throughput on a real cluster (a tracker on SQLite, 3 storage nodes x 2
 * devices): 5,000 files of 4 KiB are stored in a class of mindevcount 1; once every store
 * has finished, the class is raised to 2 and every fid queued at once (as fsck or an
 * operator's bulk `updateclass` would), and we time until each file has its 2 copies. The
 * stores themselves are not part of the figure.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { request } from 'undici';
import { startCluster } from '../test/helpers/cluster.js';
import { TrackerConnection } from '../test/helpers/tracker-connection.js';
import { okPairs } from '../test/helpers/transcripts.js';

const FILES = 5000;
const SIZE_BYTES = 4096;
const STORE_CONCURRENCY = 16;
const DEADLINE_MS = 300_000;

export async function run(): Promise<void> {
  const cluster = await startCluster({ nodes: 3, devicesPerNode: 2, classes: { grow: 1 } });
  const db = new Database(join(cluster.tracker.dir, 'm.db'));
  db.pragma('busy_timeout = 10000');
  try {
    const body = randomBytes(SIZE_BYTES);
    const connections = await Promise.all(
      Array.from({ length: STORE_CONCURRENCY }, () => TrackerConnection.open(cluster.tracker.port)),
    );
    const ok = async (conn: TrackerConnection, line: string) => {
      const pairs = okPairs(await conn.request(line));
      if (!pairs) throw new Error(`${line} failed`);
      return pairs;
    };
    let next = 0;
    const storeStarted = performance.now();
    await Promise.all(
      connections.map(async (conn) => {
        while (next < FILES) {
          const key = `bench-${next++}`;
          const open = await ok(conn, `create_open domain=d&class=grow&key=${key}`);
          const put = await request(open['path']!, { method: 'PUT', body });
          await put.body.dump();
          await ok(
            conn,
            `create_close domain=d&fid=${open['fid']}&devid=${open['devid']}&path=${open['path']}&key=${key}&size=${SIZE_BYTES}`,
          );
        }
      }),
    );
    const storeSeconds = (performance.now() - storeStarted) / 1000;
    // Let the replicator settle the stores' own queue rows (all good at mindevcount 1).
    const pending = db.prepare('SELECT COUNT(*) AS n FROM file_to_replicate');
    while ((pending.get() as { n: number }).n > 0) await delay(20);
    db.prepare('UPDATE class SET mindevcount = 2 WHERE classname = ?').run('grow');
    await cluster.ok('clear_cache');
    const storedAt = performance.now();
    db.prepare(
      'INSERT INTO file_to_replicate (fid, nexttry, fromdevid, failcount, flags) SELECT fid, 0, NULL, 0, 0 FROM file',
    ).run();
    const replicated = db.prepare('SELECT COUNT(*) AS n FROM file WHERE devcount >= 2');
    let done = 0;
    while (performance.now() - storedAt < DEADLINE_MS) {
      done = (replicated.get() as { n: number }).n;
      if (done >= FILES) break;
      await delay(20);
    }
    const finishedAt = performance.now();
    for (const conn of connections) conn.close();
    const seconds = (ms: number) => (ms / 1000).toFixed(2);
    process.stdout.write(
      `${FILES} x ${SIZE_BYTES} B files, 3 nodes x 2 devices (stores took ${storeSeconds.toFixed(1)} s)\n` +
        `1 -> 2 copies: ${seconds(finishedAt - storedAt)} s` +
        `${done < FILES ? ` (ONLY ${done} done before the deadline)` : ''}\n`,
    );
  } finally {
    db.close();
    await cluster.stop();
  }
}
