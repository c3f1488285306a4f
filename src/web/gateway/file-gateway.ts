import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context } from 'hono';
import type { Logger } from 'pino';
import { type Checksum, formatChecksum } from '../../client/checksum.js';
import { MogileClientError } from '../../client/errors.js';
import type { GatewayReproxy } from '../../tracker/config.js';
import { nodeAgent } from '../../tracker/node-http.js';
import type { TrackerMetrics } from '../tracker-metrics.js';
import type { WebSources } from '../web-sources.js';
import { type FileLocation, FileLocator } from './file-locator.js';
import { type ByteSpan, parseRangeHeader } from './range-header.js';
import { type ReproxyFormat, reproxyHeaders } from './reproxy-headers.js';
import { CopyRejected, digestOf, openCopy, readVerified } from './verified-copy.js';

export interface FileGatewayOptions {
  readonly sources: WebSources;
  readonly metrics: TrackerMetrics;
  readonly logger?: Logger | undefined;
  /** Files up to this size are read whole and verified in memory before the first byte. */
  readonly bufferMaxBytes?: number;
}

export type GatewayContext = Context<{ Bindings: HttpBindings }>;

const DEFAULT_BUFFER_MAX_BYTES = 16 * 1024 * 1024;
/** A small file that cannot be read in this long is given up on. */
const READ_TIMEOUT_MS = 60_000;

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
  readonly #locator: FileLocator;
  readonly #agent = nodeAgent(32);
  readonly #onMismatch = () => this.#metrics.gatewayChecksumMismatches.inc();

  constructor(options: FileGatewayOptions) {
    this.#sources = options.sources;
    this.#metrics = options.metrics;
    this.#logger = options.logger;
    this.#bufferMaxBytes = options.bufferMaxBytes ?? DEFAULT_BUFFER_MAX_BYTES;
    this.#locator = new FileLocator(options.sources.trackerAddress);
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
    this.#locator.close();
    this.#agent.destroy();
  }

  async #serve(c: GatewayContext, method: 'GET' | 'HEAD'): Promise<Response> {
    const domain = c.req.param('domain') ?? '';
    const key = c.req.param('key') ?? '';
    const snapshot = await this.#sources.services.cluster.current();
    if (!snapshot.domain(domain)) throw new GatewayError(404, `unknown domain ${domain}`);
    const reproxy = reproxyFormat(c.req.query('reproxy'), this.#sources.config.gatewayReproxy);
    // Reproxied bytes never pass through here, so the tracker checks the first copy's size.
    const file = await this.#locator.locate(domain, key, reproxy !== undefined);
    if (!Number.isFinite(file.lengthBytes)) {
      throw new GatewayError(502, `the tracker did not report the length of ${key}`);
    }
    if (reproxy && method === 'GET') {
      if (file.paths.length === 0) throw new GatewayError(503, `no readable copy of ${key}`);
      const headers = reproxyHeaders(
        reproxy,
        file.paths,
        file.lengthBytes,
        this.#sources.config.gatewayNginxPrefix,
      );
      return c.body(null, 200, { ...headers, 'Content-Length': '0' });
    }
    const span = parseRangeHeader(c.req.header('range'), file.lengthBytes);
    if (span === 'unsatisfiable') {
      return c.body(null, 416, { 'Content-Range': `bytes */${file.lengthBytes}` });
    }
    const headers = fileHeaders(file, span);
    const status = span ? 206 : 200;
    if (method === 'HEAD') return c.body(null, status, headers);
    if (file.lengthBytes <= this.#bufferMaxBytes) {
      // Read whole and verified, falling back copy by copy, before anything is sent.
      const { result: bytes } = await this.#firstGoodCopy(
        key,
        file,
        (path, signal) => readVerified(this.#agent, path, file, true, signal),
        AbortSignal.timeout(READ_TIMEOUT_MS),
      );
      const body = span ? bytes!.subarray(span.start, span.end + 1) : bytes!;
      this.#metrics.gatewayBytes.inc(body.length);
      return c.body(new Uint8Array(body), status, headers);
    }
    await this.#streamLarge(c.env.outgoing, key, file, span, status, headers);
    return RESPONSE_ALREADY_SENT;
  }

  /** Tries the copies in the tracker's order; the first that reads right wins. */
  async #firstGoodCopy<T>(
    key: string,
    file: FileLocation,
    read: (path: string, signal: AbortSignal) => Promise<T>,
    signal: AbortSignal,
  ): Promise<{ path: string; result: T }> {
    const refusals: string[] = [];
    for (const path of file.paths) {
      try {
        return { path, result: await read(path, signal) };
      } catch (error) {
        if (signal.aborted) throw error;
        if (error instanceof CopyRejected && error.mismatch) this.#onMismatch();
        refusals.push((error as Error).message);
        this.#logger?.warn({ err: error, path }, 'gateway skipped a copy');
      }
    }
    throw new GatewayError(
      file.paths.length === 0 ? 503 : 502,
      `no good copy of ${key}${refusals.length ? `: ${refusals.join('; ')}` : ''}`,
    );
  }

  /**
   * Finds a copy whose full read matches the checksum, then reads it again to send it.
   * The second read is checked again; should the copy change in between, the response is
   * cut short, so the client sees a failed transfer rather than wrong bytes passing as good.
   */
  async #streamLarge(
    res: ServerResponse,
    key: string,
    file: FileLocation,
    span: ByteSpan | undefined,
    status: number,
    headers: Record<string, string>,
  ): Promise<void> {
    const abort = new AbortController();
    res.once('close', () => abort.abort(new Error('client went away')));
    const { path } = await this.#firstGoodCopy(
      key,
      file,
      (candidate, signal) => readVerified(this.#agent, candidate, file, false, signal),
      abort.signal,
    );
    const copy = await openCopy(this.#agent, path, span, abort.signal);
    res.writeHead(status, headers);
    try {
      await pipeline(copy.body, verifyingCounter(this, file.checksum, span, path), res);
    } catch (error) {
      res.destroy();
      if (!abort.signal.aborted) {
        this.#logger?.error({ err: error, path }, 'gateway cut a transfer short');
      }
    }
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

function fileHeaders(file: FileLocation, span: ByteSpan | undefined): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/octet-stream',
    'Accept-Ranges': 'bytes',
    'Content-Length': String(span ? span.end - span.start + 1 : file.lengthBytes),
  };
  if (file.checksum) headers.ETag = `"${formatChecksum(file.checksum)}"`;
  if (span) headers['Content-Range'] = `bytes ${span.start}-${span.end}/${file.lengthBytes}`;
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
