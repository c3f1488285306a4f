import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../helpers/wait-for.js';
import {
  type Address,
  http10,
  makeDocroot,
  parseResponse,
  rawRequest,
  removeDocroot,
  startNode,
} from './node-harness.js';

const FID = '/dev1/0/000/000/0000000777.fid';

function tempFiles(docroot: string): string[] {
  const folder = join(docroot, 'dev1', '.mogile-tmp');
  return existsSync(folder) ? readdirSync(folder).filter((name) => !name.startsWith('usage')) : [];
}

function tempBytes(docroot: string): number {
  return tempFiles(docroot).reduce(
    (sum, name) => sum + statSync(join(docroot, 'dev1', '.mogile-tmp', name)).size,
    0,
  );
}

function openSocket(address: Address): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(address.port, address.host, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Collects what the server sends until it closes the connection. */
function collect(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve) => socket.once('close', () => resolve(Buffer.concat(chunks))));
}

describe('interrupted uploads', () => {
  it('SIGKILL mid-upload leaves no final file, and a restart removes the partial temp file', async () => {
    const docroot = makeDocroot([1]);
    try {
      const node = await startNode(docroot);
      const socket = await openSocket(node.http);
      socket.on('error', () => undefined);
      socket.write(`PUT ${FID} HTTP/1.0\r\nContent-length: ${4 * 1024 * 1024}\r\n\r\n`);
      socket.write(Buffer.alloc(1024 * 1024, 'k'));
      await waitUntil('part of the body is on disk', () => tempBytes(docroot) > 0, 10_000, 10);
      await node.stop('SIGKILL');
      socket.destroy();
      // The crash left its partial upload in the temp folder, never at the final path.
      expect(tempFiles(docroot)).toHaveLength(1);
      expect(existsSync(join(docroot, FID))).toBe(false);

      const restarted = await startNode(docroot);
      try {
        expect(tempFiles(docroot)).toEqual([]);
        expect((await rawRequest(restarted.http, http10('GET', FID))).status).toBe(404);
        expect((await rawRequest(restarted.http, http10('HEAD', FID))).status).toBe(404);
      } finally {
        await restarted.stop();
      }
    } finally {
      removeDocroot(docroot);
    }
  });

  it('a client that disconnects mid-upload leaves neither file nor temp file', async () => {
    const docroot = makeDocroot([1]);
    const node = await startNode(docroot);
    try {
      const socket = await openSocket(node.http);
      socket.on('error', () => undefined);
      socket.write(`PUT ${FID} HTTP/1.0\r\nContent-length: ${4 * 1024 * 1024}\r\n\r\n`);
      socket.write(Buffer.alloc(512 * 1024, 'd'));
      await waitUntil('part of the body is on disk', () => tempBytes(docroot) > 0, 10_000, 10);
      socket.resetAndDestroy();
      await waitUntil(
        'the temp file is removed',
        () => tempFiles(docroot).length === 0,
        10_000,
        10,
      );
      expect(existsSync(join(docroot, FID))).toBe(false);
      expect((await rawRequest(node.http, http10('GET', FID))).status).toBe(404);
    } finally {
      await node.stop();
      removeDocroot(docroot);
    }
  });

  it('a body shorter than its Content-Length never becomes a file (half-close)', async () => {
    const docroot = makeDocroot([1]);
    const node = await startNode(docroot);
    try {
      // The original kept these 10 bytes as the file (transcript http.get_short_disconnect).
      const socket = await openSocket(node.http);
      const done = collect(socket);
      socket.end(`PUT ${FID} HTTP/1.0\r\nContent-length: 100\r\n\r\n0123456789`);
      await done;
      await waitUntil(
        'the temp file is removed',
        () => tempFiles(docroot).length === 0,
        10_000,
        10,
      );
      expect((await rawRequest(node.http, http10('GET', FID))).status).toBe(404);
      expect(existsSync(join(docroot, FID))).toBe(false);
    } finally {
      await node.stop();
      removeDocroot(docroot);
    }
  });
});

