import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MogileClient } from '../../src/client/index.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { TrackerConnection } from '../helpers/tracker-connection.js';
import { type SpawnedTracker, spawnTracker } from '../helpers/tracker-process.js';

/**
 * docs/faults.md: a tracker killed (SIGKILL) while it handles `create_close` leaves the key
 * bound to the complete file, or not bound at all; never to a partial or wrong file.
 */
describe('a tracker is killed during create_close', () => {
  let dir: string;
  let cluster: TestCluster;
  let tracker: SpawnedTracker;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mogile-tracker-kill-'));
    cluster = await startCluster({
      nodes: 2,
      devicesPerNode: 1,
      classes: { one: 1 },
      tracker: { db: `sqlite:${join(dir, 'meta.db')}` },
    });
    tracker = cluster.tracker;
  }, 60_000);
  afterAll(async () => {
    await tracker?.stop();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('binds the key to the whole file or not at all, whenever the kill lands', async () => {
    const outcomes = { bound: 0, unbound: 0 };
    // Delays spread the kill from before the request is read to after the commit.
    for (const killAfterMs of [0, 3, 10, 25, 60, -1]) {
      const key = `kill-${killAfterMs}`;
      const body = Buffer.alloc(200_000 + killAfterMs, (killAfterMs % 26) + 97);
      const connection = await TrackerConnection.open(tracker.port);
      const open = await connection.request(`create_open domain=d&class=one&key=${key}`);
      const pairs = new URLSearchParams(open.slice(3).trim());
      const put = await request(pairs.get('path')!, { method: 'PUT', body });
      await put.body.dump();
      connection.send(
        `create_close domain=d&fid=${pairs.get('fid')}&devid=${pairs.get('devid')}` +
          `&path=${encodeURIComponent(pairs.get('path')!)}&key=${key}&size=${body.length}\r\n`,
      );
      // -1: after the reply, where the key must be bound.
      if (killAfterMs < 0) expect(await connection.readLine()).toMatch(/^OK/);
      else await delay(killAfterMs);
      await tracker.stop('SIGKILL');
      connection.close();

      tracker = await spawnTracker({ db: `sqlite:${join(dir, 'meta.db')}` });
      const client = new MogileClient({ trackers: [`127.0.0.1:${tracker.port}`], domain: 'd' });
      try {
        const info = await client.info(key).catch(() => undefined);
        if (info === undefined) {
          outcomes.unbound += 1;
        } else {
          outcomes.bound += 1;
          expect(info.lengthBytes).toBe(body.length);
          expect((await client.get(key)).equals(body)).toBe(true);
        }
      } finally {
        await client.close();
      }
    }
    // Both outcomes occur across the delays; neither is ever a wrong file.
    expect(outcomes.bound + outcomes.unbound).toBe(6);
    expect(outcomes.bound).toBeGreaterThanOrEqual(1);
    console.log(`tracker kill during create_close: ${JSON.stringify(outcomes)}`);
  }, 90_000);
});
