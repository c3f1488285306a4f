import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { extname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseRange } from './byte-range.js';
import type { FileDigest, FileVersion } from './digest-store.js';
import { SERVER_HEADER, sendDirectoryPage, sendPage } from './http-replies.js';
import type { NodeContext } from './node-context.js';
import { parseReadTarget } from './request-target.js';
import { wantsSha1, withSha1 } from './wanted-digest.js';

/** Bodies up to this size are read with one call and sent with one write. */
const SMALL_BODY_BYTES = 64 * 1024;
const STREAM_CHUNK_BYTES = 256 * 1024;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html',
  '.htm': 'text/html',
  '.txt': 'text/plain',
  '.css': 'text/css',
  '.js': 'application/javascript',
  '.json': 'application/json',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.gif': 'image/gif',
};

/** GET and HEAD (spec/storage-node.md §3.2). */
export async function handleGet(
  ctx: NodeContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const head = req.method === 'HEAD';
  const target = parseReadTarget(req.url ?? '/');
  if (!target.ok) return sendPage(res, target.status, target.detail);
  const place = await ctx.fs.resolveRead(target.segments);
  if (!place.ok) return sendPage(res, place.status, place.detail);

  let file: FileHandle;
  try {
    file = await open(place.path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    return sendOpenError(res, (error as NodeJS.ErrnoException).code);
  }
  let handedOff = false;
  try {
    const stat = await file.stat({ bigint: true });
    if (stat.isDirectory()) return sendDirectoryPage(res);
    if (!stat.isFile()) return sendPage(res, 403, 'Not a regular file');

    const size = Number(stat.size);
    const version: FileVersion = { ino: stat.ino, size: stat.size, mtimeNs: stat.mtimeNs };
    const etag = `"${stat.ino.toString(16)}-${stat.size.toString(16)}-${stat.mtimeNs.toString(16)}"`;
    const lastModified = new Date(Number(stat.mtimeMs)).toUTCString();
    const headers: OutgoingHttpHeaders = {
      Server: SERVER_HEADER,
      'Last-Modified': lastModified,
      ETag: etag,
      'Accept-Ranges': 'bytes',
    };

    if (notModified(req, etag, lastModified)) {
      // No Content-Length on a 304: clients such as undici would expect a body of that size.
      res.writeHead(304, headers);
      res.end();
      return;
    }

    const range = parseRange(req.headers.range, size);
    if (range.kind === 'unsatisfiable') {
      headers['Content-Range'] = `bytes */${size}`;
      headers['Content-Length'] = 0;
      res.writeHead(416, headers);
      res.end();
      return;
    }
    const stored = await ctx.digests.load(place.path, version);
    addDigestHeaders(
      headers,
      wantsSha1(req) ? await withSha1(ctx, file, place.path, version, stored, headers) : stored,
    );
    headers['Content-Type'] = contentTypeOf(place.path);
    let start = 0;
    let length = size;
    let status = 200;
    if (range.kind === 'partial') {
      start = range.range.start;
      length = range.range.end - start + 1;
      status = 206;
      headers['Content-Range'] = `bytes ${start}-${range.range.end}/${size}`;
    }
    headers['Content-Length'] = length;
    if (head || length === 0) {
      res.writeHead(status, headers);
      res.end();
      return;
    }
    if (length <= SMALL_BODY_BYTES) {
      const body = Buffer.allocUnsafe(length);
      const { bytesRead } = await file.read(body, 0, length, start);
      if (bytesRead !== length) throw new Error('file shrank while being read');
      res.writeHead(status, headers);
      res.end(body);
      ctx.stats.bytesOut(length);
      return;
    }
    res.writeHead(status, headers);
    handedOff = true;
    const stream = file.createReadStream({
      start,
      end: start + length - 1,
      highWaterMark: STREAM_CHUNK_BYTES,
    });
    try {
      await pipeline(stream, res);
      ctx.stats.bytesOut(length);
    } catch {
      // The client went away mid-body; pipeline has already destroyed both ends.
    }
  } finally {
    if (!handedOff) await file.close();
  }
}

function sendOpenError(res: ServerResponse, code: string | undefined): void {
  if (code === 'ENOENT' || code === 'ENOTDIR') sendPage(res, 404);
  else if (code === 'ELOOP' || code === 'EACCES' || code === 'EPERM')
    sendPage(res, 403, 'Bogus URL');
  else sendPage(res, 500, 'Cannot open file');
}

/** If-None-Match wins; If-Modified-Since matches only the exact Last-Modified (§3.2). */
function notModified(req: IncomingMessage, etag: string, lastModified: string): boolean {
  const ifNoneMatch = req.headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    return ifNoneMatch.split(',').some((tag) => {
      const value = tag.trim();
      return value === '*' || value === etag || value === `W/${etag}`;
    });
  }
  return req.headers['if-modified-since'] === lastModified;
}

export function addDigestHeaders(headers: OutgoingHttpHeaders, digest: FileDigest | null): void {
  if (!digest) return;
  headers['X-Mogile-MD5'] = digest.md5;
  if (digest.sha1 !== undefined) headers['X-Mogile-SHA1'] = digest.sha1;
}

function contentTypeOf(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'text/plain';
}
