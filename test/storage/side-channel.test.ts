import { createHash } from 'node:crypto';
import { statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  makeDocroot,
  type NodeProcess,
  removeDocroot,
  sideClient,
  startNode,
} from './node-harness.js';

const md5 = (data: string) => createHash('md5').update(data).digest('hex');
const sha1 = (data: string) => createHash('sha1').update(data).digest('hex');

describe('side channel (spec/storage-node.md §5)', () => {
  let docroot: string;
  let node: NodeProcess;
  let base: string;

  beforeAll(async () => {
    docroot = makeDocroot([1, 2, 3]);
    node = await startNode(docroot);
    base = `http://127.0.0.1:${node.http.port}`;
  });
  afterAll(async () => {
    await node.stop();
    removeDocroot(docroot);
  });

  async function put(path: string, body: string) {
    const response = await request(`${base}${path}`, { method: 'PUT', body });
    await response.body.dump();
    expect(response.statusCode).toBe(200);
    return response.headers;
  }

  it('answers size, MD5 and SHA-1 (with and without fsck) with CRLF lines', async () => {
    const path = '/dev1/0/000/000/0000000501.fid';
    await put(path, 'short\n');
    const side = await sideClient(node.side);
    side.send(`size ${path}\nMD5 ${path}\r\nSHA-1 ${path} fsck\r\nMD5 ${path} fsck\n`);
    expect(await side.read(4)).toBe(
      `${path} 6\r\n` +
        `${path} MD5=${md5('short\n')}\r\n` +
        `${path} SHA-1=${sha1('short\n')}\r\n` +
        `${path} MD5=${md5('short\n')}\r\n`,
    );
    side.close();
  });

  it('reports -1 for missing files and refuses .. in URIs', async () => {
    const side = await sideClient(node.side);
    side.send('size /dev1/9/999/999/9999999999.fid\r\nMD5 /dev9/x.fid\r\nSHA-1 /nope fsck\r\n');
    expect(await side.read(3)).toBe(
      '/dev1/9/999/999/9999999999.fid -1\r\n/dev9/x.fid MD5=-1\r\n/nope SHA-1=-1\r\n',
    );
    side.send('MD5 /dev1/../../etc/passwd\r\nsize /dev1/../usage\r\n');
    expect(await side.read(2)).toBe(
      'ERROR: uri invalid (contains ..)\r\nERROR: uri invalid (contains ..)\r\n',
    );
    side.close();
  });

  it('answers unknown commands by their first word and an empty line with an empty line', async () => {
    const side = await sideClient(node.side);
    side.send('\r\nfrobnicate now\r\nmd5 /x\r\nSHA-256 /x\r\nsize\r\n\n');
    expect(await side.read(6)).toBe(
      '\r\nERROR: unknown command: frobnicate\r\nERROR: unknown command: md5\r\n' +
        'ERROR: unknown command: sha\r\nERROR: unknown command: size\r\n\r\n',
    );
    side.close();
  });

  it('MD5 reads the content: a file changed behind the node differs from its stored digest', async () => {
    const path = '/dev2/0/000/000/0000000502.fid';
    const original = 'original content';
    const stored = await put(path, original);
    expect(stored['x-mogile-md5']).toBe(md5(original));
    const file = join(docroot, path);
    const before = statSync(file);
    // Same size, same mtime: only reading the bytes can tell.
    const tampered = 'tampered content';
    writeFileSync(file, tampered);
    utimesSync(file, before.atime, before.mtime);
    const side = await sideClient(node.side);
    side.send(`MD5 ${path}\r\nSHA-1 ${path} fsck\r\n`);
    const reply = await side.read(2);
    side.close();
    expect(reply).toBe(`${path} MD5=${md5(tampered)}\r\n${path} SHA-1=${sha1(tampered)}\r\n`);
    expect(md5(tampered)).not.toBe(stored['x-mogile-md5']);

    // A visible change (new size) makes the node drop the stale digest instead of lying.
    writeFileSync(file, 'a longer tampered content');
    const head = await request(`${base}${path}`, { method: 'HEAD' });
    await head.body.dump();
    expect(head.headers['content-length']).toBe('25');
    expect(head.headers['x-mogile-md5']).toBeUndefined();
  });

  it('processes pipelined commands in order', async () => {
    const paths = [1, 2, 3].map((n) => `/dev${n}/0/000/000/000000060${n}.fid`);
    for (const [index, path] of paths.entries()) await put(path, `body ${index}`);
    const side = await sideClient(node.side);
    side.send(paths.map((path) => `MD5 ${path}\r\nsize ${path}\r\n`).join(''));
    const expected = paths
      .map((path, index) => `${path} MD5=${md5(`body ${index}`)}\r\n${path} 6\r\n`)
      .join('');
    expect(await side.read(6)).toBe(expected);
    side.close();
  });

  it('streams watch rounds: one LF line per device in devid order, then a dot', async () => {
    const side = await sideClient(node.side);
    side.send('WATCH\r\n');
    const rounds = await side.read(2, '.\n');
    expect(rounds).toMatch(/^(1\t(-|\d+\.\d\d)\n2\t(-|\d+\.\d\d)\n3\t(-|\d+\.\d\d)\n\.\n){2}$/);
    // After watch the connection takes no more commands.
    side.send('size /dev1/usage\r\n');
    expect(await side.read(1, '.\n')).toMatch(/^1\t/);
    side.close();
  });
});

describe('side channel without iostat, and shutdown', () => {
  it('answers watch with ERR iostat unavailable under --no-iostat', async () => {
    const docroot = makeDocroot([1]);
    const node = await startNode(docroot, ['--no-iostat']);
    try {
      const side = await sideClient(node.side);
      side.send('watch\r\n');
      expect(await side.read()).toBe('ERR iostat unavailable\r\n');
      await side.closed;
    } finally {
      await node.stop();
      removeDocroot(docroot);
    }
  });

  it('exits on shutdown', async () => {
    const docroot = makeDocroot([1]);
    const node = await startNode(docroot);
    try {
      const side = await sideClient(node.side);
      side.send('shutdown\r\n');
      await side.closed;
      expect(await node.exited()).toBe(0);
    } finally {
      removeDocroot(docroot);
    }
  });
});
