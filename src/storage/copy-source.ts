import { Agent, type IncomingMessage, request } from 'node:http';

/** How long a connection to the source node may take to open. */
const CONNECT_TIMEOUT_MS = 5000;

export interface CopySourceTimeouts {
  /** From the request until the source's response headers. */
  readonly headersTimeoutMs: number;
  /** Longest silence while the body flows. */
  readonly idleTimeoutMs: number;
}

/** Why a source GET produced no response: it never connected, or it broke after. */
export class SourceFailure extends Error {
  constructor(
    readonly reachable: boolean,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The node's HTTP client for copies it pulls from other nodes (docs/storage-node.md,
 * "Copies between nodes"): kept-alive connections, a short connect deadline, a deadline
 * for the response headers, and an idle limit on the body, which then ends early (the
 * receiver sees an incomplete body).
 */
export class CopySource {
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 32, maxFreeSockets: 8 });
  readonly #timeouts: CopySourceTimeouts;

  constructor(timeouts: CopySourceTimeouts) {
    this.#timeouts = timeouts;
  }

  get(url: URL): Promise<IncomingMessage> {
    const { headersTimeoutMs, idleTimeoutMs } = this.#timeouts;
    return new Promise((resolve, reject) => {
      let connected = false;
      const req = request(url, { agent: this.#agent, timeout: idleTimeoutMs });
      const fail = (message: string) => req.destroy(new SourceFailure(connected, message));
      const connectTimer = setTimeout(
        () => fail(`no connection within ${CONNECT_TIMEOUT_MS} ms`),
        Math.min(CONNECT_TIMEOUT_MS, headersTimeoutMs),
      );
      const headersTimer = setTimeout(
        () => fail(`no response within ${headersTimeoutMs} ms`),
        headersTimeoutMs,
      );
      const settle = () => {
        clearTimeout(connectTimer);
        clearTimeout(headersTimer);
      };
      req.once('socket', (socket) => {
        const opened = () => {
          connected = true;
          clearTimeout(connectTimer);
        };
        if (socket.connecting) socket.once('connect', opened);
        else opened();
      });
      req.once('timeout', () => fail(`silent for ${idleTimeoutMs} ms`));
      req.once('response', (response) => {
        settle();
        resolve(response);
      });
      req.on('error', (error) => {
        settle();
        reject(
          error instanceof SourceFailure ? error : new SourceFailure(connected, error.message),
        );
      });
      req.end();
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}
