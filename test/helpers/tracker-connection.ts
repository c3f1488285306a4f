import { connect, type Socket } from 'node:net';

const DEFAULT_TIMEOUT_MS = 5000;

/**
 * A raw line-based TCP client for tests: it sends exact bytes and reads exact lines, so
 * tests can check framing (`OK \r\n`, `.` lines) byte for byte.
 */
export class TrackerConnection {
  readonly #socket: Socket;
  #buffer = '';
  #ended = false;
  #waiters: (() => void)[] = [];
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => {
      this.#buffer += text;
      this.#wake();
    });
    socket.on('error', () => {});
    this.closed = new Promise((done) =>
      socket.once('close', () => {
        this.#ended = true;
        this.#wake();
        done();
      }),
    );
  }

  static open(port: number, host = '127.0.0.1'): Promise<TrackerConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host }, () => {
        socket.off('error', reject);
        resolve(new TrackerConnection(socket));
      });
      socket.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.#ended;
  }

  /** Bytes received and not read yet. */
  get unread(): string {
    return this.#buffer;
  }

  /** Writes raw bytes (nothing added). */
  send(data: string | Uint8Array): void {
    this.#socket.write(data);
  }

  /** Sends one request (CRLF added unless present) and returns its reply line, CRLF kept. */
  async request(line: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
    this.send(line.endsWith('\n') ? line : `${line}\r\n`);
    return this.readLine(timeoutMs);
  }

  /** Sends a `!` command and returns its whole reply, up to and including the `.` line. */
  async admin(line: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
    this.send(`${line}\r\n`);
    return this.readUntil(/(?:^|\n)\.\r\n/, timeoutMs);
  }

  /** The next line, terminator included. */
  readLine(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
    return this.readUntil(/\n/, timeoutMs);
  }

  /** Reads up to and including the first match of `end`. */
  async readUntil(end: RegExp, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = end.exec(this.#buffer);
      if (match) {
        const taken = this.#buffer.slice(0, match.index + match[0].length);
        this.#buffer = this.#buffer.slice(taken.length);
        return taken;
      }
      if (this.#ended)
        throw new Error(`connection closed; unread: ${JSON.stringify(this.#buffer)}`);
      if (Date.now() >= deadline) {
        throw new Error(
          `no ${end} within ${timeoutMs} ms; unread: ${JSON.stringify(this.#buffer)}`,
        );
      }
      await this.#nextEvent(deadline - Date.now());
    }
  }

  /** Resolves when the server closes the connection; fails after `timeoutMs`. */
  async waitClosed(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('connection still open')), timeoutMs);
    });
    try {
      await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.#socket.destroy();
  }

  /** Drops the connection with a reset, as a client that crashed or gave up does. */
  reset(): void {
    this.#socket.resetAndDestroy();
  }

  #nextEvent(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
