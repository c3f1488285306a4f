/**
 * The bench's yardstick: a bare node:http file server doing the durability work a storage
 * node does (temp file, write, fsync, rename, fsync of the folder) and nothing else: no
 * hashing, no path rules, no stats. Run as `node raw-file-server.js <docroot>`; prints
 * `listening on 127.0.0.1:PORT (http)`.
 */
import { constants, createWriteStream } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';

const docroot = process.argv[2];
if (!docroot) {
  process.stderr.write('usage: raw-file-server <docroot>\n');
  process.exit(2);
}
let tempCounter = 0;

async function put(path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const folder = dirname(path);
  await mkdir(folder, { recursive: true });
  const temp = join(folder, `.raw-${process.pid}-${++tempCounter}.tmp`);
  const file = await open(temp, 'wx', 0o644);
  try {
    await pipeline(req, createWriteStream('', { fd: file.fd, autoClose: false }));
    await file.sync();
  } catch (error) {
    await file.close();
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await file.close();
  await rename(temp, path);
  const dir = await open(folder, constants.O_RDONLY | constants.O_DIRECTORY);
  await dir.sync();
  await dir.close();
  res.writeHead(200, { 'Content-Length': 0 });
  res.end();
}

async function get(path: string, res: ServerResponse): Promise<void> {
  const file = await open(path, 'r').catch(() => undefined);
  if (!file) {
    res.writeHead(404, { 'Content-Length': 0 });
    res.end();
    return;
  }
  const { size } = await file.stat();
  res.writeHead(200, { 'Content-Length': size, 'Content-Type': 'application/octet-stream' });
  await pipeline(file.createReadStream(), res);
}

const server = createServer({ requestTimeout: 0 }, (req, res) => {
  const path = join(docroot, decodeURIComponent(req.url ?? '/'));
  const work = req.method === 'PUT' ? put(path, req, res) : get(path, res);
  work.catch(() => {
    if (!res.headersSent) res.writeHead(500, { 'Content-Length': 0 });
    res.end();
  });
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`listening on 127.0.0.1:${port} (http)\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
