import { stat, unlink } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import { refuseUpload, SERVER_HEADER, sendPage } from './http-replies.js';
import type { NodeContext } from './node-context.js';
import { parseWriteTarget } from './request-target.js';

/**
 * DELETE (spec/storage-node.md §3.4): unlink one file. 204 on success, 404 when missing
 * (the delete worker treats both as done), 400 with the error text for anything else,
 * such as a directory. unlink never follows a symlink, so a planted link only loses itself.
 */
export async function handleDelete(
  ctx: NodeContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const target = parseWriteTarget(req.url ?? '/');
  if (!target.ok) return refuseUpload(res, target.status, target.detail);
  const place = await ctx.fs.resolveWrite(target.segments, false);
  if (!place.ok) return sendPage(res, place.status === 409 ? 400 : place.status, place.detail);
  try {
    await unlink(place.path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return sendPage(res, 404);
    return sendPage(res, 400, (error as Error).message.replace(place.path, req.url ?? ''));
  }
  ctx.digests.forget(place.path);
  res.writeHead(204, { Server: SERVER_HEADER });
  res.end();
}

/**
 * MKCOL (§3.6). We create the folder (with parents) and answer 201, or 200 when it already
 * existed; the friendly choice the spec allows. The reference answered 400, after which
 * the tracker stops sending MKCOL; both work because PUT creates folders anyway.
 */
export async function handleMkcol(
  ctx: NodeContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const target = parseWriteTarget(req.url ?? '/', true);
  if (!target.ok) return refuseUpload(res, target.status, target.detail);
  // Resolving a child of the folder confines (and, when asked, creates) the folder itself.
  const child = [...target.segments, 'x'];
  const existing = await ctx.fs.resolveWrite(child, false);
  let status = 200;
  let folder: string;
  if (existing.ok) {
    folder = dirname(existing.path);
  } else if (existing.status === 404 && existing.detail === '') {
    const created = await ctx.fs.resolveWrite(child, true);
    if (!created.ok) return refuseUpload(res, created.status, created.detail);
    folder = dirname(created.path);
    status = 201;
  } else {
    return refuseUpload(res, existing.status, existing.detail);
  }
  const info = await stat(folder).catch(() => null);
  if (!info?.isDirectory()) return refuseUpload(res, 409, 'A file is in the way');
  sendPage(res, status);
}
