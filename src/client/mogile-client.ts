import type { Readable } from 'node:stream';
import { Agent } from 'undici';
import { parseChecksum } from './checksum.js';
import {
  invalidOption,
  nonEmptyString,
  positiveNumber,
  type TrackerClientOptions,
  trackerPoolOptions,
} from './client-options.js';
import { MogileClientError } from './errors.js';
import {
  type FileDebugInfo,
  type FileInfo,
  type KeyPage,
  type LocatedFile,
  parseDestinations,
  parseFileDebug,
  parseFileInfo,
  parseKeyPage,
  parseLocatedFile,
} from './file-replies.js';
import { downloadFirstGood, type ExpectedFile } from './storage-download.js';
import { type Destination, uploadToFirstAccepting } from './storage-upload.js';
import { TrackerPool } from './tracker-pool.js';
import { openUploadSource, type StoreSource } from './upload-source.js';

export interface MogileClientOptions extends TrackerClientOptions {
  /** The domain every file command works in. */
  readonly domain: string;
  /** Connect timeout towards storage nodes. Default 3000 (as the Perl client). */
  readonly storageConnectTimeoutMs?: number;
  /** Longest silence allowed while reading from or writing to a storage node. Default 30000. */
  readonly storageIdleTimeoutMs?: number;
  /** Files up to this size are verified whole before a stream is handed out. Default 1 MiB. */
  readonly verifyBeforeStreamBytes?: number;
}

export interface StoreOptions {
  readonly class?: string | undefined;
  /** Byte size of a stream source, if known (lets the tracker pick devices with room). */
  readonly sizeBytes?: number | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Called as bytes of a stream or file are handed to the storage node (bytes so far). */
  readonly onProgress?: ((sentBytes: number) => void) | undefined;
}

export interface StoreResult {
  readonly fid: number;
  readonly sizeBytes: number;
  /** `MD5:<hex>` of the bytes sent, as recorded by the tracker. */
  readonly checksum: string;
  readonly devid: number;
}

export interface GetOptions {
  readonly signal?: AbortSignal | undefined;
  /** Skip checksum verification (length is still checked). Default false. */
  readonly skipVerify?: boolean | undefined;
  /** Passed to get_paths. */
  readonly pathcount?: number | undefined;
}

export interface GetPathsOptions {
  /** Default true: we verify the bytes ourselves, so the tracker need not HEAD each copy. */
  readonly noverify?: boolean | undefined;
  readonly pathcount?: number | undefined;
  readonly zone?: string | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface ListOptions {
  readonly after?: string | undefined;
  /** Keys per page (the tracker caps it at 1000). */
  readonly limit?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * A MogileFS client for one domain: tracker requests with callid checks and failover
 * (TrackerPool), uploads and downloads with undici, checksums verified both ways.
 */
export class MogileClient {
  readonly #domain: string;
  readonly #pool: TrackerPool;
  readonly #storage: Agent;
  readonly #verifyBeforeStreamBytes: number;

  constructor(options: MogileClientOptions) {
    const poolOptions = trackerPoolOptions(options, 3000);
    this.#domain = nonEmptyString(options, 'domain');
    const storageConnectTimeoutMs = positiveNumber(options, 'storageConnectTimeoutMs', 3000);
    const storageIdleTimeoutMs = positiveNumber(options, 'storageIdleTimeoutMs', 30_000);
    this.#verifyBeforeStreamBytes = positiveNumber(options, 'verifyBeforeStreamBytes', 1024 * 1024);
    this.#pool = new TrackerPool(poolOptions);
    this.#storage = new Agent({
      connect: { timeout: storageConnectTimeoutMs },
      headersTimeout: storageIdleTimeoutMs,
      bodyTimeout: storageIdleTimeoutMs,
    });
  }

  get domain(): string {
    return this.#domain;
  }

