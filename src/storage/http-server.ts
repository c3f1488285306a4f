import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { COPY_FROM_HEADER, handleCopy } from './copy-handler.js';
import { handleDelete, handleMkcol, handleMove } from './delete-handler.js';
import { handleGet } from './get-handler.js';
import { refuseUpload, SERVER_HEADER, sendPage } from './http-replies.js';
import type { NodeContext } from './node-context.js';
import { handlePut } from './put-handler.js';
import { requestSignature } from './signature-check.js';
import { METRICS_PATH, sendMetrics } from './storage-metrics.js';

const SIGNED_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'PUT',
  'DELETE',
  'MKCOL',
  'MOVE',
]);

export interface HttpTimeouts {
  /** Time allowed to receive a request's headers. */
  readonly headersTimeoutMs: number;
  /** A connection (or a body) idle for this long is closed. */
  readonly idleTimeoutMs: number;
  /** How long an idle keep-alive connection is kept between requests. */
  readonly keepAliveTimeoutMs: number;
}

/** The path serving the node's counters as JSON (docs/storage-node.md). */
export const STATS_PATH = '/_stats';

/**
 * The storage node's HTTP side (spec/storage-node.md §3) on plain node:http. This is the
 * one place that turns a handler's exception into a 500.
 */
export function createStorageHttpServer(
  ctx: NodeContext,
  maxConnections: number,
  timeouts: HttpTimeouts,
): Server {
  const server = createServer({
    // Replication and MogileFS::Client send bare HTTP/1.0 requests without Host (§3.1).
    requireHostHeader: false,
    headersTimeout: timeouts.headersTimeoutMs,
    // Node checks the headers timeout only this often (30 s by default), which let a
    // slowloris hold connections for half a minute past it (docs/faults.md).
    connectionsCheckingInterval: Math.min(1000, timeouts.headersTimeoutMs),
    // Large uploads may take long; the idle timeout below catches stalled ones instead.
    requestTimeout: 0,
    keepAliveTimeout: timeouts.keepAliveTimeoutMs,
  });
  server.maxConnections = maxConnections;
  server.timeout = timeouts.idleTimeoutMs;
  const handle = (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean) => {
    ctx.stats.request(req.method ?? '?');
    res.once('finish', () => ctx.stats.response(res.statusCode));
    dispatch(ctx, req, res, expectsContinue).catch((error: unknown) => {
      ctx.logger?.error({ err: error, method: req.method, url: req.url }, 'request failed');
      if (!res.headersSent) sendPage(res, 500);
      else res.destroy();
    });
  };
  server.on('request', (req, res) => handle(req, res, false));
  // Answer `Expect: 100-continue` only once the target is known to be acceptable.
  server.on('checkContinue', (req, res) => handle(req, res, true));
  server.on('connection', (socket: Socket) => {
    ctx.stats.connectionOpened();
    socket.once('close', () => ctx.stats.connectionClosed());
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || error.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const status = clientErrorStatus(error.code);
    const reason = status === 408 ? 'Request Timeout' : 'Bad Request';
    const body = `<h1>${status} - ${reason}</h1>\n`;
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/html\r\nContent-Length: ${body.length}\r\nServer: ${SERVER_HEADER}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  return server;
}

/** A client that sent headers too slowly gets 408; one that sent too many 431; else 400. */
function clientErrorStatus(code: string | undefined): number {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  return 400;
}

function dispatch(
  ctx: NodeContext,
  req: IncomingMessage,
  res: ServerResponse,
  expectsContinue: boolean,
): Promise<void> {
  const copy = req.method === 'POST' && req.headers[COPY_FROM_HEADER] !== undefined;
  if (copy || SIGNED_METHODS.has(req.method ?? '')) {
    const verdict = requestSignature(ctx.signing, req, STATS_PATH);
    if (verdict !== 'ok') {
      // Before any body is read: the connection closes instead of draining an upload.
      refuseUpload(res, 403, `Signature ${verdict}`);
      return Promise.resolve();
    }
  }
  if (copy) return handleCopy(ctx, req, res);
  switch (req.method) {
    case 'GET':
    case 'HEAD':
      if (req.url === STATS_PATH) return sendStats(ctx, res);
      if (req.url === METRICS_PATH) return sendMetrics(ctx, res);
      return handleGet(ctx, req, res);
    case 'PUT':
      return handlePut(ctx, req, res, expectsContinue);
    case 'DELETE':
      return handleDelete(ctx, req, res);
    case 'MKCOL':
      return handleMkcol(ctx, req, res);
    case 'MOVE':
      return handleMove(ctx, req, res);
    default:
      // Perlbal answers every other method (POST, OPTIONS, PROPFIND, ...) with 400 (§3.1);
      // so does this node, except a POST that asks for a copy (above).
      res.shouldKeepAlive = false;
      sendPage(res, 400, '', { Connection: 'close' });
      return Promise.resolve();
  }
}

async function sendStats(ctx: NodeContext, res: ServerResponse): Promise<void> {
  const body = Buffer.from(`${JSON.stringify(ctx.stats.snapshot())}\n`);
  res.writeHead(200, {
    'Content-Type': 'application/json',
    'Content-Length': body.length,
    'Cache-Control': 'no-store',
    Server: SERVER_HEADER,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
