import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { bodyBuffer, dumpBody, NodeHttpTimeout, nodeAgent, nodeRequest } from './node-http.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const servers: Server[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

async function serve(handler: Handler): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('nodeRequest', () => {
  it('answers status, headers and body, and reuses the connection after a dump', async () => {
    const base = await serve((req, res) => {
      const text = `${req.method} ${req.url}`;
      // With a length, as storage nodes answer a HEAD: node:http reuses the connection.
      res.writeHead(200, {
        'x-peer-port': String(req.socket.remotePort),
        'content-length': String(text.length),
      });
      res.end(req.method === 'HEAD' ? undefined : text);
    });
    const agent = nodeAgent(1);
    try {
      const first = await nodeRequest(`${base}/a?x=1`, { agent, headersTimeoutMs: 5000 });
      expect(first.statusCode).toBe(200);
      expect((await bodyBuffer(first.body)).toString()).toBe('GET /a?x=1');
      const second = await nodeRequest(`${base}/b`, {
        agent,
        method: 'HEAD',
        headersTimeoutMs: 5000,
      });
      await dumpBody(second.body);
      const third = await nodeRequest(`${base}/c`, { agent, headersTimeoutMs: 5000 });
      await dumpBody(third.body);
      const ports = [first, second, third].map((r) => r.headers['x-peer-port']);
      expect(new Set(ports).size).toBe(1);
    } finally {
      agent.destroy();
    }
  });

  it('sends a streamed body and counts each piece as a sign of life', async () => {
    const base = await serve(async (req, res) => {
      const received = await bodyBuffer(req);
      res.end(String(received.length));
    });
    const agent = nodeAgent(1);
    const body = new PassThrough();
    // Eight pieces 60 ms apart: 420 ms in all, well past the 250 ms allowed between them.
    let sent = 0;
    const pump = setInterval(() => {
      if (sent++ < 8) body.write(Buffer.alloc(1000, 1));
      else {
        clearInterval(pump);
        body.end();
      }
    }, 60);
    try {
      const response = await nodeRequest(base, {
        agent,
        method: 'PUT',
        body,
        headersTimeoutMs: 250,
      });
      expect((await bodyBuffer(response.body)).toString()).toBe('8000');
    } finally {
      clearInterval(pump);
      agent.destroy();
    }
  });

  it('gives up on a node that does not answer', async () => {
    const base = await serve(() => undefined);
    const agent = nodeAgent(1);
    try {
      await expect(nodeRequest(base, { agent, headersTimeoutMs: 100 })).rejects.toBeInstanceOf(
        NodeHttpTimeout,
      );
    } finally {
      agent.destroy();
    }
  });

  it('does not count the wait for a free connection against the node', async () => {
    const base = await serve((req, res) => {
      // The first request holds the only connection for longer than the second may wait.
      setTimeout(() => res.end('ok'), req.url === '/slow' ? 400 : 0);
    });
    const agent = nodeAgent(1);
    try {
      const slow = nodeRequest(`${base}/slow`, { agent, headersTimeoutMs: 5000 });
      const queued = nodeRequest(`${base}/fast`, { agent, headersTimeoutMs: 250 });
      await dumpBody((await slow).body);
      const answer = await queued;
      expect((await bodyBuffer(answer.body)).toString()).toBe('ok');
    } finally {
      agent.destroy();
    }
  });

  it('breaks a body that falls silent', async () => {
    const base = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': '10' });
      res.write('12345');
    });
    const agent = nodeAgent(1);
    try {
      const response = await nodeRequest(base, { agent, headersTimeoutMs: 5000, bodyIdleMs: 100 });
      expect(response.statusCode).toBe(200);
      await expect(bodyBuffer(response.body)).rejects.toBeInstanceOf(NodeHttpTimeout);
    } finally {
      agent.destroy();
    }
  });

  it('fails with the error of a body that breaks, and when its signal aborts', async () => {
    const base = await serve((req) => req.resume());
    const agent = nodeAgent(2);
    try {
      const broken = new Readable({
        read() {
          this.destroy(new Error('source broke'));
        },
      });
      await expect(
        nodeRequest(base, { agent, method: 'PUT', body: broken, headersTimeoutMs: 5000 }),
      ).rejects.toThrow('source broke');
      const abort = new AbortController();
      const pending = nodeRequest(base, { agent, headersTimeoutMs: 5000, signal: abort.signal });
      abort.abort();
      await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    } finally {
      agent.destroy();
    }
  });
});