describe('timeouts and limits', () => {
  it('closes a connection whose headers or body stall, and keeps nothing', async () => {
    const docroot = makeDocroot([1]);
    const node = await startNode(docroot, ['--headers-timeout', '300', '--idle-timeout', '300']);
    try {
      const headers = await openSocket(node.http);
      const headersDone = collect(headers);
      headers.write('GET /dev1/usage HTTP/1.1\r\nX-Slow: ');
      const headerReply = (await headersDone).toString('latin1');
      expect(headerReply === '' || /^HTTP\/1\.1 408/.test(headerReply)).toBe(true);

      const body = await openSocket(node.http);
      const bodyDone = collect(body);
      body.write(`PUT ${FID} HTTP/1.0\r\nContent-length: 100\r\n\r\n0123456789`);
      await bodyDone;
      await waitUntil(
        'the temp file is removed',
        () => tempFiles(docroot).length === 0,
        10_000,
        10,
      );
      expect(existsSync(join(docroot, FID))).toBe(false);
    } finally {
      await node.stop();
      removeDocroot(docroot);
    }
  });

  it('maxconns bounds simultaneous connections', async () => {
    const docroot = makeDocroot([1]);
    const node = await startNode(docroot, ['--maxconns', '2']);
    try {
      const held = [await openSocket(node.http), await openSocket(node.http)];
      // Each held connection is proven accepted by a keep-alive answer.
      for (const socket of held) {
        const reply = new Promise<string>((resolve) =>
          socket.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1'))),
        );
        socket.write('GET /dev1/usage HTTP/1.1\r\n\r\n');
        expect(await reply).toMatch(/^HTTP\/1\.1 200/);
      }
      const extra = await openSocket(node.http);
      extra.on('error', () => undefined);
      const refused = collect(extra);
      extra.write('GET /dev1/usage HTTP/1.1\r\n\r\n');
      expect((await refused).length).toBe(0);
      for (const socket of held) socket.destroy();
    } finally {
      await node.stop();
      removeDocroot(docroot);
    }
  });

  it('SIGTERM lets an in-flight upload finish, then exits 0', async () => {
    const docroot = makeDocroot([1]);
    const node = await startNode(docroot);
    try {
      const socket = await openSocket(node.http);
      const done = collect(socket);
      socket.write(`PUT ${FID} HTTP/1.0\r\nContent-length: 20\r\n\r\n0123456789`);
      await waitUntil('the upload has started', () => tempFiles(docroot).length === 1, 10_000, 10);
      node.child.kill('SIGTERM');
      socket.write('abcdefghij');
      expect(parseResponse(await done).status).toBe(200);
      expect(await node.exited()).toBe(0);
      expect(existsSync(join(docroot, FID))).toBe(true);
    } finally {
      await node.stop();
      removeDocroot(docroot);
    }
  });
});

const canUnshare =
  process.platform === 'linux' &&
  spawnSync('unshare', ['-r', '-m', 'sh', '-c', 'mount -t tmpfs -o size=1m none /mnt'], {
    stdio: 'ignore',
  }).status === 0;

describe('full disk', () => {
  // A 1 MiB tmpfs mounted over the docroot inside a private mount namespace.
  it.skipIf(!canUnshare)('answers 507 and keeps no partial file', async () => {
    const docroot = makeDocroot([]);
    const script = `mount -t tmpfs -o size=1m none "${docroot}" && mkdir "${docroot}/dev1" && exec "$0" "$@"`;
    const node = await startNode(docroot, [], {
      command: ['unshare', '-r', '-m', 'sh', '-c', script, process.execPath],
    });
    try {
      const big = `/dev1/0/000/000/0000000888.fid`;
      const tooBig = await rawRequest(
        node.http,
        http10('PUT', big, Buffer.alloc(2 * 1024 * 1024, 'f')),
      );
      expect(tooBig.status).toBe(507);
      expect((await rawRequest(node.http, http10('GET', big))).status).toBe(404);
      // The failed upload's temp file is gone: 600 KiB fit in the 1 MiB disk again.
      const fits = await rawRequest(node.http, http10('PUT', FID, Buffer.alloc(600 * 1024, 'g')));
      expect(fits.status).toBe(200);
      const chunked = await rawRequest(
        node.http,
        `PUT ${big} HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${'80000\r\n'}${'c'.repeat(0x80000)}\r\n0\r\n\r\n`,
      );
      expect(chunked.status).toBe(507);
      expect((await rawRequest(node.http, http10('GET', big))).status).toBe(404);
    } finally {
      await node.stop();
      removeDocroot(docroot);
    }
  });
});
