import { connect, type Socket } from 'node:net';

export type PhpLikeReply =
  | { readonly kind: 'line'; readonly line: string }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'closed' };

/**
 * A tracker client that behaves like the PHP pecl client (client-expectations.md §9.2):
 * a short read timeout after which it keeps the socket and sends its next request, so a
 * late reply is read as the answer to a later request. It reconnects only when the
 * tracker has closed the socket. Lines already received stay buffered, as in a stream.
 */
export class PhpLikeClient {
  readonly #port: number;
  readonly #readTimeoutMs: number;
  #socket: Socket | undefined;
  #buffer = '';
  #closed = true;
  #wake: (() => void) | undefined;
  reconnects = 0;

  constructor(port: number, readTimeoutMs: number) {
    this.#port = port;
    this.#readTimeoutMs = readTimeoutMs;
  }

  /** Sends one line and reads one line, as the PHP client does for every command. */
  async ask(line: string): Promise<PhpLikeReply> {
    if (this.#closed) await this.#connect();
    this.#socket!.write(`${line}\r\n`);
    const deadline = performance.now() + this.#readTimeoutMs;
    for (;;) {
      const end = this.#buffer.indexOf('\n');
      if (end >= 0) {
        const reply = this.#buffer.slice(0, end + 1);
        this.#buffer = this.#buffer.slice(end + 1);
        return { kind: 'line', line: reply };
      }
      if (this.#closed) return { kind: 'closed' };
      const leftMs = deadline - performance.now();
      if (leftMs <= 0) return { kind: 'timeout' };
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, leftMs);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  close(): void {
    this.#socket?.destroy();
  }

  async #connect(): Promise<void> {
    if (this.#socket) this.reconnects += 1;
    const socket = connect({ port: this.#port, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    this.#socket = socket;
    this.#buffer = '';
    this.#closed = false;
    socket.setEncoding('latin1');
    socket.on('error', () => undefined);
    socket.on('data', (text: string) => {
      this.#buffer += text;
      this.#wake?.();
    });
    socket.on('close', () => {
      if (this.#socket !== socket) return;
      this.#closed = true;
      this.#wake?.();
    });
  }
}
