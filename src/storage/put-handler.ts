import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { type ByteRange, parseContentRange } from './byte-range.js';
import { addDigestHeaders } from './get-handler.js';
import { refuseUpload, sendPage, statusForWriteError } from './http-replies.js';
import type { NodeContext } from './node-context.js';
import {
  ClientGone,
  commitWhole,
  discardBody,
  type ReceivedBody,
  receiveBody,
  timedSync,
} from './received-body.js';
import { parseWriteTarget } from './request-target.js';

/**
 * PUT (spec/storage-node.md §3.3). The body streams into a temp file while it is hashed;
 * only a complete body (exactly Content-Length bytes, or a finished chunked body) is
 * fsynced and renamed into place, so readers never see a partial file and an aborted
 * upload leaves nothing behind. `Content-Range: bytes a-b/*` writes at offset a.
 */
export async function handlePut(
  ctx: NodeContext,
  req: IncomingMessage,
  res: ServerResponse,
  expectsContinue: boolean,
): Promise<void> {
  const target = parseWriteTarget(req.url ?? '/');
  if (!target.ok) return refuseUpload(res, target.status, target.detail);
  const lengthHeader = req.headers['content-length'];
  const chunked = /\bchunked\b/i.test(req.headers['transfer-encoding'] ?? '');
  // Without Content-Length or chunked coding an HTTP/1.1 request has an empty body (RFC 9112
  // §6.3): LWP sends such a PUT to create an empty file before ranged writes (largefile).
  // An HTTP/1.0 client may mean "body until close", which the original silently dropped,
  // storing an empty file (transcript quirk 9), so that is refused.
  if (lengthHeader === undefined && !chunked && req.httpVersionMinor === 0) {
    return refuseUpload(res, 411, 'Content-Length required');
  }
  const range = parseContentRange(req.headers['content-range']);
  if (range === 'invalid') return refuseUpload(res, 400, 'Invalid Content-Range');
  if (range && lengthHeader !== undefined && Number(lengthHeader) !== range.end - range.start + 1) {
    return refuseUpload(res, 400, 'Content-Range does not match Content-Length');
  }
  const expectedMd5 = parseContentMd5(req.headers['content-md5'] as string | undefined);
  if (expectedMd5 === 'invalid') return refuseUpload(res, 400, 'Invalid Content-MD5');
  const place = await ctx.fs.resolveWrite(target.segments, true);
  if (!place.ok) return refuseUpload(res, place.status, place.detail);
  const device = place.device!;

  if (expectsContinue) res.writeContinue();
  let body: ReceivedBody;
  try {
    body = await receiveBody(ctx, req, device, false);
  } catch (error) {
    ctx.stats.putFailed();
    if (error instanceof ClientGone) return;
    const status = statusForWriteError((error as NodeJS.ErrnoException).code);
    if (status === 500) ctx.logger?.error({ err: error, path: place.path }, 'upload failed');
    return refuseAfterDrain(req, res, status);
  }

  try {
    if (expectedMd5 !== null && expectedMd5 !== body.md5Base64) {
      await discardBody(body);
      ctx.stats.putFailed();
      return sendPage(
        res,
        400,
        `Content-MD5 mismatch, expected: ${unpadded(expectedMd5)} actual: ${unpadded(body.md5Base64)}`,
      );
    }
    if (range) {
      if (body.bytes !== range.end - range.start + 1) {
        await discardBody(body);
        ctx.stats.putFailed();
        return sendPage(res, 400, 'Body length does not match Content-Range');
      }
      await ctx.pathLocks.run(place.path, () => applyRange(ctx, body, place.path, range));
      ctx.stats.putStored();
      return sendPage(res, 200);
    }
    const version = await commitWhole(ctx, body, place.path);
    ctx.stats.putStored();
    ctx.digests.remember(place.path, version, body.digest);
    const headers: OutgoingHttpHeaders = {};
    addDigestHeaders(headers, body.digest);
    // A verified Content-MD5 is answered 201, as the reference did (transcript http.put_good_md5).
    sendPage(res, expectedMd5 === null ? 200 : 201, '', headers as Record<string, string>);
  } catch (error) {
    ctx.stats.putFailed();
    await discardBody(body);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') return sendPage(res, 409, 'A directory is in the way');
    ctx.logger?.error({ err: error, path: place.path }, 'PUT failed');
    sendPage(res, statusForWriteError(code));
  }
}

/** Bodies left to read after a refusal are drained up to this size, then the socket closes. */
const MAX_DRAIN_BYTES = 16 * 1024 * 1024;
const MAX_DRAIN_MS = 2000;

/**
 * Refuses an upload whose body was not read to the end. Reading (and dropping) a bounded
 * rest first lets the client see the status: closing a socket with unread data makes the
 * kernel send a reset, and the reply may be lost with it.
 */
async function refuseAfterDrain(req: IncomingMessage, res: ServerResponse, status: number) {
  if (!req.complete && !req.destroyed) {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared <= MAX_DRAIN_BYTES) {
      req.resume();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, MAX_DRAIN_MS);
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        req.once('end', done);
        req.once('close', done);
      });
    }
  }
  refuseUpload(res, status);
}

/** Copies a received range into the target at its offset, without truncating it. */
async function applyRange(
  ctx: NodeContext,
  body: ReceivedBody,
  finalPath: string,
  range: ByteRange,
): Promise<void> {
  const target = await open(
    finalPath,
    constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW,
    0o644,
  );
  try {
    // The bytes are about to change: a stale digest must not outlive them.
    await ctx.digests.drop(finalPath);
    const buffer = Buffer.allocUnsafe(Math.min(body.bytes, 1024 * 1024) || 1);
    let copied = 0;
    while (copied < body.bytes) {
      const { bytesRead } = await body.file.read(buffer, 0, buffer.length, copied);
      if (bytesRead === 0) throw new Error('staged upload shrank');
      await target.write(buffer, 0, bytesRead, range.start + copied);
      copied += bytesRead;
    }
    await timedSync(ctx, target);
  } finally {
    await target.close();
  }
  await discardBody(body);
}

/** Base64 of a 16-byte MD5 (padding optional), normalised with padding; null if absent. */
export function parseContentMd5(header: string | undefined): string | null | 'invalid' {
  if (header === undefined) return null;
  const bytes = Buffer.from(header.trim(), 'base64');
  return bytes.length === 16 ? bytes.toString('base64') : 'invalid';
}

function unpadded(base64: string): string {
  return base64.replace(/=+$/, '');
}
