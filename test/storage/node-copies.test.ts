import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fidPath } from '../../src/protocol/fid-path.js';
import { signatureQuery } from '../../src/protocol/storage-signature.js';
import { waitUntil } from '../helpers/wait-for.js';
import { makeDocroot, type NodeProcess, removeDocroot, startNode } from './node-harness.js';

// docs/storage-node.md, "Copies between nodes": a POST with X-Mogile-Copy-From makes the
// node fetch a fid's copy from another node, and keep it only when it is what was named.
let source: NodeProcess;
let destination: NodeProcess;
let signed: NodeProcess;
let broken: Server;
const SECRET = 'copy-test-secret-0123456789';

beforeAll(async () => {
  [source, destination, signed] = await Promise.all([
    startNode(makeDocroot([1])),
    startNode(makeDocroot([2])),
    startNode(makeDocroot([2]), ['--secret', SECRET]),
  ]);
  // A source that promises 4 KiB and hangs up after 1 KiB.
  broken = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Length': 4096 });
    res.write(Buffer.alloc(1024, 'x'));
    setImmediate(() => res.destroy());
  });
  await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  broken?.close();
  for (const node of [source, destination, signed]) {
    await node?.stop();
    if (node) removeDocroot(node.docroot);
  }
});

const md5 = (body: Buffer) => createHash('md5').update(body).digest('hex');
const sha1 = (body: Buffer) => createHash('sha1').update(body).digest('hex');
const url = (node: NodeProcess, devid: number, fid: number) =>
  `http://127.0.0.1:${node.http.port}${fidPath(devid, fid)}`;

async function stored(fid: number, body: Buffer): Promise<void> {
  const put = await request(url(source, 1, fid), { method: 'PUT', body });
  await put.body.dump();
  expect(put.statusCode).toBe(200);
}

async function pull(target: string, headers: Record<string, string>) {
  const response = await request(target, {
    method: 'POST',
    headers: { 'content-length': '0', ...headers },
  });
  return {
    status: response.statusCode,
    outcome: response.headers['x-mogile-copy'],
    headers: response.headers,
    text: await response.body.text(),
  };
}

function onDestination(fid: number): boolean {
  return existsSync(join(destination.docroot, fidPath(2, fid)));
}

/** The headers asking for `fid`'s copy of `length` bytes on the source's dev1. */
function order(fid: number, length: number, digest: { md5?: string; sha1?: string } = {}) {
  return {
    'x-mogile-copy-from': url(source, 1, fid),
    'x-mogile-copy-length': String(length),
    ...(digest.md5 !== undefined && { 'x-mogile-copy-md5': digest.md5 }),
    ...(digest.sha1 !== undefined && { 'x-mogile-copy-sha1': digest.sha1 }),
  };
}

/** Temp files left on the destination's device (there must never be any). */
function leftovers(): string[] {
  const temp = join(destination.docroot, 'dev2', '.mogile-tmp');
  return existsSync(temp) ? readdirSync(temp) : [];
}

