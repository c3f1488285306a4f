import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { ConnectionContext, Dispatcher } from './dispatch.js';

export interface ConnectionOptions {
  readonly dispatcher: Dispatcher;
  readonly logger: Logger;
  /** A longer line closes the connection (spec §2 suggests 1 MiB). */
  readonly maxLineBytes: number;
  /** Close after this long without traffic, between requests only; 0 never does. */
  readonly idleTimeoutMs: number;
  /** Requests of this connection that may run at once; replies stay in order regardless. */
  readonly pipelineDepth: number;
  /** Close when the client has not read our replies for this long (spec §4: 120 s). */
  readonly writeStallMs: number;
  /**
   * A new request after this long of silence, while an earlier one is unanswered, means
   * the client gave up waiting and will read the late reply as the answer to the new
   * request (client-expectations.md §9.2, PHP): the connection closes. 0 or absent: off.
   */
  readonly abandonedAfterMs?: number;
}

/** A complete line waiting to start, with when it arrived (for `!recent`). */
interface QueuedLine {
  readonly bytes: Buffer;
  readonly receivedAtMs: number;
}

/** A request whose reply has a fixed place in the connection's reply order. */
interface ReplySlot {
  readonly seq: number;
  readonly receivedAtMs: number;
  done: boolean;
  reply: string | null;
  /** performance.now() time after which the reply must not be written (§4.2). */
  staleAtMs: number;
}

/** Lines read ahead of execution before the socket stops reading (backpressure). */
const MAX_QUEUED_LINES = 256;
/** How long a closing connection waits for the client's side to close. */
const LINGER_MS = 5000;

/**
 * One client connection. Lines may execute concurrently (up to `pipelineDepth`), but each
 * reply waits for its turn and goes out in one write, in request order
 * (client-expectations.md §9.3). A reply that matches no waiting request closes the
 * connection instead of being forwarded (§9.3 item 5).
 */
export class ClientConnection {
  readonly #socket: Socket;
  readonly #options: ConnectionOptions;
  readonly #context: ConnectionContext;
  readonly #abort = new AbortController();
  readonly #closed: Promise<void>;
  #partial: Buffer[] = [];
  #partialBytes = 0;
  readonly #lines: QueuedLine[] = [];
  readonly #slots: ReplySlot[] = [];
  #nextSeq = 0;
  #running = 0;
  #writeBlocked = false;
  #draining = false;
  #idleTimer: NodeJS.Timeout | undefined;
  /** False while the connection is busy: a firing idle timer then does nothing. */
  #idleArmed = false;
  /** When the last reply went out: a client reading replies is not abandoning requests. */
  #lastReplyAtMs = 0;
  /**
   * When input was last read, or reading resumed after a pause: a pipelining client whose
   * lines arrive in several chunks, or wait in the socket while we paused, is not silent.
   */
  #lastInputAtMs = 0;
  #inputEnded = false;
  #stallTimer: NodeJS.Timeout | undefined;

  constructor(socket: Socket, options: ConnectionOptions) {
    this.#socket = socket;
    this.#options = options;
    this.#context = {
      clientIp: clientIpOf(socket),
      signal: this.#abort.signal,
      sendUnsolicited: (text) => this.#write(text),
    };
    this.#closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.once('close', () => this.#onClose());
    socket.on('error', (error) => options.logger.debug({ err: error }, 'client socket error'));
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    // A client that half-closes after its last request (`nc`, a script piping requests in)
    // still gets every reply; the connection closes once they are written.
    socket.once('end', () => {
      this.#inputEnded = true;
      this.#endIfSettled();
    });
    socket.on('drain', () => this.#onDrain());
    this.#armIdleTimer();
  }

  get clientIp(): string {
    return this.#context.clientIp;
  }

  /** Resolves once the socket is fully closed. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /**
   * Graceful stop: read no more requests, finish the running ones, write their replies,
   * then close. Lines read but not yet started get no reply; the close tells the client.
   */
  drain(): Promise<void> {
    this.#draining = true;
    this.#lines.length = 0;
    this.#socket.pause();
    this.#endIfSettled();
    return this.#closed;
  }