  /**
   * Uploads a file: `create_open` (up to three destinations), PUT to the first that takes
   * it while hashing, then `create_close` with size and `MD5:<hex>`, which our tracker
   * verifies against the stored copy before it binds the key.
   */
  async store(key: string, source: StoreSource, options: StoreOptions = {}): Promise<StoreResult> {
    checkKey(key);
    const upload = await openUploadSource(source, options.sizeBytes, options.onProgress);
    const signal = options.signal;
    const opened = await this.#pool.request(
      'create_open',
      {
        domain: this.#domain,
        key,
        class: options.class,
        fid: 0,
        multi_dest: 1,
        size: upload.sizeBytes ? upload.sizeBytes : undefined,
      },
      { signal },
    );
    const fid = Number(opened.get('fid'));
    if (!Number.isSafeInteger(fid) || fid <= 0) {
      throw new MogileClientError('EBAD_REPLY', 'create_open reply has no valid fid', {
        command: 'create_open',
      });
    }
    const destinations = parseDestinations(opened);
    let result: Awaited<ReturnType<typeof uploadToFirstAccepting>>;
    try {
      result = await uploadToFirstAccepting(this.#storage, destinations, upload, signal);
    } catch (error) {
      await this.#abandon(fid, destinations[0]!);
      throw error;
    }
    const checksum = `MD5:${result.md5Hex}`;
    await this.#pool.request(
      'create_close',
      {
        fid,
        devid: result.destination.devid,
        path: result.destination.path,
        domain: this.#domain,
        key,
        size: result.sizeBytes,
        checksum,
      },
      { signal },
    );
    return { fid, sizeBytes: result.sizeBytes, checksum, devid: result.destination.devid };
  }

  /** Reads a file whole, from the first copy that is complete and matches its checksum. */
  get(key: string, options: GetOptions & { readonly as?: 'buffer' }): Promise<Buffer>;
  /**
   * Streams a file. Copies that fail before the first byte is handed out are skipped;
   * a checksum mismatch found later makes the stream emit ECHECKSUM_MISMATCH.
   */
  get(key: string, options: GetOptions & { readonly as: 'stream' }): Promise<Readable>;
  get(key: string): Promise<Buffer>;
  async get(
    key: string,
    options: GetOptions & { readonly as?: 'buffer' | 'stream' } = {},
  ): Promise<Buffer | Readable> {
    checkKey(key);
    const signal = options.signal;
    const located = await this.#locate(key, { pathcount: options.pathcount, signal });
    // A mogile tracker sends length and checksum with the paths; ask others with file_info.
    const info =
      located.lengthBytes === undefined || located.checksum === undefined
        ? await this.info(key, { signal }).catch((error: unknown) => {
            if (error instanceof MogileClientError && error.code === 'unknown_key') throw error;
            return undefined;
          })
        : undefined;
    const expected: ExpectedFile = {
      domain: this.#domain,
      key,
      lengthBytes: located.lengthBytes ?? info?.lengthBytes,
      checksum: options.skipVerify ? undefined : parseChecksum(located.checksum ?? info?.checksum),
    };
    return downloadFirstGood(this.#storage, located.paths, expected, options.as ?? 'buffer', {
      signal,
      verifyBeforeStreamBytes: options.skipVerify ? 0 : this.#verifyBeforeStreamBytes,
    });
  }

  async getPaths(key: string, options: GetPathsOptions = {}): Promise<string[]> {
    checkKey(key);
    return (await this.#locate(key, options)).paths;
  }

  /** `get_paths`, with the echoed domain and key checked (architecture.md §4.1). */
  async #locate(key: string, options: GetPathsOptions): Promise<LocatedFile> {
    const reply = await this.#pool.request(
      'get_paths',
      {
        domain: this.#domain,
        key,
        noverify: options.noverify ?? true,
        pathcount: options.pathcount,
        zone: options.zone,
      },
      { signal: options.signal },
    );
    return parseLocatedFile(reply, this.#domain, key);
  }

  /** Deletes a key; fails with `unknown_key` when it does not exist. */
  async delete(key: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    checkKey(key);
    await this.#pool.request('delete', { domain: this.#domain, key }, options);
  }

  /** Renames a key; fails with `unknown_key` or `key_exists`. */
  async rename(
    fromKey: string,
    toKey: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    checkKey(fromKey);
    checkKey(toKey);
    await this.#pool.request(
      'rename',
      { domain: this.#domain, from_key: fromKey, to_key: toKey },
      options,
    );
  }

  async updateClass(
    key: string,
    className: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    checkKey(key);
    if (className === '') throw invalidOption('class', 'must be a non-empty string');
    await this.#pool.request(
      'updateclass',
      { domain: this.#domain, key, class: className },
      options,
    );
  }

  async info(
    key: string,
    options: { devices?: boolean; signal?: AbortSignal } = {},
  ): Promise<FileInfo> {
    checkKey(key);
    const reply = await this.#pool.request(
      'file_info',
      { domain: this.#domain, key, devices: options.devices ? 1 : undefined },
      { signal: options.signal },
    );
    return parseFileInfo(reply);
  }

  async debug(
    target: { readonly key: string } | { readonly fid: number },
    options: { signal?: AbortSignal } = {},
  ): Promise<FileDebugInfo> {
    if ('key' in target) checkKey(target.key);
    const args = 'fid' in target ? { fid: target.fid } : { domain: this.#domain, key: target.key };
    return parseFileDebug(await this.#pool.request('file_debug', args, options));
  }

  /** One page of keys; an empty page when nothing (more) matches. */
  async listKeys(prefix = '', options: ListOptions = {}): Promise<KeyPage> {
    try {
      const reply = await this.#pool.request(
        'list_keys',
        {
          domain: this.#domain,
          prefix: prefix === '' ? undefined : prefix,
          after: options.after,
          limit: options.limit,
        },
        { signal: options.signal },
      );
      return parseKeyPage(reply);
    } catch (error) {
      if (error instanceof MogileClientError && error.code === 'none_match') {
        return { keys: [], nextAfter: undefined };
      }
      throw error;
    }
  }

  /** Every key with the prefix, page by page (`list_keys` with `after = next_after`). */
  async *list(prefix = '', options: ListOptions = {}): AsyncIterableIterator<string[]> {
    let after = options.after;
    for (;;) {
      const page = await this.listKeys(prefix, { ...options, after });
      if (page.keys.length === 0) return;
      yield [...page.keys];
      if (page.nextAfter === undefined || page.nextAfter === after) return;
      after = page.nextAfter;
    }
  }

  /** Closes idle tracker connections and the storage connection pool. */
  async close(): Promise<void> {
    this.#pool.close();
    await this.#storage.close();
  }

  /** `create_close` without a key tells the tracker to delete what was uploaded (§5.2 step 8). */
  async #abandon(fid: number, destination: Destination): Promise<void> {
    await this.#pool
      .request('create_close', {
        fid,
        devid: destination.devid,
        path: destination.path,
        domain: this.#domain,
      })
      .catch(() => undefined);
  }
}

function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key === '')
    throw invalidOption('key', 'must be a non-empty string');
}
