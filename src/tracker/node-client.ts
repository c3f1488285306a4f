import { createConnection } from 'node:net';
import { bodyBuffer, dumpBody, hexHeader, nodeAgent, nodeRequest } from './node-http.js';
import type { UrlKind } from './storage-urls.js';
import type { UrlSigner } from './url-signer.js';

/** RFC 3230: `SHA` is SHA-1. */
const WANT_SHA1: Readonly<Record<string, string>> = Object.freeze({ 'want-digest': 'SHA' });

/**
 * The tracker's HTTP and side-channel client for storage nodes. One keep-alive agent is
 * shared by every caller; each request has a timeout so a stalled node never holds a
 * command or a monitor round.
 */
export class NodeClient {
  readonly #signer: UrlSigner | undefined;
  readonly #agent = nodeAgent(16);

  /** With a signer, every request is signed and so are the URLs `sign` returns. */
  constructor(signer?: UrlSigner) {
    this.#signer = signer;
  }

  /**
   * The URL signed when the tracker has a secret (docs/security.md), else unchanged. Used
   * for URLs handed to clients and for the workers' own requests.
   */
  sign(url: string, kind: UrlKind = 'upload'): string {
    return this.#signer ? this.#signer.sign(url, kind) : url;
  }

  /**
   * HEAD a file: its status, size and the digests a mogile storage node keeps with it.
   * `wantSha1` asks the node to compute the SHA-1 if it has none (`Want-Digest: SHA`): our
   * nodes hash uploads with MD5 only. Other nodes ignore the header.
   */
  async head(url: string, timeoutMs: number, wantSha1 = false): Promise<HeadResult> {
    const response = await this.#request(
      url,
      'HEAD',
      timeoutMs,
      undefined,
      wantSha1 ? WANT_SHA1 : undefined,
    );
    await dumpBody(response.body);
    const length = response.headers['content-length'];
    return {
      status: response.statusCode,
      sizeBytes: length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined,
      md5: hexHeader(response.headers['x-mogile-md5']),
      sha1: hexHeader(response.headers['x-mogile-sha1']),
    };
  }

  async get(url: string, timeoutMs: number): Promise<{ status: number; body: Buffer }> {
    const response = await this.#request(url, 'GET', timeoutMs);
    return { status: response.statusCode, body: await bodyBuffer(response.body) };
  }

  async put(
    url: string,
    body: string | Buffer,
    timeoutMs: number,
    headers: Record<string, string> = {},
  ): Promise<number> {
    const response = await this.#request(url, 'PUT', timeoutMs, body, {
      'content-type': 'application/octet-stream',
      ...headers,
    });
    await dumpBody(response.body);
    return response.statusCode;
  }

  /** Signed; `timeoutMs` for the response and again for any silence in its body. */
  #request(
    url: string,
    method: string,
    timeoutMs: number,
    body?: string | Buffer,
    headers?: Record<string, string>,
  ) {
    return nodeRequest(this.sign(url), {
      agent: this.#agent,
      method,
      headersTimeoutMs: timeoutMs,
      ...(body !== undefined && { body }),
      ...(headers && { headers }),
    });
  }

  /**
   * Asks a node's side channel (spec storage-node.md §5.2) to read a file and digest it.
   * Undefined when the node cannot answer; `null` when the file is missing.
   */
  sideChannelDigest(
    ip: string,
    port: number,
    uri: string,
    algorithm: 'MD5' | 'SHA-1',
    timeoutMs: number,
  ): Promise<string | null | undefined> {
    return new Promise((resolve) => {
      const socket = createConnection({ host: ip, port });
      let buffered = '';
      const done = (value: string | null | undefined) => {
        socket.destroy();
        resolve(value);
      };
      socket.setTimeout(timeoutMs, () => done(undefined));
      socket.on('error', () => done(undefined));
      socket.on('connect', () => socket.write(`${algorithm} ${uri}\r\n`));
      socket.on('data', (chunk) => {
        buffered += chunk.toString('latin1');
        const end = buffered.indexOf('\n');
        if (end === -1) return;
        const line = buffered.slice(0, end).replace(/\r$/, '');
        const prefix = `${uri} ${algorithm}=`;
        if (!line.startsWith(prefix)) return done(undefined);
        const value = line.slice(prefix.length);
        if (value === '-1') return done(null);
        done(/^[0-9a-f]{32,128}$/.test(value) ? value : undefined);
      });
    });
  }

  async close(): Promise<void> {
    this.#agent.destroy();
  }
}

export interface HeadResult {
  readonly status: number;
  readonly sizeBytes?: number | undefined;
  /** Lower-case hex, when the node keeps digests (mogile storage nodes do). */
  readonly md5?: string | undefined;
  readonly sha1?: string | undefined;
}
