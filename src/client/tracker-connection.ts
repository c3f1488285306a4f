import { connect, type Socket } from 'node:net';
import { encodeRequestLine, parseReplyLine, type RequestValue } from '../protocol/client-codec.js';
import { publishConnection, publishRequest } from './diagnostics.js';
import { MogileClientError } from './errors.js';
import type { TrackerAddress } from './tracker-address.js';

export type RequestArgs =
  | Readonly<Record<string, RequestValue>>
  | Iterable<readonly [string, RequestValue]>;

export interface ConnectOptions {
  readonly connectTimeoutMs: number;
  readonly signal?: AbortSignal | undefined;
}

export interface RequestOptions {
  /** Covers the whole exchange: from the write until the reply's LF (§9.4 rule 4). */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
}

/** Replies longer than this are treated as garbage (a list_keys page is under 1 MiB). */
const MAX_REPLY_BYTES = 16 * 1024 * 1024;

interface Pending {
  readonly command: string;
  readonly callid: string;
  readonly line: string;
  readonly startedAt: number;
  readonly resolve: (pairs: Map<string, string>) => void;
  readonly reject: (error: MogileClientError) => void;
  readonly cleanup: () => void;
}

/**
 * One TCP connection to one tracker, one request at a time.
 *
 * The rule that keeps replies with their requests (architecture.md §4.1,
 * client-expectations.md §9.4): every request carries a fresh callid that the reply must
 * echo, and any timeout, socket error, cancellation, garbled line or callid mismatch
 * destroys the connection, so a late reply can never be read as the answer to a later
 * request. A tracker `ERR` with the right callid is a clean exchange and keeps it open.
 */
export class TrackerConnection {
  readonly #socket: Socket;
  readonly #tracker: TrackerAddress;
  #nextCallid = 1;
  #pending: Pending | null = null;
  #chunks: Buffer[] = [];
  #bufferedBytes = 0;
  #destroyReason: string | null = null;

  private constructor(socket: Socket, tracker: TrackerAddress) {
    this.#socket = socket;
    this.#tracker = tracker;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.destroy('closed by tracker'));
    socket.on('close', () => this.destroy('closed'));
    socket.on('error', (error) => this.destroy(`socket error: ${error.message}`, error));
  }

