import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context } from 'hono';
import type { Logger } from 'pino';
import { Agent } from 'undici';
import { type Checksum, formatChecksum, parseChecksum } from '../../client/checksum.js';
import { checksumMismatchChannel } from '../../client/diagnostics.js';
import { MogileClientError } from '../../client/errors.js';
import type { FileInfo } from '../../client/file-replies.js';
import type { MogileClient } from '../../client/mogile-client.js';
import type { GatewayReproxy } from '../../tracker/config.js';
import type { TrackerMetrics } from '../tracker-metrics.js';
import type { WebSources } from '../web-sources.js';
import { DomainClients } from './domain-clients.js';
import { type ByteSpan, parseRangeHeader } from './range-header.js';
import { type ReproxyFormat, reproxyHeaders } from './reproxy-headers.js';
import { CopyRejected, checkCopy, digestOf, openCopy } from './verified-copy.js';

export interface FileGatewayOptions {
  readonly sources: WebSources;
  readonly metrics: TrackerMetrics;
  readonly logger?: Logger | undefined;
  /** Files up to this size are read whole and verified in memory before the first byte. */
  readonly bufferMaxBytes?: number;
}

export type GatewayContext = Context<{ Bindings: HttpBindings }>;

const DEFAULT_BUFFER_MAX_BYTES = 16 * 1024 * 1024;

/** A failure with the HTTP status it is answered with. */
class GatewayError extends Error {
  readonly status: 404 | 416 | 502 | 503 | 500;

  constructor(status: GatewayError['status'], message: string) {
    super(message);
    this.status = status;
  }
}

/**
 * `GET|HEAD /file/{domain}/{key}`: serves a stored file over plain HTTP. Bytes reach the
 * client only from a copy whose checksum was verified first (architecture.md §4.4); a
 * corrupt copy is skipped for the next one, and with no good copy left the answer is 502.
 * With reproxy on, the answer is instead a header that sends Perlbal or nginx to the
 * storage node itself.
 */
export class FileGateway {
  readonly #sources: WebSources;
  readonly #metrics: TrackerMetrics;
  readonly #logger: Logger | undefined;
  readonly #bufferMaxBytes: number;
  readonly #clients: DomainClients;
  readonly #agent = new Agent({ keepAliveTimeout: 10_000, connections: 32 });
  readonly #onMismatch = () => this.#metrics.gatewayChecksumMismatches.inc();

