import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MogileClient } from '../../src/client/index.js';
import { fidPath } from '../../src/protocol/fid-path.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { TrackerConnection } from '../helpers/tracker-connection.js';

/**
 * architecture.md §4.5 in the replicator: metadata corrupted behind its back (a `file_on`
 * row naming a device whose bytes are not the fid's) never leads it to copy the wrong
 * bytes or record a copy it did not verify; the breach is logged and counted.
 */
describe('replicator against corrupted metadata', () => {
  let cluster: TestCluster;
  let db: Database.Database;
  let client: MogileClient;
  let admin: TrackerConnection;

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3, devicesPerNode: 1, classes: { one: 1, three: 3 } });
    db = new Database(join(cluster.tracker.dir, 'm.db'));
    db.pragma('busy_timeout = 5000');
    client = new MogileClient({ trackers: [cluster.trackerAddress], domain: cluster.domain });
    admin = await TrackerConnection.open(cluster.tracker.port);
  }, 60_000);
  afterAll(async () => {
    admin?.close();
    db?.close();
    await client?.close();
    await cluster?.stop();
  });

  const violations = async () => {
    const stats = await admin.admin('!stats');
    return Number(/^invariant_violations (\d+)/m.exec(stats)?.[1] ?? 0);
  };
  const onDisk = (devid: number, fid: number) =>
    join(cluster.deviceNode.get(devid)!.docroot, fidPath(devid, fid));
  const devidsOf = async (key: string) =>
    (await cluster.ok(`file_info domain=d&key=${key}&devices=1`))
      ['devids']!.split(',')
      .map(Number)
      .sort();

  it('never copies from a device whose bytes are not the fid', async () => {
    const body = 'the only true bytes';
    const stored = await client.store('wrong-source', Buffer.from(body), { class: 'one' });
    const [liar, target] = [1, 2, 3].filter((devid) => devid !== stored.devid) as [number, number];
    // The liar holds bytes of the right length that are not the file, and the metadata says
    // it holds the fid; the replication row prefers it as the source.
    mkdirSync(dirname(onDisk(liar, stored.fid)), { recursive: true });
    writeFileSync(onDisk(liar, stored.fid), 'X'.repeat(body.length));
    const three = db
      .prepare(
        "SELECT c.classid FROM class c JOIN domain d USING (dmid) WHERE d.namespace = 'd' AND c.classname = 'three'",
      )
      .get() as { classid: number };
    const before = await violations();
    db.transaction(() => {
      db.prepare('INSERT INTO file_on (fid, devid) VALUES (?, ?)').run(stored.fid, liar);
      db.prepare('UPDATE file SET classid = ?, devcount = 2 WHERE fid = ?').run(
        three.classid,
        stored.fid,
      );
      db.prepare(
        'INSERT OR REPLACE INTO file_to_replicate (fid, nexttry, fromdevid, failcount, flags) VALUES (?, 0, ?, 0, 0)',
      ).run(stored.fid, liar);
    })();

    for (let i = 0; i < 150 && !(await devidsOf('wrong-source')).includes(target); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await devidsOf('wrong-source')).toEqual([1, 2, 3]);
    // The copy came from the true source; the liar's bytes went nowhere.
    expect(readFileSync(onDisk(target, stored.fid), 'utf8')).toBe(body);
    expect(readFileSync(onDisk(stored.devid, stored.fid), 'utf8')).toBe(body);
    expect(await violations()).toBeGreaterThan(before);
    expect(cluster.tracker.stderr()).toMatch(
      new RegExp(
        `invariant violated: copy of fid ${stored.fid} from dev${liar} .*checksum mismatch on GET`,
      ),
    );
  });

  it('never records a copy from a device that lacks the fid', async () => {
    const stored = await client.store('missing-source', Buffer.from('real'), { class: 'one' });
    const others = [1, 2, 3].filter((devid) => devid !== stored.devid);
    const before = await violations();
    // Only the ghost is listed: the one real copy's row is gone, so nothing can be copied.
    db.transaction(() => {
      db.prepare('DELETE FROM file_on WHERE fid = ?').run(stored.fid);
      db.prepare('INSERT INTO file_on (fid, devid) VALUES (?, ?)').run(stored.fid, others[0]);
      db.prepare(
        "UPDATE file SET classid = (SELECT classid FROM class WHERE classname = 'three' AND dmid = file.dmid) WHERE fid = ?",
      ).run(stored.fid);
      db.prepare(
        'INSERT OR REPLACE INTO file_to_replicate (fid, nexttry, fromdevid, failcount, flags) VALUES (?, 0, ?, 0, 0)',
      ).run(stored.fid, others[0]);
    })();
    for (let i = 0; i < 100 && (await violations()) === before; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await violations()).toBeGreaterThan(before);
    expect(await devidsOf('missing-source')).toEqual([others[0]]);
    // The queue row stays for a later attempt.
    const row = db.prepare('SELECT fid FROM file_to_replicate WHERE fid = ?').get(stored.fid);
    expect(row).toEqual({ fid: stored.fid });
  });
});
