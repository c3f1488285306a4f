import type { FileHandle } from 'node:fs/promises';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { FileDigest, FileVersion } from './digest-store.js';
import { digestOpenFile } from './file-digest.js';
import type { NodeContext } from './node-context.js';

/**
 * True when a GET or HEAD asks for the file's SHA-1 with `Want-Digest: SHA` (RFC 3230,
 * where `SHA` names SHA-1; `SHA-1` is taken too). The tracker asks this way when it records
 * a SHA-1, since uploads are hashed with MD5 only.
 */
export function wantsSha1(req: IncomingMessage): boolean {
  const header = req.headers['want-digest'];
  if (header === undefined) return false;
  const text = Array.isArray(header) ? header.join(',') : header;
  return text.split(',').some((entry) => {
    const [token = '', ...params] = entry.split(';').map((part) => part.trim().toLowerCase());
    const refused = params.some((param) => /^q=0(\.0*)?$/.test(param));
    return (token === 'sha' || token === 'sha-1') && !refused;
  });
}

/**
 * The stored digest with its SHA-1, computed from the open file when it was not stored, and
 * kept for the next request when the MD5 is known (the attribute names the same version).
 * Without a stored MD5, the SHA-1 still goes out in its header, and nothing is stored.
 */
export async function withSha1(
  ctx: NodeContext,
  file: FileHandle,
  path: string,
  version: FileVersion,
  stored: FileDigest | null,
  headers: OutgoingHttpHeaders,
): Promise<FileDigest | null> {
  if (stored?.sha1 !== undefined) return stored;
  const outcome = await digestOpenFile(file, 'sha1');
  if (outcome.kind !== 'ok') return stored;
  if (!stored) {
    headers['X-Mogile-SHA1'] = outcome.hex;
    return null;
  }
  const digest: FileDigest = { md5: stored.md5, sha1: outcome.hex };
  if (await ctx.digests.save(path, version, digest)) ctx.digests.remember(path, version, digest);
  return digest;
}