  /** Opens a connection; rejects with ECONNECT_TIMEOUT, EABORTED or ETRACKER_SOCKET. */
  static connect(tracker: TrackerAddress, options: ConnectOptions): Promise<TrackerConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: tracker.host, port: tracker.port });
      const fail = (code: string, message: string, cause?: unknown) => {
        cleanup();
        socket.destroy();
        reject(new MogileClientError(code, message, { target: tracker.label, cause }));
      };
      const onError = (error: Error) =>
        fail(
          'ETRACKER_SOCKET',
          `cannot connect to tracker ${tracker.label}: ${error.message}`,
          error,
        );
      const onAbort = () =>
        fail(
          'EABORTED',
          `connecting to tracker ${tracker.label} was aborted`,
          options.signal?.reason,
        );
      const timer = setTimeout(
        () =>
          fail(
            'ECONNECT_TIMEOUT',
            `connecting to tracker ${tracker.label} timed out after ${options.connectTimeoutMs}ms`,
          ),
        options.connectTimeoutMs,
      );
      const cleanup = () => {
        clearTimeout(timer);
        socket.off('error', onError);
        options.signal?.removeEventListener('abort', onAbort);
      };
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('error', onError);
      socket.once('connect', () => {
        cleanup();
        socket.setNoDelay(true);
        socket.setKeepAlive(true, 60_000);
        publishConnection({ event: 'connect', tracker: tracker.label });
        resolve(new TrackerConnection(socket, tracker));
      });
    });
  }

  get tracker(): TrackerAddress {
    return this.#tracker;
  }

  get destroyed(): boolean {
    return this.#destroyReason !== null;
  }

  /** Why the connection was destroyed, or null while it is usable. */
  get destroyReason(): string | null {
    return this.#destroyReason;
  }

  get busy(): boolean {
    return this.#pending !== null;
  }

  /**
   * Sends `<command> <args>&callid=<n>` and resolves with the reply's pairs (callid
   * removed). A tracker `ERR` rejects with its code and `fromTracker: true`.
   */
  request(
    command: string,
    args: RequestArgs,
    options: RequestOptions,
  ): Promise<Map<string, string>> {
    if (this.#destroyReason !== null || this.#pending !== null) {
      const state = this.#destroyReason === null ? 'busy' : `destroyed (${this.#destroyReason})`;
      return Promise.reject(
        new MogileClientError('ECONNECTION_STATE', `tracker connection is ${state}`, {
          command,
          target: this.#tracker.label,
        }),
      );
    }
    if (options.signal?.aborted) {
      // Nothing was sent yet, so the connection stays usable.
      return Promise.reject(
        new MogileClientError(
          'EABORTED',
          `${command} was aborted`,
          this.#details(command, options.signal.reason),
        ),
      );
    }
    const callid = String(this.#nextCallid++);
    const pairs = [...entriesOf(args)].filter(([name]) => name !== 'callid');
    pairs.push(['callid', callid]);
    const line = encodeRequestLine(command, pairs);
    return new Promise((resolve, reject) => {
      const { signal, timeoutMs } = options;
      const onAbort = () =>
        this.#failPending(
          new MogileClientError(
            'EABORTED',
            `${command} was aborted`,
            this.#details(command, signal?.reason),
          ),
          'aborted',
        );
      const timer = setTimeout(() => {
        const message = `timed out after ${timeoutMs}ms against ${this.#tracker.label} when sending command: [${line.trimEnd()}]`;
        this.#failPending(
          new MogileClientError('ETRACKER_TIMEOUT', message, this.#details(command)),
          'timeout',
        );
      }, timeoutMs);
      this.#pending = {
        command,
        callid,
        line,
        startedAt: performance.now(),
        resolve,
        reject,
        cleanup: () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        },
      };
      publishRequest({ event: 'start', command, tracker: this.#tracker.label });
      signal?.addEventListener('abort', onAbort, { once: true });
      // One write call per line, so the tracker never sees half of it glued to another.
      this.#socket.write(line);
    });
  }

  /** Closes the socket for good; a pending request fails with ETRACKER_SOCKET. */
  destroy(reason: string, cause?: unknown): void {
    if (this.#destroyReason !== null) return;
    this.#destroyReason = reason;
    this.#socket.destroy();
    this.#chunks = [];
    if (this.#pending) {
      const { command } = this.#pending;
      this.#settle(
        new MogileClientError(
          'ETRACKER_SOCKET',
          `tracker ${this.#tracker.label} connection lost during ${command}: ${reason}`,
          this.#details(command, cause),
        ),
      );
    }
    publishConnection({ event: 'destroy', tracker: this.#tracker.label, reason });
  }

  #onData(chunk: Buffer): void {
    if (this.#destroyReason !== null) return;
    if (this.#pending === null) {
      // Nothing was asked: a reply we cannot attribute must never be read later.
      this.destroy('unsolicited data');
      return;
    }
    const newline = chunk.indexOf(0x0a);
    if (newline === -1) {
      this.#chunks.push(chunk);
      this.#bufferedBytes += chunk.length;
      if (this.#bufferedBytes > MAX_REPLY_BYTES) {
        this.#protocolError(`reply longer than ${MAX_REPLY_BYTES} bytes`);
      }
      return;
    }
    const line = Buffer.concat([...this.#chunks, chunk.subarray(0, newline + 1)]);
    const extra = chunk.length > newline + 1;
    this.#chunks = [];
    this.#bufferedBytes = 0;
    this.#onLine(line);
    // A second line for one request means the stream is out of step: stop using it.
    if (extra) this.destroy('unsolicited data');
  }

  #onLine(line: Buffer): void {
    const pending = this.#pending!;
    const reply = parseReplyLine(line);
    if (reply.kind === 'invalid') {
      this.#protocolError(`invalid response from tracker: [${reply.line.slice(0, 200)}]`);
      return;
    }
    const echoed = reply.kind === 'ok' ? reply.pairs.get('callid') : reply.callid;
    if (echoed !== pending.callid) {
      const error = new MogileClientError(
        'ECALLID_MISMATCH',
        `tracker ${this.#tracker.label} answered ${pending.command} (callid ${pending.callid}) with callid ${echoed ?? '(none)'}`,
        this.#details(pending.command),
      );
      this.#failPending(error, 'callid mismatch');
      return;
    }
    if (reply.kind === 'ok') {
      reply.pairs.delete('callid');
      this.#settle(reply.pairs);
      return;
    }
    this.#settle(
      new MogileClientError(reply.code, reply.text === '' ? reply.code : reply.text, {
        ...this.#details(pending.command),
        fromTracker: true,
      }),
    );
  }

  #protocolError(message: string): void {
    const command = this.#pending?.command;
    this.#failPending(
      new MogileClientError('EPROTOCOL', message, this.#details(command)),
      'garbled reply',
    );
  }

  /** Fails the pending request with `error`, then destroys the connection. */
  #failPending(error: MogileClientError, reason: string): void {
    this.#settle(error);
    this.destroy(reason);
  }

  #settle(result: Map<string, string> | MogileClientError): void {
    const pending = this.#pending;
    if (!pending) return;
    this.#pending = null;
    pending.cleanup();
    const durationMs = performance.now() - pending.startedAt;
    const tracker = this.#tracker.label;
    if (result instanceof MogileClientError) {
      publishRequest({
        event: 'error',
        command: pending.command,
        tracker,
        durationMs,
        error: result,
      });
      pending.reject(result);
    } else {
      publishRequest({ event: 'finish', command: pending.command, tracker, durationMs });
      pending.resolve(result);
    }
  }

  #details(command: string | undefined, cause?: unknown) {
    return { command, target: this.#tracker.label, cause };
  }
}

function entriesOf(args: RequestArgs): Iterable<readonly [string, RequestValue]> {
  return Symbol.iterator in args
    ? (args as Iterable<readonly [string, RequestValue]>)
    : Object.entries(args as Record<string, RequestValue>);
}
