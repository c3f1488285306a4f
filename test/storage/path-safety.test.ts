import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  http10,
  makeDocroot,
  type NodeProcess,
  rawRequest,
  removeDocroot,
  sideClient,
  startNode,
} from './node-harness.js';

/** No path outside the docroot is ever read or written (spec/storage-node.md §3.1). */
describe('path safety', () => {
  let docroot: string;
  let outside: string;
  let node: NodeProcess;

  beforeAll(async () => {
    docroot = makeDocroot([1]);
    // A folder next to the docroot, holding a secret the node must never serve or touch.
    outside = mkdtempSync(join(tmpdir(), 'mogile-outside-'));
    writeFileSync(join(outside, 'secret'), 'top secret');
    writeFileSync(join(docroot, 'rootfile'), 'in the docroot');
    symlinkSync(outside, join(docroot, 'dev1', 'escape'));
    symlinkSync(join(outside, 'secret'), join(docroot, 'dev1', 'link.fid'));
    mkdirSync(join(docroot, 'dev1', '0'));
    node = await startNode(docroot);
  });
  afterAll(async () => {
    await node.stop();
    removeDocroot(docroot);
    rmSync(outside, { recursive: true, force: true });
  });

  it('refuses .. in GET and HEAD with 403, plain or percent-encoded', async () => {
    const targets = [
      '/../../../../etc/hostname',
      '/dev1/0/../usage',
      '/%2e%2e/%2e%2e/etc/hostname',
      '/dev1/%2E%2E/%2E%2E/etc/hostname',
      '/dev1/0/..',
      'http://host/../etc/hostname',
    ];
    for (const target of targets) {
      for (const method of ['GET', 'HEAD']) {
        const response = await rawRequest(node.http, http10(method, target));
        expect(response.status, `${method} ${target}`).toBe(403);
      }
    }
  });

  it('refuses .. anywhere in PUT, DELETE and MKCOL with 400, and writes nothing', async () => {
    const targets = [
      '/dev1/../dev1/0/x.fid',
      '/dev1/%2e%2e/x.fid',
      '/dev1/0/x..fid',
      `/dev1/..%2F..%2F${outside.slice(1)}/written`,
    ];
    for (const target of targets) {
      for (const method of ['PUT', 'DELETE', 'MKCOL']) {
        const response = await rawRequest(node.http, http10(method, target, 'x'));
        expect(response.status, `${method} ${target}`).toBe(400);
      }
    }
    expect(readdirSync(outside).sort()).toEqual(['secret']);
  });

  it('refuses doubled slashes, empty and dot segments in writes', async () => {
    for (const target of ['//dev1/0/x.fid', '/dev1//0/x.fid', '/dev1/./x.fid', '/dev1/0/x.fid/']) {
      const response = await rawRequest(node.http, http10('PUT', target, 'x'));
      expect(response.status, target).toBe(400);
    }
  });

  it('refuses NUL bytes and control characters, encoded or raw', async () => {
    for (const target of ['/dev1/usage%00.txt', '/dev1/0/a%00b', '/dev1/0/a%0Ab']) {
      expect((await rawRequest(node.http, http10('GET', target))).status, target).toBe(400);
      expect((await rawRequest(node.http, http10('PUT', target, 'x'))).status, target).toBe(400);
    }
    const raw = await rawRequest(
      node.http,
      Buffer.from('GET /dev1/us\u0000age HTTP/1.0\r\n\r\n', 'latin1'),
    );
    expect(raw.status).toBe(400);
  });

  it('refuses targets that are not absolute paths', async () => {
    for (const target of ['dev1/usage', 'etc/passwd', '*']) {
      const response = await rawRequest(node.http, http10('GET', target));
      expect(response.status, target).toBe(400);
    }
    // An absolute path names a file below the docroot, never the real /etc/passwd.
    expect((await rawRequest(node.http, http10('GET', '/etc/passwd'))).status).toBe(404);
    const inRoot = await rawRequest(node.http, http10('GET', '/rootfile'));
    expect(inRoot.status).toBe(200);
    expect(inRoot.body.toString()).toBe('in the docroot');
  });

  it('does not follow a symlinked folder out of the device', async () => {
    const read = await rawRequest(node.http, http10('GET', '/dev1/escape/secret'));
    expect(read.status).toBe(403);
    expect(read.body.toString()).not.toContain('top secret');
    const write = await rawRequest(node.http, http10('PUT', '/dev1/escape/planted', 'evil'));
    expect(write.status).toBe(403);
    const nested = await rawRequest(
      node.http,
      http10('PUT', '/dev1/escape/deeper/planted', 'evil'),
    );
    expect(nested.status).toBe(403);
    const removed = await rawRequest(node.http, http10('DELETE', '/dev1/escape/secret'));
    expect(removed.status).toBe(403);
    expect(readdirSync(outside).sort()).toEqual(['secret']);
    expect(readFileSync(join(outside, 'secret'), 'utf8')).toBe('top secret');
  });

  it('does not follow a symlinked file: read is 403, side channel sees nothing', async () => {
    const read = await rawRequest(node.http, http10('GET', '/dev1/link.fid'));
    expect(read.status).toBe(403);
    const side = await sideClient(node.side);
    side.send('size /dev1/link.fid\r\nMD5 /dev1/link.fid\r\nMD5 /dev1/escape/secret\r\n');
    expect(await side.read(3)).toBe(
      '/dev1/link.fid -1\r\n/dev1/link.fid MD5=-1\r\n/dev1/escape/secret MD5=-1\r\n',
    );
    side.close();
    // A PUT replaces the link itself; the file it pointed at is untouched.
    const write = await rawRequest(node.http, http10('PUT', '/dev1/link.fid', 'replaced'));
    expect(write.status).toBe(200);
    expect(readFileSync(join(outside, 'secret'), 'utf8')).toBe('top secret');
    expect((await rawRequest(node.http, http10('GET', '/dev1/link.fid'))).body.toString()).toBe(
      'replaced',
    );
  });

  it('keeps the temp folder out of reach', async () => {
    expect((await rawRequest(node.http, http10('GET', '/dev1/.mogile-tmp/'))).status).toBe(404);
    expect((await rawRequest(node.http, http10('GET', '/dev1/.mogile-tmp/x.tmp'))).status).toBe(
      404,
    );
    expect((await rawRequest(node.http, http10('PUT', '/dev1/.mogile-tmp/x', 'x'))).status).toBe(
      400,
    );
    expect((await rawRequest(node.http, http10('PUT', '/dev1/0/.hidden', 'x'))).status).toBe(400);
  });

  it('answers a malformed request line or header with 400', async () => {
    const garbage = await rawRequest(node.http, 'THIS IS NOT HTTP\r\n\r\n');
    expect(garbage.status).toBe(400);
    const badLength = await rawRequest(
      node.http,
      'PUT /dev1/0/bad.fid HTTP/1.0\r\nContent-Length: -5\r\n\r\n',
    );
    expect(badLength.status).toBe(400);
    const twoLengths = await rawRequest(
      node.http,
      'PUT /dev1/0/bad.fid HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
    );
    expect(twoLengths.status).toBe(400);
    expect((await rawRequest(node.http, http10('GET', '/dev1/0/bad.fid'))).status).toBe(404);
  });
});
