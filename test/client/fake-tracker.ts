import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';

/** What a scripted fake tracker does with one request line. */
export type FakeHandler = (request: FakeRequest) => void;

export interface FakeRequest {
  readonly line: string;
  readonly command: string;
  readonly args: URLSearchParams;
  readonly callid: string | undefined;
  readonly socket: Socket;
  /** Index of the connection on this fake (0 = first accepted). */
  readonly connection: number;
  reply(text: string): void;
}

export interface FakeTracker {
  readonly address: string;
  readonly lines: string[];
  readonly connections: Socket[];
  close(): Promise<void>;
}

/** A raw-socket tracker whose every reply is scripted by the test (undici-style fakes). */
export async function startFakeTracker(handler: FakeHandler): Promise<FakeTracker> {
  const lines: string[] = [];
  const connections: Socket[] = [];
  const server: Server = createServer((socket) => {
    const connection = connections.length;
    connections.push(socket);
    socket.on('error', () => {});
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      for (let at = buffered.indexOf('\n'); at !== -1; at = buffered.indexOf('\n')) {
        const line = buffered.slice(0, at).replace(/\r$/, '');
        buffered = buffered.slice(at + 1);
        lines.push(line);
        const space = line.indexOf(' ');
        const command = space === -1 ? line : line.slice(0, space);
        const args = new URLSearchParams(space === -1 ? '' : line.slice(space + 1));
        handler({
          line,
          command,
          args,
          callid: args.get('callid') ?? undefined,
          socket,
          connection,
          reply: (text) => {
            if (!socket.destroyed) socket.write(text);
          },
        });
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return {
    address: `127.0.0.1:${port}`,
    lines,
    connections,
    async close() {
      for (const socket of connections) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/** A free port with nothing listening on it: connecting gets ECONNREFUSED. */
export async function closedPort(): Promise<string> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  await once(server, 'close');
  return `127.0.0.1:${port}`;
}
