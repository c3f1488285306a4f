import { mkdir, realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Device, DeviceRegistry } from './device-registry.js';

/** Where a request may touch the disk, once symlinks are resolved. */
export type ConfinedResult =
  | { readonly ok: true; readonly path: string; readonly device: Device | undefined }
  | { readonly ok: false; readonly status: 403 | 404 | 409; readonly detail: string };

const CACHE_TTL_MS = 2000;
const CACHE_MAX_ENTRIES = 8192;

/**
 * The filesystem half of path safety: resolves the folder of a target with realpath and
 * checks that it stays inside its device (or the docroot), so a symlink planted inside the
 * tree cannot lead a request outside. The last path component is opened with O_NOFOLLOW by
 * the handlers. Resolved folders are cached briefly: the hot path then costs no extra
 * system call, and a folder swapped for a symlink is noticed within CACHE_TTL_MS.
 */
export class ConfinedFs {
  readonly #registry: DeviceRegistry;
  readonly #docrootReal: string;
  readonly #cache = new Map<string, { real: string; expiresMs: number }>();

  constructor(registry: DeviceRegistry, docrootReal: string) {
    this.#registry = registry;
    this.#docrootReal = docrootReal;
  }

  get docrootReal(): string {
    return this.#docrootReal;
  }

  /** For reads: the path to open (its last component must be opened without following). */
  async resolveRead(segments: readonly string[]): Promise<ConfinedResult> {
    if (segments.length === 0) return { ok: true, path: this.#docrootReal, device: undefined };
    const device = await this.#registry.lookup(segments[0]!);
    if (segments.length === 1) {
      return { ok: true, path: device?.realPath ?? join(this.#docrootReal, segments[0]!), device };
    }
    const root = device?.realPath ?? this.#docrootReal;
    const folder = join(root, ...segments.slice(device ? 1 : 0, -1));
    const real = await this.#realFolder(folder);
    if (real === null) return { ok: false, status: 404, detail: '' };
    if (!isInside(real, root)) return { ok: false, status: 403, detail: 'Bogus URL' };
    return { ok: true, path: join(real, segments.at(-1)!), device };
  }

  /**
   * For writes: segments come from parseWriteTarget (`devN/...`). The device must exist
   * (404 otherwise, as Perlbal's "Base directory does not exist"); missing folders are
   * created (mode 0755) when `create` is set, after checking their nearest existing
   * ancestor is inside the device.
   */
  async resolveWrite(segments: readonly string[], create: boolean): Promise<ConfinedResult> {
    const device = await this.#registry.lookup(segments[0]!);
    if (!device) return { ok: false, status: 404, detail: 'Base directory does not exist' };
    const folder = join(device.realPath, ...segments.slice(1, -1));
    let real = await this.#realFolder(folder);
    if (real === null) {
      if (!create) return { ok: false, status: 404, detail: '' };
      const made = await this.#createFolder(folder, device.realPath);
      if (!made.ok) return made;
      real = await this.#realFolder(folder);
      if (real === null) return { ok: false, status: 409, detail: 'Cannot create directory' };
    }
    if (!isInside(real, device.realPath)) return { ok: false, status: 403, detail: 'Bogus URL' };
    return { ok: true, path: join(real, segments.at(-1)!), device };
  }

  /** Creates `folder` (and parents) below `root`; used by PUT and MKCOL. */
  async #createFolder(folder: string, root: string): Promise<ConfinedResult> {
    let ancestor = dirname(folder);
    let realAncestor = await this.#realFolder(ancestor);
    while (realAncestor === null && ancestor.length > root.length) {
      ancestor = dirname(ancestor);
      realAncestor = await this.#realFolder(ancestor);
    }
    if (realAncestor === null || !isInside(realAncestor, root)) {
      return { ok: false, status: 403, detail: 'Bogus URL' };
    }
    try {
      await mkdir(folder, { recursive: true, mode: 0o755 });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR' || code === 'EEXIST') {
        return { ok: false, status: 409, detail: 'A path component is not a directory' };
      }
      throw error;
    }
    return { ok: true, path: folder, device: undefined };
  }

  async #realFolder(folder: string): Promise<string | null> {
    const now = Date.now();
    const hit = this.#cache.get(folder);
    if (hit && hit.expiresMs > now) return hit.real;
    try {
      const real = await realpath(folder);
      if (this.#cache.size >= CACHE_MAX_ENTRIES) this.#cache.clear();
      this.#cache.set(folder, { real, expiresMs: now + CACHE_TTL_MS });
      return real;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return null;
      throw error;
    }
  }
}

export function isInside(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith('/') ? root : `${root}/`);
}
