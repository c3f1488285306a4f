import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy between a tracker and its database that can stall the network (hold every
 * byte in both directions, connections stay open), resume it, or cut every connection
 * as a database restart would.
 */
export interface TcpProxy {
  readonly port: number;
  /** Connections currently open through the proxy. */
  readonly connections: number;
  /** Stops forwarding; bytes are kept and delivered on resume(). */
  pause(): void;
  resume(): void;
  /** Destroys every open connection on both sides (new ones are accepted). */
  dropAll(): void;
  close(): Promise<void>;
}

interface Pipe {
  readonly client: Socket;
  readonly upstream: Socket;
  readonly held: { toUpstream: Buffer[]; toClient: Buffer[] };
}

export async function startTcpProxy(
  targetPort: number,
  targetHost = '127.0.0.1',
): Promise<TcpProxy> {
  let paused = false;
  const pipes = new Set<Pipe>();

  const server: Server = createServer((client) => {
    const upstream = connect({ port: targetPort, host: targetHost });
    const pipe: Pipe = { client, upstream, held: { toUpstream: [], toClient: [] } };
    pipes.add(pipe);
    const forward = (from: Socket, to: Socket, held: Buffer[]) => {
      from.on('data', (chunk: Buffer) => {
        if (paused) held.push(chunk);
        else to.write(chunk);
      });
    };
    forward(client, upstream, pipe.held.toUpstream);
    forward(upstream, client, pipe.held.toClient);
    const end = () => {
      pipes.delete(pipe);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.on('error', end);
      socket.on('close', end);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');

  const dropAll = () => {
    for (const { client, upstream } of [...pipes]) {
      client.destroy();
      upstream.destroy();
    }
    pipes.clear();
  };
  return {
    port: address.port,
    get connections() {
      return pipes.size;
    },
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      for (const { client, upstream, held } of pipes) {
        for (const chunk of held.toUpstream.splice(0)) upstream.write(chunk);
        for (const chunk of held.toClient.splice(0)) client.write(chunk);
      }
    },
    dropAll,
    async close() {
      dropAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
