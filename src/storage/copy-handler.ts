import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { parseFidPath } from '../protocol/fid-path.js';
import type { SourceFailure } from './copy-source.js';
import { addDigestHeaders } from './get-handler.js';
import { sendPage, statusForWriteError } from './http-replies.js';
import type { NodeContext } from './node-context.js';
import {
  ClientGone,
  commitWhole,
  discardBody,
  type ReceivedBody,
  receiveBody,
} from './received-body.js';
import { parseWriteTarget } from './request-target.js';

/** The request header that makes a POST a copy (docs/storage-node.md). */
export const COPY_FROM_HEADER = 'x-mogile-copy-from';

/**
 * What became of a copy, in the `X-Mogile-Copy` header of every reply to one. A reply
 * without it came from a node that does not pull copies (mogstored answers POST with 400).
 */
export type CopyOutcome =
  | 'stored'
  | 'refused'
  | 'source-unreachable'
  | 'source-refused'
  | 'source-broke'
  | 'source-mismatch'
  | 'failed';

interface CopyOrder {
  readonly source: URL;
  readonly lengthBytes: number;
  readonly md5: string | undefined;
  readonly sha1: string | undefined;
}

/**
 * POST with `X-Mogile-Copy-From`: the node GETs a fid's copy from another node and stores
 * it at the request's path exactly as a PUT would (hashed while it streams, fsynced,
 * renamed into place), but only when it has the length and the digest the tracker named.
 * The file never passes through the tracker.
 */
export async function handleCopy(
  ctx: NodeContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const target = parseWriteTarget(req.url ?? '/');
  if (!target.ok) return refuse(res, target.status, target.detail);
  const destination = parseFidPath(`/${target.segments.join('/')}`);
  if (!destination) return refuse(res, 400, 'A copy must name a fid path');
  const order = parseOrder(req, destination.fid);
  if (typeof order === 'string') return refuse(res, 400, order);
  if (req.headers['content-length'] !== '0' && req.headers['content-length'] !== undefined) {
    return refuse(res, 400, 'A copy request has no body');
  }
  if (req.headers['transfer-encoding'] !== undefined) {
    return refuse(res, 400, 'A copy request has no body');
  }
  const place = await ctx.fs.resolveWrite(target.segments, true);
  if (!place.ok) return answer(res, place.status, 'failed', place.detail);

  let source: IncomingMessage;
  try {
    source = await ctx.copySource.get(order.source);
  } catch (error) {
    const failure = error as SourceFailure;
    const outcome = failure.reachable ? 'source-broke' : 'source-unreachable';
    return answer(res, 502, outcome, `GET ${order.source.href}: ${failure.message}`);
  }
  // The tracker gave up (its deadline, or it stopped): the copy stops too, and leaves
  // nothing, as an upload cut short does.
  res.once('close', () => {
    if (!res.writableFinished) source.destroy();
  });
  if (res.closed) source.destroy();
  const status = source.statusCode ?? 0;
  const length = source.headers['content-length'];
  if (status !== 200 || Number(length) !== order.lengthBytes) {
    if (status === 200) source.destroy();
    else source.resume();
    return answer(
      res,
      502,
      'source-refused',
      `GET answered ${status} with length ${String(length)}, expected ${order.lengthBytes}`,
      { 'X-Mogile-Source-Status': String(status), 'X-Mogile-Source-Length': String(length) },
    );
  }

  let body: ReceivedBody;
  try {
    body = await receiveBody(ctx, source, place.device!, order.sha1 !== undefined);
  } catch (error) {
    ctx.stats.putFailed();
    if (error instanceof ClientGone) {
      return answer(res, 502, 'source-broke', `GET ${order.source.href} ended early`);
    }
    source.destroy();
    const code = (error as NodeJS.ErrnoException).code;
    return answer(res, statusForWriteError(code), 'failed', `cannot write: ${code ?? error}`);
  }
  try {
    const mismatch = digestMismatch(order, body);
    if (mismatch) {
      await discardBody(body);
      ctx.stats.putFailed();
      return answer(res, 502, 'source-mismatch', mismatch);
    }
    const version = await commitWhole(ctx, body, place.path);
    ctx.stats.putStored();
    ctx.digests.remember(place.path, version, body.digest);
    const headers: OutgoingHttpHeaders = {};
    addDigestHeaders(headers, body.digest);
    answer(res, 201, 'stored', '', headers as Record<string, string>);
  } catch (error) {
    ctx.stats.putFailed();
    await discardBody(body);
    const code = (error as NodeJS.ErrnoException).code;
    ctx.logger?.error({ err: error, path: place.path }, 'copy failed');
    answer(res, statusForWriteError(code), 'failed', 'cannot store the copy');
  }
}

function parseOrder(req: IncomingMessage, fid: bigint): CopyOrder | string {
  const from = header(req, COPY_FROM_HEADER);
  let source: URL;
  try {
    source = new URL(from ?? '');
  } catch {
    return 'X-Mogile-Copy-From must be an absolute URL';
  }
  // Only another node's copy of the same fid may be fetched: the node never becomes a
  // proxy for arbitrary URLs.
  if (source.protocol !== 'http:' || source.username !== '' || source.password !== '') {
    return 'X-Mogile-Copy-From must be a plain http URL';
  }
  if (parseFidPath(source.pathname)?.fid !== fid) {
    return 'X-Mogile-Copy-From must name the same fid on another device';
  }
  const length = header(req, 'x-mogile-copy-length');
  if (!length || !/^\d{1,15}$/.test(length)) return 'X-Mogile-Copy-Length is required';
  const md5 = header(req, 'x-mogile-copy-md5')?.toLowerCase();
  if (md5 !== undefined && !/^[0-9a-f]{32}$/.test(md5)) return 'Invalid X-Mogile-Copy-MD5';
  const sha1 = header(req, 'x-mogile-copy-sha1')?.toLowerCase();
  if (sha1 !== undefined && !/^[0-9a-f]{40}$/.test(sha1)) return 'Invalid X-Mogile-Copy-SHA1';
  return { source, lengthBytes: Number(length), md5, sha1 };
}

function digestMismatch(order: CopyOrder, body: ReceivedBody): string | undefined {
  if (body.bytes !== order.lengthBytes) {
    return `received ${body.bytes} bytes, expected ${order.lengthBytes}`;
  }
  if (order.md5 !== undefined && order.md5 !== body.digest.md5) {
    return `MD5 mismatch, expected: ${order.md5} actual: ${body.digest.md5}`;
  }
  if (order.sha1 !== undefined && order.sha1 !== body.digest.sha1) {
    return `SHA-1 mismatch, expected: ${order.sha1} actual: ${body.digest.sha1}`;
  }
  return undefined;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function answer(
  res: ServerResponse,
  status: number,
  outcome: CopyOutcome,
  detail: string,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed) return;
  sendPage(res, status, detail, { 'X-Mogile-Copy': outcome, ...headers });
}

function refuse(res: ServerResponse, status: number, detail: string): void {
  res.shouldKeepAlive = false;
  answer(res, status, 'refused', detail, { Connection: 'close' });
}
