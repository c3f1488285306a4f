import { join } from 'node:path';
import Database from 'better-sqlite3';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MogileClient } from '../../src/client/index.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { TrackerConnection } from '../helpers/tracker-connection.js';

/**
 * architecture.md §4.5: metadata corrupted behind the tracker's back makes it refuse
 * (`ERR invariant_violation`) or leave the bad path out, log the breach and count it, and
 * never hand out another file's bytes.
 */
describe('metadata corrupted in the database', () => {
  let cluster: TestCluster;
  let db: Database.Database;
  let client: MogileClient;
  let admin: TrackerConnection;

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 2, devicesPerNode: 1, classes: { one: 1 } });
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

  /** The tracker's log arrives on a pipe: wait for the line instead of racing it. */
  const logged = async (pattern: RegExp) => {
    for (let i = 0; i < 100 && !pattern.test(cluster.tracker.stderr()); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(cluster.tracker.stderr()).toMatch(pattern);
  };

  const violations = async () => {
    const stats = await admin.admin('!stats');
    return Number(/^invariant_violations (\d+)/m.exec(stats)?.[1] ?? 0);
  };
  const dmid = () =>
    (db.prepare('SELECT dmid FROM domain WHERE namespace = ?').get('d') as { dmid: number }).dmid;

  /** Stores a one-copy file and returns its fid and the devid holding it. */
  async function storeOne(key: string, body: string) {
    const stored = await client.store(key, Buffer.from(body), { class: 'one' });
    return { fid: stored.fid, devid: stored.devid, other: stored.devid === 1 ? 2 : 1 };
  }

  it('skips, logs and counts a file_on row naming a device that lacks the fid', async () => {
    const { fid, devid, other } = await storeOne('ghost-copy', 'the real bytes');
    db.prepare('INSERT INTO file_on (fid, devid) VALUES (?, ?)').run(fid, other);
    const before = await violations();
    for (let i = 0; i < 20; i++) {
      // Verified paths (§5.3): the first copy is HEADed; when the wrong device comes first
      // it is found empty and skipped, so the first path is always the real copy.
      const paths = await cluster.ok('get_paths domain=d&key=ghost-copy');
      expect(paths['path1']).toContain(`/dev${devid}/`);
    }
    expect(await violations()).toBeGreaterThan(before);
    await logged(/invariant violated: fid \d+ is recorded on .*dev\d+.* does not hold it/);
    // Unverified paths include the bad one; the client reads past it to the right bytes.
    for (let i = 0; i < 4; i++) {
      expect((await client.get('ghost-copy')).toString()).toBe('the real bytes');
    }

    // With the only real copy's row gone, nothing is served: never someone else's bytes.
    db.prepare('DELETE FROM file_on WHERE fid = ? AND devid = ?').run(fid, devid);
    expect((await cluster.ok('get_paths domain=d&key=ghost-copy'))['paths']).toBe('0');
    await expect(client.get('ghost-copy')).rejects.toThrow();
  });

  it('skips and counts a file_on row naming a device that does not exist', async () => {
    const { fid, devid } = await storeOne('unknown-device', 'bytes');
    db.prepare('INSERT INTO file_on (fid, devid) VALUES (?, 999)').run(fid);
    const before = await violations();
    const paths = await cluster.ok('get_paths domain=d&key=unknown-device&noverify=1');
    expect(paths['paths']).toBe('1');
    expect(paths['path1']).toContain(`/dev${devid}/`);
    expect(await violations()).toBe(before + 1);
    await logged(/file_on names unknown device 999/);
  });

  it('refuses to bind a fid that already belongs to another key, keeping the owner', async () => {
    const open = await cluster.ok('create_open domain=d&class=one&key=intruder');
    const put = await request(open['path']!, { method: 'PUT', body: 'intruder bytes' });
    await put.body.dump();
    // A reused fid: the database already has a file row for it under another key.
    db.prepare(
      'INSERT INTO file (fid, dmid, dkey, length, classid, devcount) VALUES (?, ?, ?, 5, 0, 1)',
    ).run(Number(open['fid']), dmid(), 'victim');
    const before = await violations();
    const reply = await cluster.request(
      `create_close domain=d&fid=${open['fid']}&devid=${open['devid']}` +
        `&path=${encodeURIComponent(open['path']!)}&key=intruder&size=14`,
    );
    expect(reply).toMatch(/^ERR invariant_violation /);
    expect(await violations()).toBe(before + 1);
    await logged(/already belongs to dmid \d+ key victim/);
    expect((await cluster.ok('file_info domain=d&key=victim'))['fid']).toBe(open['fid']);
    expect(await cluster.request('file_info domain=d&key=intruder')).toMatch(/^ERR unknown_key/);
    // Not abandoned: no delete is queued that would remove the owner's copies.
    const queued = db
      .prepare('SELECT fid FROM file_to_delete2 WHERE fid = ?')
      .get(Number(open['fid']));
    expect(queued).toBeUndefined();
  });

  it('refuses to bind a fid with a pending delete', async () => {
    const open = await cluster.ok('create_open domain=d&class=one&key=doomed');
    const put = await request(open['path']!, { method: 'PUT', body: 'doomed' });
    await put.body.dump();
    const farFuture = Math.floor(Date.now() / 1000) + 86_400;
    db.prepare('INSERT INTO file_to_delete2 (fid, nexttry, failcount) VALUES (?, ?, 0)').run(
      Number(open['fid']),
      farFuture,
    );
    const reply = await cluster.request(
      `create_close domain=d&fid=${open['fid']}&devid=${open['devid']}` +
        `&path=${encodeURIComponent(open['path']!)}&key=doomed&size=6`,
    );
    expect(reply).toMatch(/^ERR invariant_violation /);
    await logged(/is queued for deletion/);
    expect(await cluster.request('file_info domain=d&key=doomed')).toMatch(/^ERR unknown_key/);
  });

  it('cannot give two keys one fid: the schema refuses it', async () => {
    const { fid } = await storeOne('only-owner', 'mine');
    expect(() =>
      db
        .prepare(
          'INSERT INTO file (fid, dmid, dkey, length, classid, devcount) VALUES (?, ?, ?, 4, 0, 1)',
        )
        .run(fid, dmid(), 'second-owner'),
    ).toThrow(/UNIQUE|PRIMARY/);
    expect(() =>
      db.prepare('UPDATE file SET fid = ? WHERE dkey = ?').run(fid, 'ghost-copy'),
    ).toThrow(/UNIQUE|PRIMARY/);
    expect((await client.get('only-owner')).toString()).toBe('mine');
  });
});
