import { createHash, randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { getAttributeSync } from '@napi-rs/xattr';
import { request as undiciRequest } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIGEST_XATTR } from '../../src/storage/digest-store.js';
import {
  http10,
  makeDocroot,
  type NodeProcess,
  rawRequest,
  removeDocroot,
  startNode,
} from './node-harness.js';

const md5 = (data: string | Buffer) => createHash('md5').update(data).digest('hex');

let docroot: string;
let node: NodeProcess;
let base: string;
let serial = 0;
/** A fresh fid path per test, so test order never matters. */
const freshPath = (dev = 1) =>
  `/dev${dev}/0/000/000/${String(100 + ++serial).padStart(10, '0')}.fid`;

beforeAll(async () => {
  docroot = makeDocroot([1, 2]);
  node = await startNode(docroot);
  base = `http://127.0.0.1:${node.http.port}`;
});
afterAll(async () => {
  await node.stop();
  removeDocroot(docroot);
});

async function put(path: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const response = await undiciRequest(`${base}${path}`, { method: 'PUT', body, headers });
  return {
    status: response.statusCode,
    headers: response.headers,
    text: await response.body.text(),
  };
}

async function get(path: string, headers: Record<string, string> = {}, method = 'GET') {
  const response = await undiciRequest(`${base}${path}`, { method: method as 'GET', headers });
  const body = Buffer.from(await response.body.arrayBuffer());
  return { status: response.statusCode, headers: response.headers, body };
}

