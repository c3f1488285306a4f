import { createServer, type Server } from 'node:net';
import type { Logger } from 'pino';
import type { ListenAddress } from './config.js';
import { ClientConnection, type ConnectionOptions } from './connection.js';

export interface TrackerServerOptions extends ConnectionOptions {
  /** How long a graceful close waits for running requests before cutting connections. */
  readonly shutdownTimeoutMs: number;
}

export const MAX_LINE_BYTES = 1024 * 1024;
export const WRITE_STALL_MS = 120_000;

/**
 * The tracker's TCP front end: any number of listening addresses and client connections,
 * each handled by a ClientConnection.
 */
export class TrackerServer {
  readonly #options: TrackerServerOptions;
  readonly #logger: Logger;
  readonly #servers: Server[] = [];
  readonly #connections = new Set<ClientConnection>();
  #closing: Promise<void> | undefined;

  constructor(options: TrackerServerOptions) {
    this.#options = options;
    this.#logger = options.logger;
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Listens on one address; resolves with the bound address (port 0 picks one). */
  async listen(address: ListenAddress): Promise<ListenAddress> {
    if (this.#closing) throw new Error('the tracker server is closing');
    const server = createServer({ noDelay: true, allowHalfOpen: true }, (socket) => {
      const connection = new ClientConnection(socket, this.#options);
      this.#connections.add(connection);
      void connection.closed.then(() => this.#connections.delete(connection));
      // One that slipped in while closing is drained at once, so close() can finish.
      if (this.#closing) void connection.drain();
    });
    server.on('error', (error) => this.#logger.error({ err: error }, 'tracker listener error'));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: address.host, port: address.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#servers.push(server);
    const bound = server.address();
    if (bound === null || typeof bound === 'string') return address;
    return { host: bound.address, port: bound.port };
  }

  /**
   * Graceful stop: accept nothing new, let running requests finish and their replies go
   * out, close every connection. After `shutdownTimeoutMs` the rest are cut off.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const listenersClosed = this.#servers.map(
      (server) => new Promise<void>((resolve) => server.close(() => resolve())),
    );
    const drained = Promise.all([...this.#connections].map((connection) => connection.drain()));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.#options.shutdownTimeoutMs);
    });
    if ((await Promise.race([drained, timedOut])) === 'timeout') {
      this.#logger.warn(
        { connections: this.#connections.size },
        'requests still running at the shutdown deadline; closing their connections',
      );
      for (const connection of this.#connections) connection.destroy();
    }
    clearTimeout(timer);
    await Promise.all(listenersClosed);
  }
}
