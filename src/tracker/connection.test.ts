import { afterEach, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../test/helpers/memory-logger.js';
import { TrackerConnection } from '../../test/helpers/tracker-connection.js';
import type { ConnectionContext, Dispatcher } from './dispatch.js';
import { TrackerServer } from './server.js';

/** A dispatcher whose replies the test releases by hand, in any order. */
class HeldDispatcher implements Dispatcher {
  readonly started: {
    line: string;
    ctx: ConnectionContext;
    release(reply: string | null): void;
  }[] = [];
  readonly #waiters: (() => void)[] = [];

  handleLine(line: string | Uint8Array, ctx: ConnectionContext): Promise<string | null> {
    return new Promise((release) => {
      this.started.push({ line: Buffer.from(line).toString(), ctx, release });
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  async waitForStarted(count: number): Promise<void> {
    while (this.started.length < count) {
      await new Promise<void>((wake) => this.#waiters.push(wake));
    }
  }
}

const servers: TrackerServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(dispatcher: Dispatcher, pipelineDepth = 4) {
  const { logger, records } = memoryLogger();
  const server = new TrackerServer({
    dispatcher,
    logger,
    maxLineBytes: 1000,
    idleTimeoutMs: 0,
    pipelineDepth,
    writeStallMs: 120_000,
    shutdownTimeoutMs: 2000,
  });
  servers.push(server);
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  return { server, port, records };
}

describe('ClientConnection', () => {
  it('writes replies in request order when requests finish out of order', async () => {
    const held = new HeldDispatcher();
    const { port } = await serve(held);
    const conn = await TrackerConnection.open(port);
    conn.send('a\r\nb\r\n\r\nc\r\n');
    await held.waitForStarted(4);
    expect(held.started.map((request) => request.line)).toEqual(['a\r', 'b\r', '\r', 'c\r']);
    held.started[3]!.release('C\r\n');
    held.started[2]!.release(null);
    held.started[1]!.release('B\r\n');
    expect(conn.unread).toBe('');
    held.started[0]!.release('A\r\n');
    expect(await conn.readLine()).toBe('A\r\n');
    expect(await conn.readLine()).toBe('B\r\n');
    expect(await conn.readLine()).toBe('C\r\n');
    conn.close();
  });

  it('runs at most pipelineDepth requests of one connection at once', async () => {
    const held = new HeldDispatcher();
    const { port } = await serve(held, 1);
    const conn = await TrackerConnection.open(port);
    conn.send('one\ntwo\n');
    await held.waitForStarted(1);
    expect(held.started).toHaveLength(1);
    held.started[0]!.release('1\r\n');
    await held.waitForStarted(2);
    held.started[1]!.release('2\r\n');
    expect(await conn.readLine()).toBe('1\r\n');
    expect(await conn.readLine()).toBe('2\r\n');
    conn.close();
  });

  it('aborts running requests and drops their replies when the client resets', async () => {
    const held = new HeldDispatcher();
    const { port } = await serve(held);
    const conn = await TrackerConnection.open(port);
    conn.send('slow\n');
    await held.waitForStarted(1);
    const { ctx, release } = held.started[0]!;
    expect(ctx.signal.aborted).toBe(false);
    expect(ctx.clientIp).toBe('127.0.0.1');
    // A plain close is only a half-close to the server, which then still answers (see
    // test/tracker/half-close.test.ts); a reset says the client is gone.
    conn.reset();
    await new Promise<void>((done) => ctx.signal.addEventListener('abort', () => done()));
    release('late\r\n');
  });

  it('closes the connection when a request can produce no reply at all', async () => {
    const { port, records } = await serve({
      handleLine: async () => {
        throw new Error('dispatch bug');
      },
    });
    const conn = await TrackerConnection.open(port);
    conn.send('anything\r\n');
    await conn.waitClosed();
    expect(conn.unread).toBe('');
    expect(records.some((record) => record.msg === 'dispatch failed')).toBe(true);
  });

  it('closes on a line longer than the limit, with or without its LF', async () => {
    const { port } = await serve(new HeldDispatcher());
    for (const tail of ['', '\n']) {
      const conn = await TrackerConnection.open(port);
      conn.send(`${'z'.repeat(1001)}${tail}`);
      await conn.waitClosed();
    }
  });

  it('on close, finishes running requests, flushes them, and starts no others', async () => {
    const held = new HeldDispatcher();
    const { server, port } = await serve(held, 1);
    const conn = await TrackerConnection.open(port);
    conn.send('first\nsecond\n');
    await held.waitForStarted(1);
    const closed = server.close();
    held.started[0]!.release('done\r\n');
    expect(await conn.readLine()).toBe('done\r\n');
    await conn.waitClosed();
    await closed;
    expect(held.started).toHaveLength(1);
  });
});
