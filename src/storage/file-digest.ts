import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';

export type DigestOutcome =
  | { readonly kind: 'ok'; readonly hex: string; readonly bytes: number }
  | { readonly kind: 'missing' }
  | { readonly kind: 'read-error'; readonly offset: number };

const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * Hashes a file by reading every byte of it. The side channel's MD5/SHA-1 must reflect
 * the content on disk, never a stored digest: fsck relies on it to find silent corruption.
 */
export async function digestFile(path: string, algorithm: 'md5' | 'sha1'): Promise<DigestOutcome> {
  let file: FileHandle;
  try {
    file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return { kind: 'missing' };
  }
  try {
    if (!(await file.stat()).isFile()) return { kind: 'missing' };
    return await digestOpenFile(file, algorithm);
  } finally {
    await file.close();
  }
}

/** Hashes every byte of a file already open for reading; the caller closes it. */
export async function digestOpenFile(
  file: FileHandle,
  algorithm: 'md5' | 'sha1',
): Promise<DigestOutcome> {
  const hash = createHash(algorithm);
  const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
  let offset = 0;
  for (;;) {
    let bytesRead: number;
    try {
      ({ bytesRead } = await file.read(buffer, 0, buffer.length, offset));
    } catch {
      return { kind: 'read-error', offset };
    }
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    offset += bytesRead;
  }
  return { kind: 'ok', hex: hash.digest('hex'), bytes: offset };
}
