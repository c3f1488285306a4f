import { type Checksum, parseChecksum } from '../../client/checksum.js';
import { parseLocatedFile } from '../../client/file-replies.js';
import { TrackerPool } from '../../client/tracker-pool.js';

/** Where a file's copies are, and what every copy must read as. */
export interface FileLocation {
  readonly paths: readonly string[];
  readonly lengthBytes: number;
  /** Undefined for files stored without one (e.g. by an old tracker). */
  readonly checksum: Checksum | undefined;
}

/**
 * Asks this tracker's own protocol listener where a file is (`get_paths`), as every other
 * client does: URL signing and the invariant checks of get_paths apply to the gateway too,
 * and the echoed domain and key are checked (architecture.md §4.1).
 */
export class FileLocator {
  readonly #pool: TrackerPool;

  constructor(trackerAddress: string) {
    this.#pool = new TrackerPool({
      trackers: [trackerAddress],
      connectTimeoutMs: 2000,
      requestTimeoutMs: 5000,
      deadTrackerRetryMs: 1000,
      maxIdlePerTracker: 16,
      idleTimeoutMs: 30_000,
    });
  }

  /** `verify` has the tracker HEAD the first copy (for reproxy, where we read nothing). */
  async locate(domain: string, key: string, verify: boolean): Promise<FileLocation> {
    const reply = await this.#pool.request('get_paths', {
      domain,
      key,
      noverify: verify ? 0 : 1,
      pathcount: 10,
    });
    const located = parseLocatedFile(reply, domain, key);
    return {
      paths: located.paths,
      lengthBytes: located.lengthBytes ?? Number.NaN,
      checksum: parseChecksum(located.checksum),
    };
  }

  close(): void {
    this.#pool.close();
  }
}
