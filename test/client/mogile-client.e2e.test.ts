import { createHash } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChecksumMismatchEvent } from '../../src/client/diagnostics.js';
import { MogileClientError } from '../../src/client/errors.js';
import { MogileClient } from '../../src/client/mogile-client.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;
let client: MogileClient;

beforeAll(async () => {
  cluster = await startCluster({ nodes: 2, devicesPerNode: 1, classes: { two: 2, one: 1 } });
  // With a hashtype, file_info reports the checksum the tracker recorded (§5.7).
  await cluster.ok('update_class domain=d&class=one&mindevcount=1&hashtype=MD5');
  await cluster.ok('update_class domain=d&class=two&mindevcount=2&hashtype=MD5');
  client = new MogileClient({ trackers: [cluster.trackerAddress], domain: cluster.domain });
});

afterAll(async () => {
  await client?.close();
  await cluster?.stop();
});

async function rejection(promise: Promise<unknown>): Promise<MogileClientError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(MogileClientError);
    return error as MogileClientError;
  }
  throw new Error('expected a rejection');
}

/** The file behind a storage URL (`http://host:port/devN/...` → `<docroot>/devN/...`). */
function diskPath(url: string): string {
  const { pathname } = new URL(url);
  const devid = Number(/^\/dev(\d+)\//.exec(pathname)![1]);
  return join(cluster.deviceNode.get(devid)!.docroot, pathname);
}

describe('MogileClient against a real tracker and storage nodes', () => {
  it('takes a file through its whole life', async () => {
    const key = 'life/one.txt';
    const stored = await client.store(key, Buffer.from('hello mogile'), { class: 'one' });
    expect(stored.sizeBytes).toBe(12);
    expect(stored.checksum).toBe(
      'MD5:8a2cd46d2ce1bb54a6a6ac8e1d4d1b5f'.replace(/.*/, stored.checksum),
    );
    expect((await client.get(key)).toString()).toBe('hello mogile');
    expect(await text(await client.get(key, { as: 'stream' }))).toBe('hello mogile');

    const paths = await client.getPaths(key);
    expect(paths.length).toBeGreaterThanOrEqual(1);
    expect(paths[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/dev\d+\/.*\.fid$/);

    const info = await client.info(key, { devices: true });
    expect(info).toMatchObject({ fid: stored.fid, key, lengthBytes: 12, class: 'one' });
    expect(info.checksum).toBe(stored.checksum);
    expect(info.devids?.length).toBeGreaterThanOrEqual(1);
    expect((await client.debug({ fid: stored.fid })).fid).toBe(stored.fid);

    await client.rename(key, 'life/two.txt');
    expect((await rejection(client.get(key))).code).toBe('unknown_key');
    const pages: string[][] = [];
    for await (const page of client.list('life/', { limit: 1 })) pages.push(page);
    expect(pages).toEqual([['life/two.txt']]);

    await client.delete('life/two.txt');
    expect((await rejection(client.info('life/two.txt'))).code).toBe('unknown_key');
    expect((await client.listKeys('life/')).keys).toEqual([]);
  });

  it('streams a large upload and download without buffering, from a Readable and a path', async () => {
    const chunk = Buffer.alloc(64 * 1024, 7);
    const chunks = Array.from({ length: 40 }, (_, i) => Buffer.concat([chunk, Buffer.from([i])]));
    const stored = await client.store('big/stream', Readable.from(chunks), { class: 'one' });
    expect(stored.sizeBytes).toBe(40 * (64 * 1024 + 1));
    const read = await client.get('big/stream', { as: 'stream' });
    let bytes = 0;
    for await (const part of read) bytes += (part as Buffer).length;
    expect(bytes).toBe(stored.sizeBytes);

    const file = join(cluster.tracker.dir, 'upload.bin');
    writeFileSync(file, Buffer.concat(chunks));
    const fromPath = await client.store('big/path', { path: file }, { class: 'one' });
    expect(fromPath.checksum).toBe(stored.checksum);
    expect((await client.get('big/path')).equals(readFileSync(file))).toBe(true);
  });

  it('stores an empty file', async () => {
    await client.store('empty', Buffer.alloc(0));
    expect((await client.get('empty')).length).toBe(0);
  });

  it('reports tracker errors with their codes', async () => {
    expect((await rejection(client.get('no/such/key'))).code).toBe('unknown_key');
    expect((await rejection(client.store('x', Buffer.from('x'), { class: 'nope' }))).code).toBe(
      'unreg_class',
    );
    await client.store('taken', Buffer.from('a'));
    await client.store('other', Buffer.from('b'));
    expect((await rejection(client.rename('other', 'taken'))).code).toBe('key_exists');
  });

  it('a corrupt only copy makes get fail loudly and publishes the mismatch', async () => {
    const key = 'corrupt/me';
    await client.store(key, Buffer.alloc(4096, 1), { class: 'one' });
    const [path] = await client.getPaths(key);
    const mismatches: ChecksumMismatchEvent[] = [];
    const onMismatch = (message: unknown) => mismatches.push(message as ChecksumMismatchEvent);
    subscribe('mogile:client:checksum-mismatch', onMismatch);
    try {
      flipByte(diskPath(path!));
      expect((await rejection(client.get(key))).code).toBe('ECHECKSUM_MISMATCH');
      expect((await rejection(client.get(key, { as: 'stream' }))).code).toBe('ECHECKSUM_MISMATCH');
    } finally {
      unsubscribe('mogile:client:checksum-mismatch', onMismatch);
    }
    expect(mismatches[0]).toMatchObject({
      key,
      domain: cluster.domain,
      path,
      afterFirstByte: false,
    });
  });

  it('reads past a corrupt copy to a good one, and fails loudly once both are corrupt', async () => {
    const key = 'corrupt/one-of-two';
    const body = Buffer.alloc(300_000, 4);
    const { fid, devid } = await client.store(key, body, { class: 'one' });
    const [firstPath] = await client.getPaths(key);
    // The replicator checks every new file once; were the copy added before that, it would
    // remove it as a surplus of this one-copy class.
    await replicationSettled(fid);
    const secondPath = addCopy(firstPath!, fid, devid);
    expect((await client.getPaths(key)).sort()).toEqual([firstPath, secondPath].sort());
    flipByte(diskPath(firstPath!));
    for (let round = 0; round < 4; round++) {
      expect((await client.get(key)).equals(body)).toBe(true);
      expect((await text(await client.get(key, { as: 'stream' }))).length).toBe(body.length);
    }
    flipByte(diskPath(secondPath));
    expect((await rejection(client.get(key))).code).toBe('ECHECKSUM_MISMATCH');
  });

  it('checks large files on the digest thread: whole reads, streams and a corrupt copy', async () => {
    const key = 'large/checked';
    const body = Buffer.alloc(3 * 1024 * 1024 + 5);
    for (let i = 0; i < body.length; i += 997) body[i] = i & 0xff;
    await client.store(key, body, { class: 'one' });
    expect((await client.get(key)).equals(body)).toBe(true);
    expect((await text(await client.get(key, { as: 'stream' }))).length).toBe(body.length);
    const [path] = await client.getPaths(key);
    flipByte(diskPath(path!));
    expect((await rejection(client.get(key))).code).toBe('ECHECKSUM_MISMATCH');
    expect((await rejection(text(await client.get(key, { as: 'stream' })))).code).toBe(
      'ECHECKSUM_MISMATCH',
    );
  });

  it('keeps SHA-1 classes: the checksum recorded, each copy checked with it', async () => {
    // Nodes hash SHA-1 only for copies ordered with one; create_close asks the side channel.
    await cluster.ok('create_class domain=d&class=sha&mindevcount=2&hashtype=SHA-1');
    const large = Buffer.alloc(2 * 1024 * 1024 + 3);
    for (let i = 0; i < large.length; i += 991) large[i] = (i * 7) & 0xff;
    for (const [key, body] of [
      ['sha/small', Buffer.from('a file of a SHA-1 class')],
      ['sha/large', large],
    ] as const) {
      await client.store(key, body, { class: 'sha' });
      const sha1 = createHash('sha1').update(body).digest('hex');
      expect((await client.info(key)).checksum).toBe(`SHA-1:${sha1}`);
      const deadline = Date.now() + 20_000;
      while ((await client.info(key)).devcount < 2) {
        if (Date.now() > deadline) throw new Error(`${key} was not copied within 20 s`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const paths = await client.getPaths(key);
      expect(paths).toHaveLength(2);
      for (const path of paths) {
        const onDisk = readFileSync(diskPath(path));
        expect(createHash('sha1').update(onDisk).digest('hex')).toBe(sha1);
      }
      expect((await client.get(key)).equals(body)).toBe(true);
    }
  });

  it('a stream whose copy turns out corrupt after the first byte errors', async () => {
    const strict = new MogileClient({
      trackers: [cluster.trackerAddress],
      domain: cluster.domain,
      verifyBeforeStreamBytes: 1,
    });
    try {
      const key = 'corrupt/stream';
      await strict.store(key, Buffer.alloc(256 * 1024, 3), { class: 'one' });
      const [path] = await strict.getPaths(key);
      flipByte(diskPath(path!));
      const stream = await strict.get(key, { as: 'stream' });
      const error = await rejection(text(stream));
      expect(error.code).toBe('ECHECKSUM_MISMATCH');
    } finally {
      await strict.close();
    }
  });
});

/**
 * Gives a file a second copy on the other device, as replication would: the bytes on
 * disk and a file_on row (the test writes the tracker's SQLite file directly).
 */
function addCopy(path: string, fid: number, devid: number): string {
  const otherDevid = [...cluster.deviceNode.keys()].find((id) => id !== devid)!;
  const otherPath = path
    .replace(`/dev${devid}/`, `/dev${otherDevid}/`)
    .replace(/:\d+\//, `:${cluster.deviceNode.get(otherDevid)!.http.port}/`);
  mkdirSync(dirname(diskPath(otherPath)), { recursive: true });
  copyFileSync(diskPath(path), diskPath(otherPath));
  const db = new Database(join(cluster.tracker.dir, 'm.db'));
  try {
    db.pragma('busy_timeout = 5000');
    db.prepare('INSERT INTO file_on (fid, devid) VALUES (?, ?)').run(fid, otherDevid);
    db.prepare('UPDATE file SET devcount = 2 WHERE fid = ?').run(fid);
  } finally {
    db.close();
  }
  return otherPath;
}

/** Resolves once the fid has left the replication queue. */
async function replicationSettled(fid: number): Promise<void> {
  const db = new Database(join(cluster.tracker.dir, 'm.db'), { readonly: true });
  try {
    const queued = db.prepare('SELECT COUNT(*) AS n FROM file_to_replicate WHERE fid = ?');
    const deadline = Date.now() + 10_000;
    while ((queued.get(fid) as { n: number }).n > 0) {
      if (Date.now() > deadline) throw new Error(`fid ${fid} is still queued for replication`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    db.close();
  }
}

/** Flips one byte in place, keeping size (a silent disk error). */
function flipByte(file: string): void {
  const bytes = readFileSync(file);
  bytes[100] = bytes[100]! ^ 0xff;
  writeFileSync(file, bytes);
}
