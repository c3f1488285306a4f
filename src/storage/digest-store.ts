import { getAttribute, removeAttribute, setAttribute } from '@napi-rs/xattr';

/** The checksums of a stored file, computed while its PUT streamed in. */
export interface FileDigest {
  readonly md5: string;
  /** Only for copies ordered with a SHA-1 to match (hash-offload.ts). */
  readonly sha1?: string | undefined;
}

/** The identity of one version of a file: a stored digest is valid only for this one. */
export interface FileVersion {
  readonly ino: bigint;
  readonly size: bigint;
  readonly mtimeNs: bigint;
}

/**
 * Extended attribute holding `v1 <md5> <sha1> <size> <mtimeNs> <ino>`, with `-` for a
 * SHA-1 that was not computed (a node that does not know `-` treats the digest as unknown).
 */
export const DIGEST_XATTR = 'user.mogile.digest';
const CACHE_MAX_ENTRIES = 20_000;

/**
 * Keeps each file's digest in an extended attribute of the file itself: it is written on
 * the temp file before the fsync and the rename, so it lands atomically with the data,
 * costs no extra inode, and follows the file through `cp -a` or `rsync -X`.
 *
 * The attribute records the size, mtime and inode it was computed for. A file changed
 * behind the node's back no longer matches, and its digest is then treated as unknown
 * rather than reported wrongly. A small in-memory cache, keyed by path and checked against
 * the same identity, saves the getxattr call on repeated reads.
 *
 * Filesystems without user xattrs (ENOTSUP) still work; their files have no stored digest.
 */
export class DigestStore {
  readonly #cache = new Map<string, { version: FileVersion; digest: FileDigest }>();

  async save(path: string, version: FileVersion, digest: FileDigest): Promise<boolean> {
    const value = `v1 ${digest.md5} ${digest.sha1 ?? '-'} ${version.size} ${version.mtimeNs} ${version.ino}`;
    try {
      await setAttribute(path, DIGEST_XATTR, value);
      return true;
    } catch {
      return false;
    }
  }

  /** Called after the rename, so later reads of `finalPath` hit the cache. */
  remember(finalPath: string, version: FileVersion, digest: FileDigest): void {
    if (this.#cache.size >= CACHE_MAX_ENTRIES) {
      const oldest = this.#cache.keys().next();
      if (!oldest.done) this.#cache.delete(oldest.value);
    }
    this.#cache.set(finalPath, { version, digest });
  }

  forget(path: string): void {
    this.#cache.delete(path);
  }

  /** Drops the stored digest (a partial PUT is about to change the bytes). */
  async drop(path: string): Promise<void> {
    this.#cache.delete(path);
    try {
      await removeAttribute(path, DIGEST_XATTR);
    } catch {
      // No attribute, or no xattr support: nothing to drop.
    }
  }

  /** The digest of `path` if it was stored for exactly this version of the file. */
  async load(path: string, version: FileVersion): Promise<FileDigest | null> {
    const hit = this.#cache.get(path);
    if (hit && sameVersion(hit.version, version)) return hit.digest;
    let raw: Buffer | null;
    try {
      raw = await getAttribute(path, DIGEST_XATTR);
    } catch {
      return null;
    }
    if (raw === null) return null;
    const parsed = parseDigestAttribute(raw.toString('latin1'));
    if (!parsed || !sameVersion(parsed.version, version)) return null;
    this.remember(path, parsed.version, parsed.digest);
    return parsed.digest;
  }
}

export function parseDigestAttribute(
  text: string,
): { version: FileVersion; digest: FileDigest } | null {
  const match = /^v1 ([0-9a-f]{32}) ([0-9a-f]{40}|-) (\d+) (\d+) (\d+)$/.exec(text);
  if (!match) return null;
  const sha1 = match[2] === '-' ? undefined : match[2];
  return {
    digest: { md5: match[1]!, sha1 },
    version: { size: BigInt(match[3]!), mtimeNs: BigInt(match[4]!), ino: BigInt(match[5]!) },
  };
}

function sameVersion(a: FileVersion, b: FileVersion): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs;
}