describe('GET and HEAD', () => {
  it('serves HTTP/1.0 without Host, with Content-Length, after a Perl-style PUT', async () => {
    const path = freshPath();
    const stored = await rawRequest(node.http, http10('PUT', path, 'perl client body'));
    expect(stored.status).toBe(200);
    const fetched = await rawRequest(node.http, http10('GET', path));
    expect(fetched.status).toBe(200);
    expect(fetched.headers['content-length']).toBe('16');
    expect(fetched.headers['connection']).toBe('close');
    expect(fetched.body.toString()).toBe('perl client body');
  });

  it('accepts HTTP/1.1 without Host and absolute-URI targets', async () => {
    const path = freshPath();
    await put(path, 'absolute');
    const noHost = await rawRequest(node.http, `GET ${path} HTTP/1.1\r\nConnection: close\r\n\r\n`);
    expect(noHost.status).toBe(200);
    expect(noHost.body.toString()).toBe('absolute');
    const absolute = await rawRequest(
      node.http,
      `GET http://storage.example:7500${path} HTTP/1.0\r\n\r\n`,
    );
    expect(absolute.status).toBe(200);
    expect(absolute.body.toString()).toBe('absolute');
  });

  it('serves the usage file at /devN/usage and //devN/usage with real figures', async () => {
    for (const target of ['/dev1/usage', '//dev2/usage']) {
      const response = await rawRequest(node.http, http10('GET', target));
      expect(response.status).toBe(200);
      const text = response.body.toString();
      const keys = [...text.matchAll(/^(\w+): (.+)$/gm)].map((m) => m[1]);
      expect(keys).toEqual(['available', 'device', 'disk', 'time', 'total', 'use', 'used']);
      const field = (key: string) => Number(new RegExp(`^${key}: (\\d+)`, 'm').exec(text)![1]);
      expect(field('used')).toBeGreaterThanOrEqual(1);
      expect(field('total')).toBe(field('used') + field('available'));
      expect(text).toMatch(/^use: \d+%$/m);
      expect(text).toContain(`disk: ${docroot}/dev${target.endsWith('1/usage') ? 1 : 2}`);
    }
  });

  it('answers HEAD with the exact size, 0 for an empty file, and no body', async () => {
    const path = freshPath();
    await put(path, '');
    const head = await rawRequest(node.http, http10('HEAD', path));
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe('0');
    expect(head.body.length).toBe(0);
    const missing = await rawRequest(node.http, http10('HEAD', freshPath()));
    expect(missing.status).toBe(404);
    expect(missing.headers['content-length']).toBe('25');
  });

  it('returns the stored digests on PUT, HEAD and GET', async () => {
    const path = freshPath();
    const body = 'digest me';
    const stored = await put(path, body);
    expect(stored.headers['x-mogile-md5']).toBe(md5(body));
    // A PUT is hashed with MD5 only; the side channel answers SHA-1 from the file.
    expect(stored.headers['x-mogile-sha1']).toBeUndefined();
    const head = await get(path, {}, 'HEAD');
    expect(head.headers['x-mogile-md5']).toBe(md5(body));
    expect(head.headers['x-mogile-sha1']).toBeUndefined();
    const fetched = await get(path);
    expect(fetched.headers['x-mogile-md5']).toBe(md5(body));
  });

  it('computes a SHA-1 asked for with Want-Digest, once, and keeps it with the file', async () => {
    const path = freshPath();
    const body = randomBytes(2 * 1024 * 1024 + 11);
    await put(path, body);
    const sha1 = createHash('sha1').update(body).digest('hex');
    const refused = await get(path, { 'want-digest': 'MD5, SHA;q=0' }, 'HEAD');
    expect(refused.headers['x-mogile-sha1']).toBeUndefined();
    const asked = await get(path, { 'want-digest': 'md5;q=0.5, sha;q=1' }, 'HEAD');
    expect(asked.headers['x-mogile-sha1']).toBe(sha1);
    expect(asked.headers['x-mogile-md5']).toBe(md5(body));
    // Kept in the file's digest attribute: later requests get it without asking.
    for (const method of ['HEAD', 'GET']) {
      const later = await get(path, {}, method);
      expect(later.headers['x-mogile-sha1']).toBe(sha1);
    }
    expect(getAttributeSync(join(docroot, path), DIGEST_XATTR)?.toString()).toContain(` ${sha1} `);
  });

  it('hashes a body of unknown length with SHA-1 as well, without being asked', async () => {
    const path = freshPath();
    const body = randomBytes(1024 * 1024 + 7);
    const response = await undiciRequest(`${base}${path}`, {
      method: 'PUT',
      body: Readable.from([body.subarray(0, 1000), body.subarray(1000)]),
    });
    await response.body.dump();
    expect(response.headers['x-mogile-sha1']).toBe(createHash('sha1').update(body).digest('hex'));
  });

  it('honours ETag / If-None-Match and an exact If-Modified-Since with 304', async () => {
    const path = freshPath();
    await put(path, 'etag body');
    const first = await get(path);
    const etag = first.headers['etag'] as string;
    expect(etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+-[0-9a-f]+"$/);
    const cached = await get(path, { 'If-None-Match': etag });
    expect(cached.status).toBe(304);
    expect(cached.body.length).toBe(0);
    expect((await get(path, { 'If-None-Match': '"other"' })).status).toBe(200);
    const lastModified = first.headers['last-modified'] as string;
    expect((await get(path, { 'If-Modified-Since': lastModified })).status).toBe(304);
    // The reference compares for equality only (transcript http.get_http11_host).
    const future = { 'If-Modified-Since': 'Thu, 01 Jan 2037 00:00:00 GMT' };
    expect((await get(path, future)).status).toBe(200);
    await put(path, 'etag body changed');
    expect((await get(path, { 'If-None-Match': etag })).status).toBe(200);
  });

  it('serves single ranges, 416 for unsatisfiable ones, and ignores multi-range', async () => {
    const path = freshPath();
    const body = 'The quick brown fox jumps over the lazy dog\n';
    await put(path, body);
    const cases: Array<[string, number, string | undefined, string]> = [
      ['bytes=4-8', 206, 'bytes 4-8/44', 'quick'],
      ['bytes=40-', 206, 'bytes 40-43/44', 'dog\n'],
      ['bytes=-4', 206, 'bytes 40-43/44', 'dog\n'],
      ['bytes=40-1000', 206, 'bytes 40-43/44', 'dog\n'],
      ['bytes=0-0', 206, 'bytes 0-0/44', 'T'],
      ['bytes=0-1,4-5', 200, undefined, body],
      ['bytes=abc', 200, undefined, body],
      ['bytes=100-200', 416, 'bytes */44', ''],
      ['bytes=44-', 416, 'bytes */44', ''],
      ['bytes=8-4', 416, 'bytes */44', ''],
      ['bytes=-0', 416, 'bytes */44', ''],
    ];
    for (const [range, status, contentRange, expected] of cases) {
      const response = await get(path, { Range: range });
      expect(response.status, range).toBe(status);
      expect(response.headers['content-range'], range).toBe(contentRange);
      expect(response.headers['content-length'], range).toBe(String(Buffer.byteLength(expected)));
      expect(response.body.toString(), range).toBe(expected);
    }
    const head = await get(path, { Range: 'bytes=0-3' }, 'HEAD');
    expect(head.status).toBe(206);
    expect(head.headers['content-length']).toBe('4');
  });

  it('streams a large file and ranges inside it', async () => {
    const path = freshPath();
    const body = Buffer.alloc(3 * 1024 * 1024 + 7);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31) & 0xff;
    expect((await put(path, body)).status).toBe(200);
    const whole = await get(path);
    expect(whole.headers['content-length']).toBe(String(body.length));
    expect(whole.body.equals(body)).toBe(true);
    const part = await get(path, { Range: 'bytes=1000000-2500000' });
    expect(part.status).toBe(206);
    expect(part.body.equals(body.subarray(1000000, 2500001))).toBe(true);
  });

  it('digests large uploads right, at once and one after another', async () => {
    // Large bodies are hashed on a worker from reused hand-off buffers: sizes off the
    // 1 MiB hand-off, uploads side by side, then smaller ones into buffers used before.
    const bodies = [3 * 1024 * 1024 + 5, 4 * 1024 * 1024, 1024 * 1024 + 1, 2 * 1024 * 1024 - 3].map(
      (size) => randomBytes(size),
    );
    const check = async (body: Buffer) => {
      const path = freshPath();
      expect((await put(path, body)).status).toBe(200);
      const head = await get(path, {}, 'HEAD');
      expect(head.headers['x-mogile-md5']).toBe(createHash('md5').update(body).digest('hex'));
    };
    await Promise.all(bodies.slice(0, 3).map(check));
    for (const body of [...bodies].reverse()) await check(body);
  });

  it('answers a directory with "Directory listing disabled" and a missing file with 404', async () => {
    for (const target of ['/', '/dev1', '/dev1/0/000/000/']) {
      const response = await rawRequest(node.http, http10('GET', target));
      expect(response.status, target).toBe(200);
      expect(response.body.toString()).toBe('<h1>200 - OK</h1>\nDirectory listing disabled');
    }
    const missing = await rawRequest(node.http, http10('GET', '/dev1/9/999/999/9999999999.fid'));
    expect(missing.status).toBe(404);
    expect(missing.body.toString()).toBe('<h1>404 - Not Found</h1>\n');
  });

  it('keeps HTTP/1.1 connections alive across requests', async () => {
    const path = freshPath();
    await put(path, 'keep');
    const responses = await new Promise<string>((resolve, reject) => {
      const socket = connect(node.http.port, node.http.host, () => {
        socket.write(
          `GET ${path} HTTP/1.1\r\n\r\nGET ${path} HTTP/1.1\r\nConnection: close\r\n\r\n`,
        );
      });
      let text = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => {
        text += chunk;
      });
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(responses.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
  });
});

describe('PUT', () => {
  it('creates missing folders and answers 200, then overwrites', async () => {
    const path = '/dev2/3/456/789/3456789012.fid';
    expect((await put(path, 'first')).status).toBe(200);
    expect((await put(path, 'second, longer')).status).toBe(200);
    expect((await get(path)).body.toString()).toBe('second, longer');
  });

  it('stores a chunked body, also behind Expect: 100-continue', async () => {
    const path = freshPath();
    const chunked = await rawRequest(
      node.http,
      `PUT ${path} HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n`,
    );
    expect(chunked.status).toBe(200);
    expect((await get(path)).body.toString()).toBe('hello world');

    const continued = freshPath();
    const text = await new Promise<string>((resolve, reject) => {
      const socket = connect(node.http.port, node.http.host, () => {
        socket.write(
          `PUT ${continued} HTTP/1.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`,
        );
      });
      let received = '';
      let sentBody = false;
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => {
        received += chunk;
        if (!sentBody && received.includes('100 Continue')) {
          sentBody = true;
          socket.write('3\r\nabc\r\n0\r\n\r\n');
        }
      });
      socket.on('end', () => resolve(received));
      socket.on('error', reject);
    });
    expect(text).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK/);
    expect((await get(continued)).body.toString()).toBe('abc');
  });

  it('refuses a PUT without Content-Length that is not chunked (411), storing nothing', async () => {
    const path = freshPath();
    const response = await rawRequest(node.http, `PUT ${path} HTTP/1.0\r\n\r\nnolen\n`);
    expect(response.status).toBe(411);
    expect((await get(path)).status).toBe(404);
  });

  it('stores an empty file for an HTTP/1.1 PUT without Content-Length (no body by definition)', async () => {
    const path = freshPath();
    const created = await rawRequest(
      node.http,
      `PUT ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    );
    expect(created.status).toBe(200);
    const fetched = await get(path);
    expect(fetched.status).toBe(200);
    expect(fetched.body.length).toBe(0);
    expect((await put(path, 'abc', { 'Content-Range': 'bytes 0-2/*' })).status).toBe(200);
    expect((await get(path)).body.toString()).toBe('abc');
  });

  it('verifies Content-MD5: 201 when it matches, 400 and nothing stored when not', async () => {
    const path = freshPath();
    const good = createHash('md5').update('.').digest('base64');
    const ok = await rawRequest(node.http, http10('PUT', path, '.', `Content-MD5: ${good}\r\n`));
    expect(ok.status).toBe(201);
    const other = freshPath();
    const bad = await rawRequest(
      node.http,
      http10('PUT', other, '.', 'Content-MD5: AAAAAAAAAAAAAAAAAAAAAA==\r\n'),
    );
    expect(bad.status).toBe(400);
    expect(bad.body.toString()).toBe(
      '<h1>400 - Bad Request</h1>\nContent-MD5 mismatch, expected: AAAAAAAAAAAAAAAAAAAAAA actual: UFjxr4OIYz9gnK23WnXcnQ',
    );
    expect((await get(other)).status).toBe(404);
    // A rejected overwrite keeps the old content.
    await rawRequest(
      node.http,
      http10('PUT', path, 'x', 'Content-MD5: AAAAAAAAAAAAAAAAAAAAAA==\r\n'),
    );
    expect((await get(path)).body.toString()).toBe('.');
  });

  it('writes a Content-Range body at its offset without truncating, and drops the digest', async () => {
    const path = freshPath();
    expect((await put(path, '')).status).toBe(200);
    expect((await put(path, 'AAAAA', { 'Content-Range': 'bytes 0-4/*' })).status).toBe(200);
    expect((await put(path, 'BBBBB', { 'Content-Range': 'bytes 10-14/*' })).status).toBe(200);
    expect((await put(path, 'zz', { 'Content-Range': 'bytes 2-3/15' })).status).toBe(200);
    const fetched = await get(path);
    expect(fetched.body.toString('latin1')).toBe('AAzzA\0\0\0\0\0BBBBB');
    expect(fetched.headers['x-mogile-md5']).toBeUndefined();
    const mismatch = await put(path, 'abc', { 'Content-Range': 'bytes 0-9/*' });
    expect(mismatch.status).toBe(400);
    expect((await put(path, 'abc', { 'Content-Range': 'bytes 5-2/*' })).status).toBe(400);
  });

  it('writes test-write files the way the monitor checks them', async () => {
    const body = `time=${Math.floor(Date.now() / 1000)} rand=42`;
    const stored = await put('/dev1/test-write/test-write-42', body, {
      'Content-Type': 'application/octet-stream',
    });
    expect(stored.status).toBe(200);
    expect((await get('/dev1/test-write/test-write-42')).body.toString()).toBe(body);
  });

  it('refuses targets outside the /devN layout', async () => {
    const cases: Array<[string, number, string]> = [
      ['/dev99/0/000/000/0000000001.fid', 404, 'Base directory does not exist'],
      ['/dev1', 400, 'Does not meet minimum directory requirement'],
      ['/etc/passwd', 400, 'Does not meet minimum directory requirement'],
      ['/dev1/usage', 403, 'The usage file is written by the node'],
      ['/dev1/a b', 400, 'Invalid filename'],
    ];
    for (const [target, status, detail] of cases) {
      const response = await rawRequest(node.http, http10('PUT', target.replace(' ', '%20'), 'x'));
      expect(response.status, target).toBe(status);
      expect(response.body.toString(), target).toContain(detail);
    }
  });

  it('never interleaves two concurrent PUTs to one path: the last complete one wins', async () => {
    const path = freshPath();
    const size = 256 * 1024;
    const a = Buffer.alloc(size, 'a');
    const b = Buffer.alloc(size, 'b');
    const open = (): Promise<import('node:net').Socket> =>
      new Promise((resolve) => {
        const socket = connect(node.http.port, node.http.host, () => resolve(socket));
      });
    const finish = (socket: import('node:net').Socket) =>
      new Promise<string>((resolve) => {
        let text = '';
        socket.setEncoding('latin1');
        socket.on('data', (chunk: string) => {
          text += chunk;
        });
        socket.on('end', () => resolve(text));
      });
    const first = await open();
    const second = await open();
    const firstDone = finish(first);
    const secondDone = finish(second);
    const head = `PUT ${path} HTTP/1.0\r\nContent-Length: ${size}\r\n\r\n`;
    first.write(head);
    first.write(a.subarray(0, size / 2));
    second.write(head);
    second.write(b);
    expect(await secondDone).toMatch(/^HTTP\/1\.1 200/);
    expect((await get(path)).body.equals(b)).toBe(true);
    first.write(a.subarray(size / 2));
    expect(await firstDone).toMatch(/^HTTP\/1\.1 200/);
    expect((await get(path)).body.equals(a)).toBe(true);
  });
});

describe('DELETE, MKCOL and other methods', () => {
  it('deletes a file (204), then reports it missing (404); a folder is 400', async () => {
    const path = freshPath();
    await put(path, 'bye');
    const deleted = await rawRequest(node.http, http10('DELETE', path));
    expect(deleted.status).toBe(204);
    expect(deleted.body.length).toBe(0);
    expect((await rawRequest(node.http, http10('DELETE', path))).status).toBe(404);
    expect((await get(path)).status).toBe(404);
    const folder = await rawRequest(node.http, http10('DELETE', '/dev1/0/000/000'));
    expect(folder.status).toBe(400);
    const slash = await rawRequest(node.http, http10('DELETE', '/dev1/0/000/000/'));
    expect(slash.status).toBe(400);
    expect(slash.body.toString()).toContain('Invalid filename');
  });

  it('MKCOL creates folders (201), accepts existing ones (200), refuses a file in the way', async () => {
    const created = await rawRequest(
      node.http,
      `MKCOL /dev2/5/123/456/ HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
    );
    expect(created.status).toBe(201);
    const again = await rawRequest(node.http, http10('MKCOL', '/dev2/5/123/456/'));
    expect(again.status).toBe(200);
    const path = freshPath();
    await put(path, 'file');
    expect((await rawRequest(node.http, http10('MKCOL', `${path}/`))).status).toBe(409);
    expect((await rawRequest(node.http, http10('MKCOL', '/dev77/x/'))).status).toBe(404);
  });

  it('answers POST, OPTIONS and PROPFIND with 400, as Perlbal did', async () => {
    for (const method of ['POST', 'OPTIONS', 'PROPFIND']) {
      const response = await rawRequest(node.http, http10(method, '/dev1/usage'));
      expect(response.status, method).toBe(400);
      expect(response.headers['content-length'], method).toBe('27');
    }
  });

  it('MOVEs a file within its device to the Destination URL (edit_file)', async () => {
    const from = freshPath();
    const to = freshPath();
    await put(from, 'edit me');
    const move = (source: string, destination: string) =>
      rawRequest(node.http, http10('MOVE', source, undefined, `Destination: ${destination}\r\n`));
    expect((await move(from, `${base}${to}`)).status).toBe(201);
    expect((await get(from)).status).toBe(404);
    expect((await get(to)).body.toString()).toBe('edit me');
    await put(from, 'newer');
    expect((await move(from, to)).status).toBe(204);
    expect((await get(to)).body.toString()).toBe('newer');
    expect((await move(from, to)).status).toBe(404);
    expect((await move(to, freshPath(2))).status).toBe(400);
    expect((await move(to, '/dev1/../x')).status).toBe(400);
    expect((await rawRequest(node.http, http10('MOVE', to))).status).toBe(400);
    expect((await get(to)).body.toString()).toBe('newer');
  });

  it('serves its counters at /_stats', async () => {
    const before = JSON.parse((await get('/_stats')).body.toString());
    const path = freshPath();
    await put(path, '12345');
    await get(path);
    const after = JSON.parse((await get('/_stats')).body.toString());
    expect(after.putsStored).toBe(before.putsStored + 1);
    expect(after.bytesIn).toBe(before.bytesIn + 5);
    expect(after.bytesOut).toBeGreaterThanOrEqual(before.bytesOut + 5);
    expect(after.requestsByMethod.PUT).toBe(before.requestsByMethod.PUT + 1);
    expect(after.fsyncCount).toBeGreaterThan(before.fsyncCount);
    expect(after.responsesByStatus['200']).toBeGreaterThan(before.responsesByStatus['200']);
  });
});
