import { createHash } from 'node:crypto';
import type { Agent, IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { StoredChecksum } from '../meta/index.js';
import { parseFidPath } from '../protocol/fid-path.js';
import type { DeviceView } from '../tracker/device-state.js';
import type { NodeClient } from '../tracker/node-client.js';
import {
  dumpBody,
  hexHeader,
  type NodeResponse,
  nodeAgent,
  nodeRequest,
} from '../tracker/node-http.js';
import { storageUrl } from '../tracker/storage-urls.js';
import { pullCopy } from './pull-copy.js';

/** Files up to this size may be copied from a buffer instead of a stream relay. */
const SMALL_COPY_BYTES = 1024 * 1024;
/**
 * What all buffered copies may hold at once. A copy that would pass it streams instead,
 * so many concurrent copies of small files cannot add up to a spike of memory.
 */
const BUFFERED_COPIES_BYTES = 8 * 1024 * 1024;
/** How long copies to a node that could not pull one are relayed before it is asked again. */
const RELAY_MEMORY_MS = 10 * 60 * 1000;

export interface CopyRequest {
  readonly fid: number;
  readonly lengthBytes: number;
  readonly source: DeviceView;
  readonly destination: DeviceView;
  /** The fid's checksum row; the copy must match it. */
  readonly stored: StoredChecksum | undefined;
}

export type CopyResult =
  | {
      readonly ok: true;
      readonly digest: StoredChecksum;
      /** Set when the bytes passed through the tracker instead of going node to node. */
      readonly relayed?: true;
    }
  | {
      readonly ok: false;
      readonly side: 'source' | 'destination';
      readonly reason: string;
      /**
       * Set when the failure means stored state contradicts the metadata (architecture.md
       * §4.5): a recorded copy missing or of the wrong size or digest, a copy whose digest
       * is not the fid's, a URL that would not name the fid on its device.
       */
      readonly breach?: true;
    };

export interface NodeCopierOptions {
  readonly nodes: NodeClient;
  readonly mogstoredStreamPort: number;
  /** Time to wait for response headers. */
  readonly headersTimeoutMs: number;
  /** Longest silence while bytes flow (45 s in the original, §6.3). */
  readonly idleTimeoutMs?: number;
  /** Connections per storage node. */
  readonly connections?: number;
  /**
   * Ask the destination node to fetch the copy from the source itself (config
   * `copies_between_nodes`, default on); copies it cannot pull are relayed.
   */
  readonly betweenNodes?: boolean;
  /**
   * Read sources from their host's `http_get_port` (config `repl_use_get_port`); by
   * default from `http_port`, as the original does (behaviour.md §6.3).
   */
  readonly sourceFromGetPort?: boolean;
  /** Milliseconds since the epoch; injectable for tests. */
  readonly now?: () => number;
  /** Told when copies to a node start being relayed, and why. */
  readonly logger?: { warn(obj: object, msg?: string): void } | undefined;
}

interface Algorithm {
  readonly node: 'md5' | 'sha1';
  readonly side: 'MD5' | 'SHA-1';
}

/** A copy's two signed URLs and the digest it is checked with. */
interface CopyUrls {
  readonly sourceUrl: string;
  readonly destUrl: string;
  readonly algorithm: Algorithm;
}

const ALGORITHMS: Readonly<Record<number, Algorithm>> = {
  1: { node: 'md5', side: 'MD5' },
  2: { node: 'sha1', side: 'SHA-1' },
};

/**
 * Copies a fid node to node (behaviour.md §6.3). Where the destination runs mogile, it
 * fetches the copy from the source itself, given the length and checksum to expect
 * (pull-copy.ts). Otherwise (mogstored, or nodes that cannot reach each other) the
 * source's GET body is relayed into the destination's PUT, never held whole in memory,
 * and digested on the way. Either way the copy counts only once the destination's own
 * digest of what it stored matches the fid's checksum (architecture.md §4.4).
 */
export class NodeCopier {
  readonly #options: NodeCopierOptions;
  readonly #agent: Agent;
  readonly #now: () => number;
  /** Longest silence while bytes flow (45 s in the original, §6.3). */
  readonly #idleMs: number;
  #bufferedBytes = 0;
  /** Routes (`source>destination` host ids, or `>destination`) relayed until a time. */
  readonly #relayUntil = new Map<string, number>();

  constructor(options: NodeCopierOptions) {
    this.#options = options;
    this.#agent = nodeAgent(options.connections ?? 32);
    this.#now = options.now ?? Date.now;
    this.#idleMs = options.idleTimeoutMs ?? 45_000;
  }

  async copy(copy: CopyRequest): Promise<CopyResult> {
    const hashtype = copy.stored?.hashtype ?? 1;
    const algorithm = ALGORITHMS[hashtype];
    if (!algorithm) return { ok: false, side: 'source', reason: `unknown hashtype ${hashtype}` };
    // Replication signs its own requests when the cluster has a secret (docs/security.md).
    const { nodes } = this.#options;
    const sourceUrl = nodes.sign(
      storageUrl(
        copy.source.host,
        copy.source.device.devid,
        copy.fid,
        this.#options.sourceFromGetPort ? 'read' : 'upload',
      ),
    );
    const destUrl = nodes.sign(
      storageUrl(copy.destination.host, copy.destination.device.devid, copy.fid, 'upload'),
    );
    for (const [side, url, devid] of [
      ['source', sourceUrl, copy.source.device.devid],
      ['destination', destUrl, copy.destination.device.devid],
    ] as const) {
      if (!namesFid(url, copy.fid, devid)) {
        return {
          ok: false,
          side,
          reason: `${url} does not name fid ${copy.fid} on dev${devid}`,
          breach: true,
        };
      }
    }
    const urls = { sourceUrl, destUrl, algorithm };
    const route = `${copy.source.host.hostid}>${copy.destination.host.hostid}`;
    const destinationOnly = `>${copy.destination.host.hostid}`;
    if (this.#pulls(route) && this.#pulls(destinationOnly)) {
      const pulled = await pullCopy(
        this.#agent,
        { ...urls, lengthBytes: copy.lengthBytes, stored: copy.stored, algorithm: algorithm.node },
        {
          headersTimeoutMs: this.#options.headersTimeoutMs,
          idleTimeoutMs: this.#idleMs,
        },
      );
      if (typeof pulled !== 'string') return pulled;
      // The node cannot pull at all, or not from this source: relay for a while.
      this.#relayUntil.set(
        pulled === 'unsupported' ? destinationOnly : route,
        this.#now() + RELAY_MEMORY_MS,
      );
      this.#options.logger?.warn(
        {
          destination: copy.destination.host.name,
          ...(pulled === 'unreachable' && { source: copy.source.host.name }),
          minutes: RELAY_MEMORY_MS / 60_000,
        },
        pulled === 'unsupported'
          ? 'node does not pull copies: relaying its copies through the tracker'
          : 'node cannot reach the source: relaying those copies through the tracker',
      );
    }
    const relayed = await this.#relay(copy, urls);
    return relayed.ok ? { ...relayed, relayed: true } : relayed;
  }

  /** Whether copies along a route may be pulled (not relayed) now. */
  #pulls(route: string): boolean {
    if (this.#options.betweenNodes === false) return false;
    const until = this.#relayUntil.get(route);
    if (until === undefined) return true;
    if (until > this.#now()) return false;
    this.#relayUntil.delete(route);
    return true;
  }

  async #relay(copy: CopyRequest, urls: CopyUrls): Promise<CopyResult> {
    const buffered =
      copy.lengthBytes <= SMALL_COPY_BYTES &&
      this.#bufferedBytes + copy.lengthBytes <= BUFFERED_COPIES_BYTES;
    const reserved = buffered ? copy.lengthBytes : 0;
    this.#bufferedBytes += reserved;
    try {
      return await this.#relayCopy(copy, urls, buffered);
    } finally {
      this.#bufferedBytes -= reserved;
    }
  }

  async #relayCopy(copy: CopyRequest, urls: CopyUrls, buffered: boolean): Promise<CopyResult> {
    const { sourceUrl, destUrl, algorithm } = urls;
    const hashtype = copy.stored?.hashtype ?? 1;
    const idle = this.#idleMs;
    let get: NodeResponse;
    try {
      get = await nodeRequest(sourceUrl, {
        agent: this.#agent,
        headersTimeoutMs: this.#options.headersTimeoutMs,
        bodyIdleMs: idle,
      });
    } catch (error) {
      return { ok: false, side: 'source', reason: `GET failed: ${(error as Error).message}` };
    }
    const length = get.headers['content-length'];
    if (get.statusCode < 200 || get.statusCode > 299 || Number(length) !== copy.lengthBytes) {
      get.body.destroy();
      const found = get.statusCode === 404 || (get.statusCode >= 200 && get.statusCode <= 299);
      return {
        ok: false,
        side: 'source',
        reason: `GET answered ${get.statusCode} with length ${String(length)}, expected ${copy.lengthBytes}`,
        ...(found && { breach: true as const }),
      };
    }

    const hash = createHash(algorithm.node);
    let sourceFailure: Error | undefined;
    let body: Buffer | Readable;
    if (buffered) {
      // Small files are read whole: cheaper than a stream relay, and the PUT body is complete
      // before it is sent, so the connections stay reusable.
      try {
        body = await readWhole(get.body, copy.lengthBytes);
      } catch (error) {
        return { ok: false, side: 'source', reason: `GET broke: ${(error as Error).message}` };
      }
      hash.update(body);
    } else {
      body = Readable.from(relay(), { objectMode: false });
    }
    async function* relay(): AsyncGenerator<Buffer> {
      try {
        for await (const chunk of get.body) {
          hash.update(chunk as Buffer);
          yield chunk as Buffer;
        }
      } catch (error) {
        sourceFailure = error as Error;
        throw error;
      }
    }
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'content-length': String(copy.lengthBytes),
    };
    // The node then refuses a body that does not match (§6.3).
    if (copy.stored?.hashtype === 1) {
      headers['content-md5'] = Buffer.from(copy.stored.digest).toString('base64');
    }
    let putStatus: number;
    let putDigest: string | undefined;
    try {
      const put = await nodeRequest(destUrl, {
        method: 'PUT',
        body,
        headers,
        agent: this.#agent,
        headersTimeoutMs: this.#options.headersTimeoutMs,
        bodyIdleMs: idle,
      });
      await dumpBody(put.body);
      putStatus = put.statusCode;
      putDigest = hexHeader(put.headers[`x-mogile-${algorithm.node}`]);
    } catch (error) {
      get.body.destroy();
      if (sourceFailure)
        return { ok: false, side: 'source', reason: `GET broke: ${sourceFailure.message}` };
      return { ok: false, side: 'destination', reason: `PUT failed: ${(error as Error).message}` };
    }
    const streamed = hash.digest();
    if (copy.stored && !streamed.equals(Buffer.from(copy.stored.digest))) {
      await this.delete(destUrl).catch(() => undefined);
      return { ok: false, side: 'source', reason: 'checksum mismatch on GET', breach: true };
    }
    if (putStatus < 200 || putStatus > 299) {
      return { ok: false, side: 'destination', reason: `PUT answered ${putStatus}` };
    }
    const expected = streamed.toString('hex');
    const stored = putDigest ?? (await this.#destinationDigest(copy, destUrl, algorithm));
    if (stored === undefined) {
      return { ok: false, side: 'destination', reason: 'copy could not be verified' };
    }
    if (stored !== expected) {
      return {
        ok: false,
        side: 'destination',
        reason: 'checksum mismatch on the copy',
        breach: true,
      };
    }
    return { ok: true, digest: { hashtype, digest: new Uint8Array(streamed) } };
  }

  /** DELETE a copy: its HTTP status, or undefined when the node did not answer. */
  async delete(url: string): Promise<number | undefined> {
    try {
      const response = await nodeRequest(this.#options.nodes.sign(url), {
        method: 'DELETE',
        agent: this.#agent,
        headersTimeoutMs: this.#options.headersTimeoutMs,
      });
      await dumpBody(response.body);
      return response.statusCode;
    } catch {
      return undefined;
    }
  }

  async close(): Promise<void> {
    this.#agent.destroy();
  }

  /** A node that sent no digest header: HEAD, then the side channel (§6.3). */
  async #destinationDigest(
    copy: CopyRequest,
    destUrl: string,
    algorithm: Algorithm,
  ): Promise<string | undefined> {
    const timeoutMs = this.#options.headersTimeoutMs;
    const head = await this.#options.nodes
      .head(destUrl, timeoutMs, algorithm.node === 'sha1')
      .catch(() => undefined);
    const fromHead = head?.[algorithm.node];
    if (fromHead) return fromHead;
    const uri = new URL(destUrl).pathname;
    const digest = await this.#options.nodes.sideChannelDigest(
      copy.destination.host.ip,
      this.#options.mogstoredStreamPort,
      uri,
      algorithm.side,
      timeoutMs,
    );
    return digest ?? undefined;
  }
}

/** A URL's path must be the fid's own path on that device (spec/storage-node.md §2). */
function namesFid(url: string, fid: number, devid: number): boolean {
  const named = parseFidPath(new URL(url).pathname);
  return named !== null && named.fid === BigInt(fid) && named.devid === BigInt(devid);
}

/** A body of a known length, read into one buffer of that size. */
async function readWhole(body: IncomingMessage, length: number): Promise<Buffer> {
  const whole = Buffer.allocUnsafe(length);
  let filled = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    if (filled + chunk.length > length) throw new Error(`body longer than ${length} bytes`);
    filled += chunk.copy(whole, filled);
  }
  if (filled !== length) throw new Error(`body ended after ${filled} of ${length} bytes`);
  return whole;
}
