import { lstat, rename, stat, unlink } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import { refuseUpload, SERVER_HEADER, sendPage, statusForWriteError } from './http-replies.js';
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

/**
 * MOVE (§3.5), for the client's `edit_file`: renames one file to the path in the
 * `Destination` header (an absolute URL or a path) on the same device, replacing what is
 * there. 201 when the destination was new, 204 when it was replaced, 404 when the source
 * is missing. Perlbal answered 400; the spec allows implementing it.
 */
export async function handleMove(
  ctx: NodeContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const source = parseWriteTarget(req.url ?? '/');
  if (!source.ok) return refuseUpload(res, source.status, source.detail);
  const header = req.headers['destination'] as string | undefined;
  if (!header) return refuseUpload(res, 400, 'Destination required');
  const destination = parseWriteTarget(header);
  if (!destination.ok) return refuseUpload(res, destination.status, destination.detail);
  if (source.segments[0] !== destination.segments[0]) {
    return refuseUpload(res, 400, 'MOVE must stay on one device');
  }
  const from = await ctx.fs.resolveWrite(source.segments, false);
  if (!from.ok) return refuseUpload(res, from.status === 409 ? 400 : from.status, from.detail);
  const to = await ctx.fs.resolveWrite(destination.segments, true);
  if (!to.ok) return refuseUpload(res, to.status, to.detail);
  const existed = (await lstat(to.path).catch(() => null)) !== null;
  try {
    await ctx.pathLocks.run(to.path, () => rename(from.path, to.path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return sendPage(res, 404);
    return sendPage(res, statusForWriteError(code));
  }
  ctx.digests.forget(from.path);
  ctx.digests.forget(to.path);
  if (!existed) return sendPage(res, 201);
  res.writeHead(204, { Server: SERVER_HEADER });
  res.end();
}
