import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fidPath } from '../../src/protocol/fid-path.js';
import { createTrackerServices, type TrackerServicesHandle } from '../../src/tracker/services.js';
import { DeleteWorker } from '../../src/workers/delete-worker.js';
import { FidLocks } from '../../src/workers/fid-locks.js';
import { FsckChecker } from '../../src/workers/fsck-checker.js';
import { NodeCopier } from '../../src/workers/node-copy.js';
import { Reaper } from '../../src/workers/reaper.js';
import { Replicator } from '../../src/workers/replicator.js';
import { END_OF_TIME } from '../../src/workers/retry-delays.js';
import { TempfileSweeper } from '../../src/workers/tempfile-sweeper.js';
import { memoryLogger } from '../helpers/memory-logger.js';
import {
  makeDocroot,
  type NodeProcess,
  removeDocroot,
  startNode,
} from '../storage/node-harness.js';

// Workers driven step by step through runOnce(), against a real SQLite store and two real
// storage nodes (s1: dev1, dev2; s2: dev3), with the automatic runner switched off.
let dir: string;
let services: TrackerServicesHandle;
const nodes: NodeProcess[] = [];
let copier: NodeCopier;
let dmid: number;
let nextKey = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mogile-workers-'));
  nodes.push(await startNode(makeDocroot([1, 2])), await startNode(makeDocroot([3])));
  services = await createTrackerServices({
    dbUrl: `sqlite:${join(dir, 'm.db')}`,
    jobMaster: false,
  });
  const { meta } = services;
  dmid = (await meta.createDomain('d')).dmid;
  for (const [n, node] of nodes.entries()) {
    const host = await meta.createHost(`s${n + 1}`, '127.0.0.1', {
      status: 'alive',
      httpPort: node.http.port,
    });
    for (const devid of n === 0 ? [1, 2] : [3]) {
      await meta.createDevice({ devid, hostid: host.hostid, status: 'alive', weight: 100 });
    }
  }
  await services.cluster.refresh();
  await services.monitor.runRound();
  await services.cluster.refresh();
  copier = new NodeCopier({
    nodes: services.nodes,
    mogstoredStreamPort: 0,
    headersTimeoutMs: 5000,
  });
}, 30_000);

afterAll(async () => {
  await copier?.close();
  await services?.close();
  for (const node of nodes) {
    await node.stop();
    removeDocroot(node.docroot);
  }
  rmSync(dir, { recursive: true, force: true });
});

const md5 = (text: string) => new Uint8Array(createHash('md5').update(text).digest());

function nodeOf(devid: number): NodeProcess {
  return devid === 3 ? nodes[1]! : nodes[0]!;
}

async function putCopy(devid: number, fid: number, body: string): Promise<void> {
  const url = `http://127.0.0.1:${nodeOf(devid).http.port}${fidPath(devid, fid)}`;
  const response = await request(url, { method: 'PUT', body });
  await response.body.dump();
  expect(response.statusCode).toBe(200);
}

function onDisk(devid: number, fid: number): boolean {
  return existsSync(join(nodeOf(devid).docroot, fidPath(devid, fid)));
}

/** A committed file with one copy on `devid`; `checksumOf` sets its stored MD5. */
async function storedFile(devid: number, body: string, checksumOf = body): Promise<number> {
  const now = services.nowSeconds();
  const key = `k${nextKey++}`;
  const fid = await services.meta.reserveTempfile({
    dmid,
    classid: 0,
    key,
    devids: [devid],
    createdSeconds: now,
  });
  await putCopy(devid, fid, body);
  await services.meta.claimTempfile(fid);
  await services.meta.commitFile({
    fid,
    dmid,
    key,
    classid: 0,
    lengthBytes: Buffer.byteLength(body),
    devid,
    checksum: { hashtype: 1, digest: md5(checksumOf) },
    nowSeconds: now,
  });
  return fid;
}