  destroy(): void {
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    if (this.#draining) return;
    this.#armIdleTimer();
    const receivedAtMs = performance.now();
    let start = 0;
    for (let lf = chunk.indexOf(10); lf !== -1; lf = chunk.indexOf(10, start)) {
      const tail = chunk.subarray(start, lf);
      const line = this.#partial.length === 0 ? tail : Buffer.concat([...this.#partial, tail]);
      this.#partial = [];
      this.#partialBytes = 0;
      start = lf + 1;
      if (line.length > this.#options.maxLineBytes) {
        this.#lineTooLong(line.length);
        return;
      }
      if (this.#abandonsEarlierRequest(line, receivedAtMs)) return;
      this.#lines.push({ bytes: line, receivedAtMs });
    }
    if (start < chunk.length) {
      this.#partial.push(chunk.subarray(start));
      this.#partialBytes += chunk.length - start;
      if (this.#partialBytes > this.#options.maxLineBytes) {
        this.#lineTooLong(this.#partialBytes);
        return;
      }
    }
    this.#lastInputAtMs = receivedAtMs;
    if (this.#lines.length >= MAX_QUEUED_LINES) this.#socket.pause();
    this.#pump();
  }

  /**
   * True (and the connection is closing) when `line` is a request sent after the client
   * stopped waiting for an earlier one. A pipelining client sends its requests together
   * or right after reading a reply; a client that timed out sends after a silence.
   */
  #abandonsEarlierRequest(line: Buffer, receivedAtMs: number): boolean {
    const limitMs = this.#options.abandonedAfterMs ?? 0;
    if (limitMs <= 0 || line.toString('latin1').trim() === '') return false;
    const oldest = this.#slots[0] ?? this.#lines[0];
    if (!oldest) return false;
    const lastActivityMs = Math.max(oldest.receivedAtMs, this.#lastReplyAtMs, this.#lastInputAtMs);
    const silentMs = receivedAtMs - lastActivityMs;
    if (silentMs < limitMs) return false;
    this.#options.logger.warn(
      { clientIp: this.clientIp, silentMs: Math.round(silentMs), unanswered: this.#slots.length },
      'client sent a request while an earlier one was unanswered; closing the connection so ' +
        'the late reply cannot answer the wrong request',
    );
    this.#socket.destroy();
    return true;
  }

  #lineTooLong(bytes: number): void {
    this.#options.logger.warn(
      { clientIp: this.clientIp, bytes, limit: this.#options.maxLineBytes },
      'request line too long; closing the connection',
    );
    this.#socket.destroy();
  }

  /** Starts queued lines while the depth and the client's reading allow. */
  #pump(): void {
    while (
      !this.#draining &&
      !this.#writeBlocked &&
      this.#running < this.#options.pipelineDepth &&
      this.#lines.length > 0
    ) {
      this.#start(this.#lines.shift()!);
    }
    if (this.#lines.length < MAX_QUEUED_LINES && !this.#draining && this.#socket.isPaused()) {
      this.#lastInputAtMs = performance.now();
      this.#socket.resume();
    }
  }

  #start(line: QueuedLine): void {
    const slot: ReplySlot = {
      seq: this.#nextSeq++,
      receivedAtMs: line.receivedAtMs,
      done: false,
      reply: null,
      staleAtMs: Number.POSITIVE_INFINITY,
    };
    this.#slots.push(slot);
    this.#running += 1;
    this.#disarmIdleTimer();
    const { dispatcher } = this.#options;
    const dispatched = dispatcher.handleRequest
      ? dispatcher.handleRequest(line.bytes, this.#context, line.receivedAtMs)
      : dispatcher
          .handleLine(line.bytes, this.#context, line.receivedAtMs)
          .then((reply) => ({ reply, staleAtMs: Number.POSITIVE_INFINITY }));
    dispatched.then(
      ({ reply, staleAtMs }) => this.#complete(slot.seq, reply, staleAtMs),
      (error: unknown) => {
        // Dispatch answers every failure itself; if it still rejects, this request's
        // place in the reply order cannot be filled, so the connection must go (§9.3.4).
        this.#options.logger.error({ err: error, clientIp: this.clientIp }, 'dispatch failed');
        this.#socket.destroy();
      },
    );
  }

  #complete(seq: number, reply: string | null, staleAtMs: number): void {
    if (this.#socket.destroyed) return; // the client left: the result is dropped
    this.#running -= 1;
    const slot = this.#slots.find((candidate) => candidate.seq === seq);
    if (!slot || slot.done) {
      this.#options.logger.error(
        { clientIp: this.clientIp, seq },
        'reply for a request this connection is not waiting for; closing it',
      );
      this.#socket.destroy();
      return;
    }
    slot.done = true;
    slot.reply = reply;
    slot.staleAtMs = staleAtMs;
    // Replies that became ready together (a pipelining client) leave in one write.
    this.#socket.cork();
    try {
      while (this.#slots[0]?.done) {
        const ready = this.#slots.shift()!;
        if (ready.reply === null) continue;
        if (performance.now() > ready.staleAtMs) {
          this.#closeForStaleReply(ready);
          return;
        }
        this.#lastReplyAtMs = performance.now();
        this.#write(ready.reply);
      }
    } finally {
      this.#socket.uncork();
    }
    this.#pump();
    this.#endIfSettled();
    this.#armIdleTimer();
  }

  /**
   * A client that waited less long than this reply took may already have sent its next
   * request; written now, this reply would answer it. Closing is the safe answer
   * (client-expectations.md §9.3 item 4); replies queued behind it go with the connection.
   */
  #closeForStaleReply(slot: ReplySlot): void {
    this.#options.logger.warn(
      {
        clientIp: this.clientIp,
        ageMs: Math.round(performance.now() - slot.receivedAtMs),
        reply: slot.reply?.slice(0, 80),
      },
      'reply would leave after stale_reply_after; closing the connection instead',
    );
    this.#socket.destroy();
  }

  #write(text: string): void {
    if (this.#socket.destroyed || this.#socket.writableEnded) return;
    if (!this.#socket.write(text) && !this.#writeBlocked) {
      this.#writeBlocked = true;
      this.#stallTimer = setTimeout(() => {
        this.#options.logger.warn({ clientIp: this.clientIp }, 'client stopped reading; closing');
        this.#socket.destroy();
      }, this.#options.writeStallMs);
    }
    this.#armIdleTimer();
  }

  #onDrain(): void {
    this.#writeBlocked = false;
    clearTimeout(this.#stallTimer);
    this.#pump();
  }

  #endIfSettled(): void {
    if (!(this.#draining || this.#inputEnded)) return;
    if (this.#slots.length > 0 || this.#lines.length > 0) return;
    this.#closeGently();
  }

  /** Half-closes so that written replies arrive, then makes sure the socket goes. */
  #closeGently(): void {
    if (this.#socket.writableEnded) return;
    this.#socket.end();
    setTimeout(() => this.#socket.destroy(), LINGER_MS).unref();
  }

  /**
   * (Re)starts the idle countdown. One timer per connection, restarted with refresh():
   * cheaper than a new timer after every request.
   */
  #armIdleTimer(): void {
    const ms = this.#options.idleTimeoutMs;
    if (ms <= 0 || this.#slots.length > 0 || this.#socket.destroyed) return;
    this.#idleArmed = true;
    if (this.#idleTimer) {
      this.#idleTimer.refresh();
      return;
    }
    this.#idleTimer = setTimeout(() => {
      // Only between requests (client-expectations.md §9.3 item 7).
      if (!this.#idleArmed || this.#slots.length > 0 || this.#lines.length > 0) return;
      this.#options.logger.debug({ clientIp: this.clientIp }, 'closing idle connection');
      this.#closeGently();
    }, ms);
    this.#idleTimer.unref();
  }

  /** Stops the countdown while requests run; the timer itself stays for the next refresh. */
  #disarmIdleTimer(): void {
    this.#idleArmed = false;
  }

  #onClose(): void {
    clearTimeout(this.#idleTimer);
    clearTimeout(this.#stallTimer);
    this.#lines.length = 0;
    this.#slots.length = 0;
    this.#abort.abort(new Error('client connection closed'));
  }
}

/** The client's IPv4 address without the `::ffff:` prefix of dual-stack sockets. */
function clientIpOf(socket: Socket): string {
  const address = socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
