// The baseline for bench/storage-node.ts: a bare node:http file server with the same
// durability as the storage node (temp file in the same folder, write, fsync, rename,
// fsync of the folder), and nothing else: no hashing, no path checks, no stats.
import { constants, createWriteStream } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';

const docroot = process.argv[2];
let counter = 0;

const server = createServer({ requireHostHeader: false, requestTimeout: 0 }, (req, res) => {
  const path = join(docroot, decodeURIComponent(req.url));
  const handler = req.method === 'PUT' ? put : get;
  handler(path, req, res).catch(() => {
    if (!res.headersSent) res.writeHead(500, { 'Content-Length': 0 });
    res.end();
  });
});

async function put(path, req, res) {
  const folder = dirname(path);
  await mkdir(folder, { recursive: true });
  const temp = `${folder}/.plain-${process.pid}-${++counter}.tmp`;
  const file = await open(temp, 'wx', 0o644);
  try {
    await pipeline(req, createWriteStream(null, { fd: file.fd, autoClose: false }));
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

async function get(path, _req, res) {
  let file;
  try {
    file = await open(path, 'r');
  } catch {
    res.writeHead(404, { 'Content-Length': 0 });
    res.end();
    return;
  }
  const stat = await file.stat();
  res.writeHead(200, { 'Content-Length': stat.size, 'Content-Type': 'text/plain' });
  await pipeline(file.createReadStream(), res);
}

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening on 127.0.0.1:${server.address().port} (http)\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