  constructor(options: FileGatewayOptions) {
    this.#sources = options.sources;
    this.#metrics = options.metrics;
    this.#logger = options.logger;
    this.#bufferMaxBytes = options.bufferMaxBytes ?? DEFAULT_BUFFER_MAX_BYTES;
    this.#clients = new DomainClients(options.sources.trackerAddress);
    // The gateway's clients are the only MogileClients in the tracker process.
    checksumMismatchChannel.subscribe(this.#onMismatch);
  }

  async handle(c: GatewayContext): Promise<Response> {
    const method = c.req.method === 'HEAD' ? 'HEAD' : 'GET';
    let result = 'error';
    try {
      const response = await this.#serve(c, method);
      result = response === RESPONSE_ALREADY_SENT ? 'streamed' : String(response.status);
      if (response.headers.has('X-Accel-Redirect') || response.headers.has('X-REPROXY-URL')) {
        result = 'reproxied';
      }
      return response;
    } catch (error) {
      const failure = toGatewayError(error);
      result = String(failure.status);
      if (failure.status >= 500) {
        this.#logger?.warn({ err: error, path: c.req.path }, 'gateway could not serve a file');
      }
      return c.text(`${failure.message}\n`, failure.status);
    } finally {
      this.#metrics.gatewayRequests.inc({ method, result });
    }
  }

  async close(): Promise<void> {
    checksumMismatchChannel.unsubscribe(this.#onMismatch);
    await this.#clients.close();
    await this.#agent.close();
  }

  async #serve(c: GatewayContext, method: 'GET' | 'HEAD'): Promise<Response> {
    const domain = c.req.param('domain') ?? '';
    const key = c.req.param('key') ?? '';
    const snapshot = await this.#sources.services.cluster.current();
    if (!snapshot.domain(domain)) throw new GatewayError(404, `unknown domain ${domain}`);
    const client = this.#clients.get(domain);
    const info = await client.info(key);
    const reproxy = reproxyFormat(c.req.query('reproxy'), this.#sources.config.gatewayReproxy);
    if (reproxy && method === 'GET') {
      const paths = await client.getPaths(key, { noverify: false });
      if (paths.length === 0) throw new GatewayError(503, `no readable copy of ${key}`);
      const headers = reproxyHeaders(
        reproxy,
        paths,
        info.lengthBytes,
        this.#sources.config.gatewayNginxPrefix,
      );
      return c.body(null, 200, { ...headers, 'Content-Length': '0' });
    }
    const span = parseRangeHeader(c.req.header('range'), info.lengthBytes);
    if (span === 'unsatisfiable') {
      return c.body(null, 416, { 'Content-Range': `bytes */${info.lengthBytes}` });
    }
    const headers = fileHeaders(info, span);
    const status = span ? 206 : 200;
    if (method === 'HEAD') return c.body(null, status, headers);
    if (info.lengthBytes <= this.#bufferMaxBytes) {
      // Read whole and verified, falling back copy by copy, before anything is sent.
      const bytes = await client.get(key);
      const body = span ? bytes.subarray(span.start, span.end + 1) : bytes;
      this.#metrics.gatewayBytes.inc(body.length);
      return c.body(new Uint8Array(body), status, headers);
    }
    await this.#streamLarge(c.env.outgoing, client, key, info, span, status, headers);
    return RESPONSE_ALREADY_SENT;
  }

  /**
   * Finds a copy whose full read matches the checksum, then reads it again to send it.
   * The second read is checked again; should the copy change in between, the response is
   * cut short, so the client sees a failed transfer rather than wrong bytes.
   */
  async #streamLarge(
    res: ServerResponse,
    client: MogileClient,
    key: string,
    info: FileInfo,
    span: ByteSpan | undefined,
    status: number,
    headers: Record<string, string>,
  ): Promise<void> {
    const checksum = parseChecksum(info.checksum);
    const abort = new AbortController();
    res.once('close', () => abort.abort(new Error('client went away')));
    const paths = await client.getPaths(key);
    const refusals: string[] = [];
    for (const path of paths) {
      try {
        await checkCopy(this.#agent, path, info.lengthBytes, checksum, abort.signal);
        const body = await openCopy(this.#agent, path, span, abort.signal);
        res.writeHead(status, headers);
        await pipeline(body, verifyingCounter(this, checksum, span, path), res);
        return;
      } catch (error) {
        if (res.headersSent) {
          res.destroy();
          this.#logger?.error({ err: error, path }, 'gateway cut a transfer short');
          return;
        }
        if (abort.signal.aborted) return;
        if (error instanceof CopyRejected && error.mismatch) this.#onMismatch();
        refusals.push((error as Error).message);
        this.#logger?.warn({ err: error, path }, 'gateway skipped a copy');
      }
    }
    throw new GatewayError(
      paths.length === 0 ? 503 : 502,
      `no good copy of ${key}${refusals.length ? `: ${refusals.join('; ')}` : ''}`,
    );
  }

  /** Counts streamed bytes for the metrics. */
  countSent(bytes: number): void {
    this.#metrics.gatewayBytes.inc(bytes);
  }
}

/** Counts bytes and, for a whole-file read, fails at the end if the digest is wrong. */
function verifyingCounter(
  gateway: FileGateway,
  checksum: Checksum | undefined,
  span: ByteSpan | undefined,
  path: string,
) {
  const hash = checksum && !span ? digestOf(checksum) : undefined;
  return async function* (source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      hash?.update(chunk);
      gateway.countSent(chunk.length);
      yield chunk;
    }
    if (checksum && hash && hash.digest('hex') !== checksum.hex) {
      throw new CopyRejected(`${path} changed after it was checked (${formatChecksum(checksum)})`);
    }
  };
}

function fileHeaders(info: FileInfo, span: ByteSpan | undefined): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/octet-stream',
    'Accept-Ranges': 'bytes',
    'Content-Length': String(span ? span.end - span.start + 1 : info.lengthBytes),
  };
  const checksum = parseChecksum(info.checksum);
  if (checksum) headers.ETag = `"${formatChecksum(checksum)}"`;
  if (span) headers['Content-Range'] = `bytes ${span.start}-${span.end}/${info.lengthBytes}`;
  return headers;
}

/** `?reproxy=1` uses the configured format (Perlbal when none); `0` turns it off. */
function reproxyFormat(
  query: string | undefined,
  configured: GatewayReproxy,
): ReproxyFormat | undefined {
  const fallback = configured === 'off' ? undefined : configured;
  if (query === undefined) return fallback;
  const value = query.toLowerCase();
  if (value === 'perlbal' || value === 'nginx') return value;
  if (value === '1' || value === 'true' || value === 'yes' || value === '') {
    return fallback ?? 'perlbal';
  }
  return undefined;
}

function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  if (error instanceof MogileClientError) {
    switch (error.code) {
      case 'unknown_key':
      case 'domain_not_found':
      case 'unreg_domain':
      case 'no_key':
        return new GatewayError(404, error.message);
      case 'ENO_PATHS':
        return new GatewayError(503, error.message);
      case 'ECHECKSUM_MISMATCH':
      case 'ESTORAGE':
        return new GatewayError(502, error.message);
      case 'db_busy':
      case 'timeout':
      case 'ETRACKER_TIMEOUT':
      case 'ECONNECT_TIMEOUT':
      case 'ENO_TRACKER':
        return new GatewayError(503, error.message);
    }
  }
  return new GatewayError(500, 'internal error');
}