describe('copies between nodes', () => {
  it('fetches the copy, checks it, stores it and answers with its digests', async () => {
    const body = Buffer.alloc(3 * 1024 * 1024 + 17, 'copied bytes ');
    await stored(101, body);
    const reply = await pull(url(destination, 2, 101), order(101, body.length, { md5: md5(body) }));
    expect(reply).toMatchObject({ status: 201, outcome: 'stored' });
    expect(reply.headers['x-mogile-md5']).toBe(md5(body));
    // A SHA-1 is computed only for copies ordered with one.
    expect(reply.headers['x-mogile-sha1']).toBeUndefined();
    expect(readFileSync(join(destination.docroot, fidPath(2, 101))).equals(body)).toBe(true);
    // The stored digest is served with the file, as after a PUT.
    const head = await request(url(destination, 2, 101), { method: 'HEAD' });
    await head.body.dump();
    expect(head.headers['x-mogile-md5']).toBe(md5(body));
  });

  it('checks a SHA-1 when that is the digest named', async () => {
    const body = Buffer.from('sha-1 class file');
    await stored(102, body);
    const good = await pull(
      url(destination, 2, 102),
      order(102, body.length, { sha1: sha1(body) }),
    );
    expect(good).toMatchObject({ status: 201, outcome: 'stored' });
    expect(good.headers['x-mogile-sha1']).toBe(sha1(body));
    const head = await request(url(destination, 2, 102), { method: 'HEAD' });
    await head.body.dump();
    expect(head.headers['x-mogile-sha1']).toBe(sha1(body));
    await stored(103, body);
    const bad = await pull(
      url(destination, 2, 103),
      order(103, body.length, { sha1: sha1(Buffer.from('something else')) }),
    );
    expect(bad).toMatchObject({ status: 502, outcome: 'source-mismatch' });
    expect(onDestination(103)).toBe(false);
  });

  it('keeps nothing when the bytes are not the named digest', async () => {
    const body = Buffer.from('rotten on the source');
    await stored(104, body);
    const reply = await pull(
      url(destination, 2, 104),
      order(104, body.length, { md5: md5(Buffer.from('what the tracker recorded')) }),
    );
    expect(reply).toMatchObject({ status: 502, outcome: 'source-mismatch' });
    expect(reply.text).toContain('MD5 mismatch');
    expect(onDestination(104)).toBe(false);
    expect(leftovers()).toEqual([]);
  });

  it('reports a source without the file, or with another length', async () => {
    const missing = await pull(url(destination, 2, 105), order(105, 10));
    expect(missing).toMatchObject({ status: 502, outcome: 'source-refused' });
    expect(missing.headers['x-mogile-source-status']).toBe('404');
    await stored(106, Buffer.from('eleven byte'));
    const longer = await pull(url(destination, 2, 106), order(106, 10));
    expect(longer).toMatchObject({ status: 502, outcome: 'source-refused' });
    expect(longer.headers['x-mogile-source-length']).toBe('11');
    expect(onDestination(105) || onDestination(106)).toBe(false);
  });

  it('reports a source it cannot reach, and one that breaks off, leaving nothing', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const unreachable = await pull(url(destination, 2, 107), {
      'x-mogile-copy-from': `http://127.0.0.1:${port}${fidPath(1, 107)}`,
      'x-mogile-copy-length': '10',
    });
    expect(unreachable).toMatchObject({ status: 502, outcome: 'source-unreachable' });
    const brokenPort = (broken.address() as AddressInfo).port;
    const cut = await pull(url(destination, 2, 108), {
      'x-mogile-copy-from': `http://127.0.0.1:${brokenPort}${fidPath(1, 108)}`,
      'x-mogile-copy-length': '4096',
    });
    expect(cut).toMatchObject({ status: 502, outcome: 'source-broke' });
    expect(onDestination(108)).toBe(false);
    expect(leftovers()).toEqual([]);
  });

  it('stops and leaves nothing when the tracker hangs up mid-copy', async () => {
    // A source that trickles a 1 MiB body for as long as it is read.
    const trickle = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Length': 1024 * 1024 });
      const timer = setInterval(() => res.write(Buffer.alloc(1024, 't')), 10);
      res.once('close', () => clearInterval(timer));
    });
    await new Promise<void>((resolve) => trickle.listen(0, '127.0.0.1', resolve));
    const port = (trickle.address() as AddressInfo).port;
    const hangUp = new AbortController();
    const pending = request(url(destination, 2, 112), {
      method: 'POST',
      headers: {
        'content-length': '0',
        'x-mogile-copy-from': `http://127.0.0.1:${port}${fidPath(1, 112)}`,
        'x-mogile-copy-length': String(1024 * 1024),
      },
      signal: hangUp.signal,
    }).catch((error: unknown) => error);
    try {
      await waitUntil('a temp file on the destination', () => leftovers().length > 0, 10_000, 10);
      hangUp.abort();
      expect(await pending).toBeInstanceOf(Error);
      await waitUntil('no temp file left', () => leftovers().length === 0, 10_000, 10);
      expect(onDestination(112)).toBe(false);
    } finally {
      trickle.closeAllConnections();
      trickle.close();
    }
  });

  it('refuses to fetch anything but the same fid over plain http', async () => {
    const refusals: Record<string, string>[] = [
      {}, // no source at all
      { 'x-mogile-copy-from': url(source, 1, 109) }, // no length
      { 'x-mogile-copy-from': url(source, 1, 110), 'x-mogile-copy-length': '1' }, // other fid
      { 'x-mogile-copy-from': `http://127.0.0.1:${source.http.port}/etc/passwd` },
      { 'x-mogile-copy-from': `file://${fidPath(1, 109)}`, 'x-mogile-copy-length': '1' },
      { 'x-mogile-copy-from': url(source, 1, 109), 'x-mogile-copy-length': 'ten' },
      order(109, 1, { md5: 'not hex' }),
    ];
    for (const headers of refusals) {
      const reply = await pull(url(destination, 2, 109), {
        'x-mogile-copy-from': '',
        ...headers,
      });
      expect(reply, JSON.stringify(headers)).toMatchObject({ status: 400, outcome: 'refused' });
    }
    const notFid = await pull(
      `http://127.0.0.1:${destination.http.port}/dev2/notes.txt`,
      order(109, 1),
    );
    expect(notFid).toMatchObject({ status: 400, outcome: 'refused' });
    const noDevice = await pull(url(destination, 9, 109), order(109, 1));
    expect(noDevice).toMatchObject({ status: 404, outcome: 'failed' });
  });

  it('needs a write signature on a node with a secret', async () => {
    const body = Buffer.from('signed copy');
    await stored(111, body);
    const copy = order(111, body.length, { md5: md5(body) });
    const target = url(signed, 2, 111);
    const unsigned = await pull(target, copy);
    expect(unsigned.status).toBe(403);
    expect(unsigned.outcome).toBeUndefined();
    const expires = Math.floor(Date.now() / 1000) + 60;
    const read = await pull(
      `${target}?${signatureQuery(SECRET, fidPath(2, 111), 'r', expires)}`,
      copy,
    );
    expect(read.status).toBe(403);
    const write = await pull(
      `${target}?${signatureQuery(SECRET, fidPath(2, 111), 'w', expires)}`,
      copy,
    );
    expect(write).toMatchObject({ status: 201, outcome: 'stored' });
    expect(readFileSync(join(signed.docroot, fidPath(2, 111))).equals(body)).toBe(true);
  });
});
