import type { ConfinedFs } from './confined-fs.js';
import type { CopySource } from './copy-source.js';
import type { DeviceRegistry } from './device-registry.js';
import type { DigestStore } from './digest-store.js';
import type { FolderSync } from './folder-sync.js';
import type { HashOffload } from './hash-offload.js';
import type { StorageStats } from './storage-stats.js';

/** Minimal logger shape (pino fits it); the CLI passes pino, tests may pass nothing. */
export interface StorageLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What every request handler of one storage node shares. */
export interface NodeContext {
  readonly registry: DeviceRegistry;
  readonly fs: ConfinedFs;
  readonly digests: DigestStore;
  readonly stats: StorageStats;
  /** Shared folder fsyncs after renames. */
  readonly folderSync: FolderSync;
  /** Hashes large uploads on a worker thread. */
  readonly hashOffload: HashOffload;
  /** Fetches the copies this node pulls from other nodes. */
  readonly copySource: CopySource;
  readonly logger: StorageLogger | undefined;
  /** Serialises partial (Content-Range) writes to the same file. */
  readonly pathLocks: PathLocks;
  /** Signed URLs (docs/security.md); absent when the node has no secret. */
  readonly signing?: SigningPolicy;
}

export interface SigningPolicy {
  readonly secret: string;
  /** GET and HEAD of files need a signature too. */
  readonly appliesToGet: boolean;
}

/** One promise chain per path: `run` waits for earlier work on the same path. */
export class PathLocks {
  readonly #tails = new Map<string, Promise<unknown>>();

  async run<T>(path: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(path) ?? Promise.resolve();
    const current = previous.then(work, work);
    const tail = current.catch(() => undefined);
    this.#tails.set(path, tail);
    try {
      return await current;
    } finally {
      if (this.#tails.get(path) === tail) this.#tails.delete(path);
    }
  }
}