/** The services, with `meanwhile` run just before a worker records a copy it made. */
function changedDuringCopies(meanwhile: (fid: number) => Promise<void>): typeof services {
  const meta = services.meta;
  const interfering = new Proxy(meta, {
    get(target, name) {
      if (name === 'addFileCopy') {
        return async (...args: Parameters<typeof meta.addFileCopy>) => {
          await meanwhile(args[0]);
          return target.addFileCopy(...args);
        };
      }
      const value = Reflect.get(target, name, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { ...services, meta: interfering };
}

describe('replicator', () => {
  it('copies to another host and records the copy only after it verified', async () => {
    const replicator = new Replicator({ services, fidLocks: new FidLocks() });
    const fid = await storedFile(1, 'replicate me');
    const stats = await replicator.runOnce();
    expect(stats).toMatchObject({ claimed: 1, done: 1, copiesMade: 1, copiesRelayed: 0 });
    expect(await services.meta.fileDevids(fid)).toEqual([1, 3]);
    expect(onDisk(3, fid)).toBe(true);
    expect((await services.meta.findFileByFid(fid))?.devcount).toBe(2);
    await replicator.close();
  });

  it('refuses a source whose bytes do not match the checksum, and says why', async () => {
    const replicator = new Replicator({ services, fidLocks: new FidLocks() });
    const fid = await storedFile(1, 'rotten bytes', 'the bytes we were promised');
    const stats = await replicator.runOnce();
    expect(stats).toMatchObject({ claimed: 1, deferred: 1, copiesMade: 0 });
    expect(await services.meta.fileDevids(fid)).toEqual([1]);
    expect(replicator.lastError(fid)).toMatch(/checksum mismatch/);
    const queued = (await services.meta.fidQueues(fid)).replicate!;
    expect(queued.failcount).toBe(1);
    expect(queued.nexttry).toBeGreaterThan(services.nowSeconds() + 5);
    await replicator.close();
  });

  it('records a copy of a key renamed during the copy: the bytes are the same', async () => {
    const fid = await storedFile(1, 'renamed while copied');
    const { key } = (await services.meta.findFileByFid(fid))!;
    const renaming = changedDuringCopies(async () => {
      await services.meta.renameFile(dmid, key, `${key}-renamed`);
    });
    const replicator = new Replicator({ services: renaming, fidLocks: new FidLocks() });
    expect(await replicator.runOnce()).toMatchObject({ claimed: 1, done: 1, copiesMade: 1 });
    expect(await services.meta.fileDevids(fid)).toEqual([1, 3]);
    expect(await services.meta.findFileByFid(fid)).toMatchObject({
      key: `${key}-renamed`,
      devcount: 2,
    });
    await replicator.close();
  });

  it('records a copy of a file deleted during the copy, so that it is removed too', async () => {
    const fid = await storedFile(1, 'deleted while copied');
    const deleting = changedDuringCopies((deleted) =>
      services.meta.deleteFile(deleted, services.nowSeconds()),
    );
    const replicator = new Replicator({ services: deleting, fidLocks: new FidLocks() });
    expect(await replicator.runOnce()).toMatchObject({ claimed: 1, done: 1, copiesMade: 0 });
    await replicator.close();
    expect(onDisk(3, fid)).toBe(true);
    expect((await services.meta.fileDevids(fid)).sort()).toEqual([1, 3]);
    const worker = new DeleteWorker({ services, fidLocks: new FidLocks(), copier });
    expect(await worker.runOnce()).toMatchObject({ done: 1, copiesDeleted: 2 });
    expect(onDisk(1, fid) || onDisk(3, fid)).toBe(false);
  });

  it('parks a fid without any copy until someone intervenes, its devcount 0', async () => {
    const replicator = new Replicator({ services, fidLocks: new FidLocks() });
    const fid = await storedFile(1, 'about to vanish');
    await services.meta.dropCopyRow(fid, 1);
    expect((await services.meta.findFileByFid(fid))?.devcount).toBe(1);
    await replicator.runOnce();
    expect((await services.meta.fidQueues(fid)).replicate?.nexttry).toBe(END_OF_TIME);
    expect(replicator.lastError(fid)).toMatch(/no_source/);
    expect((await services.meta.findFileByFid(fid))?.devcount).toBe(0);
    await replicator.close();
  });
});

async function view(devid: number) {
  const snapshot = await services.cluster.current();
  const device = snapshot.device(devid)!;
  return { device, host: snapshot.host(device.hostid)! };
}

/** The destination node's request counts by method (GET /_stats). */
async function requestsOf(node: NodeProcess): Promise<Record<string, number>> {
  const response = await request(`http://127.0.0.1:${node.http.port}/_stats`);
  return ((await response.body.json()) as { requestsByMethod: Record<string, number> })
    .requestsByMethod;
}

describe('node copier', () => {
  it('has the destination node pull the copy, without relaying it', async () => {
    const body = 'pulled by the destination';
    const fid = await storedFile(1, body);
    const before = await requestsOf(nodes[1]!);
    const result = await copier.copy({
      fid,
      lengthBytes: body.length,
      source: await view(1),
      destination: await view(3),
      stored: { hashtype: 1, digest: md5(body) },
    });
    expect(result).toEqual({ ok: true, digest: { hashtype: 1, digest: md5(body) } });
    const after = await requestsOf(nodes[1]!);
    expect((after['POST'] ?? 0) - (before['POST'] ?? 0)).toBe(1);
    expect((after['PUT'] ?? 0) - (before['PUT'] ?? 0)).toBe(0);
    expect(onDisk(3, fid)).toBe(true);
  });

  it('reads the source from http_port unless repl_use_get_port says http_get_port', async () => {
    // A get port where nothing listens: a copy that reads from it cannot succeed.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const real = await view(1);
    const source = { device: real.device, host: { ...real.host, httpGetPort: closedPort } };
    const fromGetPort = new NodeCopier({
      nodes: services.nodes,
      mogstoredStreamPort: 0,
      headersTimeoutMs: 5000,
      sourceFromGetPort: true,
    });
    const copyWith = async (which: NodeCopier, body: string) =>
      which.copy({
        fid: await storedFile(1, body),
        lengthBytes: body.length,
        source,
        destination: await view(3),
        stored: { hashtype: 1, digest: md5(body) },
      });
    try {
      expect(await copyWith(copier, 'from the main port')).toMatchObject({ ok: true });
      expect(await copyWith(fromGetPort, 'from the get port')).toMatchObject({
        ok: false,
        side: 'source',
      });
    } finally {
      await fromGetPort.close();
    }
  });

  it('relays to a node that cannot pull, and remembers it for ten minutes', async () => {
    // A node like mogstored: POST answers 400, PUT stores the body.
    const seen: string[] = [];
    const fake: Server = createServer((req, res) => {
      seen.push(req.method!);
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (req.method !== 'PUT') {
          res.writeHead(400, { 'Content-Length': 0 }).end();
          return;
        }
        const digest = createHash('md5').update(Buffer.concat(chunks)).digest('hex');
        res.writeHead(200, { 'Content-Length': 0, 'X-Mogile-MD5': digest }).end();
      });
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    let now = Date.now();
    const { logger, records } = memoryLogger();
    const relaying = new NodeCopier({
      nodes: services.nodes,
      mogstoredStreamPort: 0,
      headersTimeoutMs: 5000,
      now: () => now,
      logger,
    });
    const real = await view(3);
    const destination = {
      device: real.device,
      host: { ...real.host, hostid: 99, httpPort: (fake.address() as AddressInfo).port },
    };
    const copyTo = async (body: string) =>
      relaying.copy({
        fid: await storedFile(1, body),
        lengthBytes: body.length,
        source: await view(1),
        destination,
        stored: { hashtype: 1, digest: md5(body) },
      });
    try {
      expect(await copyTo('first')).toMatchObject({ ok: true, relayed: true });
      expect(seen).toEqual(['POST', 'PUT']);
      expect(records.map((record) => record.msg)).toEqual([
        'node does not pull copies: relaying its copies through the tracker',
      ]);
      expect((await copyTo('second')).ok).toBe(true);
      expect(seen).toEqual(['POST', 'PUT', 'PUT']);
      now += 11 * 60 * 1000;
      expect((await copyTo('third')).ok).toBe(true);
      expect(seen).toEqual(['POST', 'PUT', 'PUT', 'POST', 'PUT']);
    } finally {
      await relaying.close();
      fake.close();
    }
  });

  it('asks the node of a relayed copy for the SHA-1 of a SHA-1 class', async () => {
    // A node that cannot pull, answers the PUT without digests, and tells the SHA-1 on a
    // HEAD only when asked with Want-Digest (as our nodes, which hash uploads with MD5).
    let storedBody = Buffer.alloc(0);
    const asked: unknown[] = [];
    const fake: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (req.method === 'PUT') {
          storedBody = Buffer.concat(chunks);
          res.writeHead(200, { 'Content-Length': 0 }).end();
        } else if (req.method === 'HEAD') {
          asked.push(req.headers['want-digest']);
          const sha1 = createHash('sha1').update(storedBody).digest('hex');
          res
            .writeHead(200, {
              'Content-Length': storedBody.length,
              ...(req.headers['want-digest'] === 'SHA' && { 'X-Mogile-SHA1': sha1 }),
            })
            .end();
        } else {
          res.writeHead(400, { 'Content-Length': 0 }).end();
        }
      });
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    const relaying = new NodeCopier({
      nodes: services.nodes,
      mogstoredStreamPort: 0,
      headersTimeoutMs: 5000,
    });
    try {
      const real = await view(3);
      const body = 'a file of a SHA-1 class, relayed';
      const sha1 = new Uint8Array(createHash('sha1').update(body).digest());
      const result = await relaying.copy({
        fid: await storedFile(1, body),
        lengthBytes: body.length,
        source: await view(1),
        destination: {
          device: real.device,
          host: { ...real.host, hostid: 98, httpPort: (fake.address() as AddressInfo).port },
        },
        stored: { hashtype: 2, digest: sha1 },
      });
      expect(result).toMatchObject({ ok: true, relayed: true });
      expect(storedBody.toString()).toBe(body);
      expect(asked).toEqual(['SHA']);
    } finally {
      await relaying.close();
      fake.close();
    }
  });

  it('relays many 1 MiB files at once, past what it buffers, each byte for byte', async () => {
    // 12 concurrent copies of 1 MiB exceed the 8 MiB the copier holds in buffers, so some
    // are read whole and the rest relayed as streams; every one must arrive intact.
    const relaying = new NodeCopier({
      nodes: services.nodes,
      mogstoredStreamPort: 0,
      headersTimeoutMs: 5000,
      betweenNodes: false,
    });
    const before = await requestsOf(nodes[1]!);
    const bodies = Array.from({ length: 12 }, (_, i) =>
      Buffer.alloc(1024 * 1024, `file ${i} `).toString('latin1'),
    );
    const fids = await Promise.all(bodies.map((body) => storedFile(1, body)));
    const results = await Promise.all(
      fids.map(async (fid, i) =>
        relaying.copy({
          fid,
          lengthBytes: 1024 * 1024,
          source: await view(1),
          destination: await view(3),
          stored: { hashtype: 1, digest: md5(bodies[i]!) },
        }),
      ),
    );
    await relaying.close();
    expect(results.map((result) => result.ok)).toEqual(fids.map(() => true));
    const after = await requestsOf(nodes[1]!);
    expect((after['PUT'] ?? 0) - (before['PUT'] ?? 0)).toBe(12);
    expect(after['POST'] ?? 0).toBe(before['POST'] ?? 0);
    for (const [i, fid] of fids.entries()) {
      const url = `http://127.0.0.1:${nodeOf(3).http.port}${fidPath(3, fid)}`;
      const copied = await request(url);
      expect(Buffer.from(await copied.body.arrayBuffer()).toString('latin1')).toBe(bodies[i]);
    }
  });
});

describe('fsck', () => {
  it('leaves a copy its search found to the delete worker when the file was deleted meanwhile', async () => {
    const body = 'found by a search';
    const fid = await storedFile(1, body);
    await services.meta.finishQueueRow('file_to_replicate', fid);
    // The recorded copy is gone; the bytes sit unrecorded on dev3.
    rmSync(join(nodeOf(1).docroot, fidPath(1, fid)));
    await putCopy(3, fid, body);
    const now = services.nowSeconds();
    await services.meta.enqueueFsckBatch({
      afterFid: fid - 1,
      endFid: fid,
      limit: 1,
      targets: {},
      nowSeconds: now - 1,
    });
    const logged = await services.meta.maxFsckLogid();
    const deleting = changedDuringCopies((deleted) => services.meta.deleteFile(deleted, now));
    const checker = new FsckChecker({ services: deleting, fidLocks: new FidLocks() });
    expect(await checker.runOnce()).toMatchObject({ claimed: 1, handled: 1 });
    const events = (await services.meta.fsckLogAfter(logged, 100))
      .filter((event) => event.fid === fid)
      .map((event) => event.evcode);
    expect(events).toContain('SRCH');
    expect(events).not.toContain('FOND');
    expect(await services.meta.fileDevids(fid)).toContain(3);
    const worker = new DeleteWorker({ services, fidLocks: new FidLocks(), copier });
    await worker.runOnce();
    expect(onDisk(3, fid)).toBe(false);
  });
});

describe('delete worker and tempfile sweeper', () => {
  it('deletes live copies and drops rows of unknown and dead devices', async () => {
    const fid = await storedFile(1, 'doomed');
    await services.meta.finishQueueRow('file_to_replicate', fid);
    await putCopy(3, fid, 'doomed');
    await services.meta.addFileCopy(fid, 3);
    // dev99 was never registered: the original would re-claim this item forever (§7.1).
    await services.meta.addFileCopy(fid, 99);
    await services.meta.deleteFile(fid, services.nowSeconds());
    const worker = new DeleteWorker({ services, fidLocks: new FidLocks(), copier });
    const stats = await worker.runOnce();
    expect(stats).toMatchObject({ claimed: 1, done: 1, copiesDeleted: 2 });
    expect(onDisk(1, fid) || onDisk(3, fid)).toBe(false);
    expect(await services.meta.fidQueues(fid)).toEqual({ queued: [] });
    expect(await services.meta.fileDevids(fid)).toEqual([]);
    expect(await services.meta.getChecksum(fid)).toBeUndefined();
  });

  it('queues an upload abandoned for an hour for deletion, then deletes what arrived', async () => {
    const fid = await services.meta.reserveTempfile({
      dmid,
      classid: 0,
      key: 'abandoned',
      devids: [1, 3],
      createdSeconds: services.nowSeconds() - 7200,
    });
    await putCopy(1, fid, 'half an upload');
    expect(await new TempfileSweeper({ services }).runOnce()).toEqual({ swept: 1 });
    expect((await services.meta.fidQueues(fid)).tempfile).toBeUndefined();
    await new DeleteWorker({ services, fidLocks: new FidLocks(), copier }).runOnce();
    expect(onDisk(1, fid)).toBe(false);
    expect(await services.meta.fileDevids(fid)).toEqual([]);
  });
});

describe('reaper', () => {
  it('re-queues a dead device’s copies in bounded batches', async () => {
    const fids: number[] = [];
    for (let i = 0; i < 5; i++) {
      const fid = await storedFile(2, `on a dying disk ${i}`);
      await services.meta.finishQueueRow('file_to_replicate', fid);
      fids.push(fid);
    }
    await services.meta.updateDevice(2, { status: 'dead' });
    await services.cluster.refresh();
    const reaper = new Reaper({ services, batchSize: 2 });
    expect(await reaper.runOnce()).toEqual({ reaped: 2 });
    expect(await reaper.runOnce()).toEqual({ reaped: 2 });
    expect(await reaper.runOnce()).toEqual({ reaped: 1 });
    expect(await reaper.runOnce()).toEqual({ reaped: 0 });
    for (const fid of fids) {
      expect(await services.meta.fileDevids(fid)).toEqual([]);
      expect((await services.meta.fidQueues(fid)).replicate?.nexttry).toBeGreaterThan(0);
    }
    await services.meta.updateDevice(2, { status: 'alive' });
    await services.cluster.refresh();
  });
});
