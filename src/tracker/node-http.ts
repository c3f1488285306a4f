import { Agent, type IncomingHttpHeaders, type IncomingMessage, request } from 'node:http';
import { finished, pipeline, Readable } from 'node:stream';

/** How long an unused connection to a node is kept for the next request. */
const KEEP_ALIVE_MS = 30_000;

/**
 * Connections to storage nodes, kept alive between requests: at most `perNode` at once to
 * any one node. The tracker's requests to nodes all go through node:http, whose HTTP
 * parser is built into Node, so the tracker carries no second one in memory
 * (docs/benchmarks.md, "The tracker's memory").
 */
export function nodeAgent(perNode: number): Agent {
  return new Agent({
    keepAlive: true,
    maxSockets: perNode,
    maxFreeSockets: perNode,
    timeout: KEEP_ALIVE_MS,
  });
}

export interface NodeRequestOptions {
  readonly agent: Agent;
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer | Readable;
  /**
   * From the request's connection (not its wait for one) until the response's headers.
   * Each piece of a streamed body sent starts it again, so a long upload is limited by
   * its silences, not by its length.
   */
  readonly headersTimeoutMs: number;
  /** Longest silence while the response's body flows (default: `headersTimeoutMs`). */
  readonly bodyIdleMs?: number;
  readonly signal?: AbortSignal;
}

export interface NodeResponse {
  readonly statusCode: number;
  readonly headers: IncomingHttpHeaders;
  /** Must be read or dumped, or the connection is not reused. */
  readonly body: IncomingMessage;
}

/** A request to a node that took too long; the connection is closed. */
export class NodeHttpTimeout extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NodeHttpTimeout';
  }
}

/**
 * One HTTP request to a storage node. Resolves with the response once its headers are in;
 * rejects when the request fails or a limit passes first. A limit passing while the body
 * is read breaks the body instead (its iteration throws).
 */
export function nodeRequest(url: string, options: NodeRequestOptions): Promise<NodeResponse> {
  const method = options.method ?? 'GET';
  const { headersTimeoutMs, body } = options;
  return new Promise((resolve, reject) => {
    const req = request(url, {
      agent: options.agent,
      method,
      ...(options.headers && { headers: options.headers }),
      ...(options.signal && { signal: options.signal }),
    });
    // Timed from the moment a connection is assigned, not while waiting for one in the agent.
    let timer: NodeJS.Timeout | undefined;
    req.once('socket', () => {
      timer = setTimeout(() => {
        req.destroy(
          new NodeHttpTimeout(`${method} ${url}: no response within ${headersTimeoutMs} ms`),
        );
      }, headersTimeoutMs);
    });
    req.once('response', (response) => {
      clearTimeout(timer);
      const idleMs = options.bodyIdleMs ?? headersTimeoutMs;
      req.setTimeout(idleMs, () => {
        response.destroy(new NodeHttpTimeout(`${method} ${url}: body silent for ${idleMs} ms`));
      });
      resolve({ statusCode: response.statusCode ?? 0, headers: response.headers, body: response });
    });
    let bodyError: Error | undefined;
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(bodyError ?? error);
    });
    if (body instanceof Readable) {
      body.on('data', () => timer?.refresh());
      // A body that fails aborts the request, which then rejects with the body's error.
      body.once('error', (error) => {
        bodyError = error;
      });
      pipeline(body, req, () => undefined);
    } else {
      req.end(body);
    }
  });
}

/** Reads a response's body to its end and drops it, so the connection can be reused. */
export function dumpBody(body: IncomingMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    finished(body, (error) => (error ? reject(error) : resolve()));
    body.resume();
  });
}

/** A response's whole body (short answers: error pages, small files). */
export async function bodyBuffer(body: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A digest header (`X-Mogile-MD5`, `X-Mogile-SHA1`, …) as lower-case hex, if it is hex. */
export function hexHeader(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  return text && /^[0-9a-fA-F]+$/.test(text) ? text.toLowerCase() : undefined;
}
