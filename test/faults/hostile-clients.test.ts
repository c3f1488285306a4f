import { connect, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MogileClient } from '../../src/client/index.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { residentKib } from './fault-helpers.js';

/** Opens `count` sockets that each trickle `chunk` every `everyMs`; returns them. */
async function slowloris(
  port: number,
  count: number,
  first: string,
  chunk: string,
  everyMs: number,
) {
  const sockets: Socket[] = [];
  const closed = { count: 0 };
  for (let i = 0; i < count; i++) {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.on('connect', () => socket.write(first));
    socket.on('close', () => {
      closed.count += 1;
    });
    const timer = setInterval(() => socket.writable && socket.write(chunk), everyMs);
    socket.on('close', () => clearInterval(timer));
    sockets.push(socket);
  }
  await Promise.all(
    sockets.map((s) => new Promise((resolve) => s.once('connect', resolve).once('error', resolve))),
  );
  return {
    sockets,
    closed,
    stop: () => {
      for (const socket of sockets) socket.destroy();
    },
  };
}

/** Opens and drops `total` connections, `batch` at a time; half send a partial request. */
async function churn(port: number, total: number, partial: string, batch = 500) {
  for (let done = 0; done < total; done += batch) {
    await Promise.all(
      Array.from(
        { length: Math.min(batch, total - done) },
        (_, i) =>
          new Promise<void>((resolve) => {
            const socket = connect(port, '127.0.0.1');
            socket.on('error', () => resolve());
            socket.on('close', () => resolve());
            socket.on('connect', () => {
              if (i % 2 === 0) socket.write(partial);
              socket.destroy();
            });
          }),
      ),
    );
  }
}

/** docs/faults.md: hostile clients against the tracker and a storage node. */
describe('hostile clients', () => {
  let cluster: TestCluster;
  let client: MogileClient;

  beforeAll(async () => {
    cluster = await startCluster({
      nodes: 1,
      devicesPerNode: 1,
      classes: { one: 1 },
      nodeArgs: ['--headers-timeout', '1500'],
    });
    client = new MogileClient({ trackers: [cluster.trackerAddress], domain: 'd' });
    await client.store('victim', Buffer.from('still served'), { class: 'one' });
  }, 60_000);
  afterAll(async () => {
    await client?.close();
    await cluster?.stop();
  });

  /** A normal client's store and get, timed. */
  async function normalRoundTripMs(key: string): Promise<number> {
    const started = Date.now();
    await client.store(key, Buffer.from(`body of ${key}`), { class: 'one' });
    expect((await client.get(key)).toString()).toBe(`body of ${key}`);
    expect((await client.get('victim')).toString()).toBe('still served');
    return Date.now() - started;
  }

  it('slowloris on the tracker and the node: other clients are still served', async () => {
    const node = cluster.nodes[0]!;
    const trackerRss = residentKib(cluster.tracker.pid);
    const onTracker = await slowloris(
      cluster.tracker.port,
      300,
      'get_paths domain=d&key=',
      'g',
      200,
    );
    const onNode = await slowloris(
      node.http.port,
      300,
      'GET /dev1/usage HTTP/1.1\r\nX-Slow: ',
      'X',
      200,
    );
    try {
      for (let i = 0; i < 3; i++)
        expect(await normalRoundTripMs(`during-loris-${i}`)).toBeLessThan(2000);
      // Observed (docs/faults.md): a lone node cuts trickling headers at its headers timeout,
      // but with keep-alive traffic running they were not all cut; only report the count.
      await delay(3000);
      console.log(`slow node connections closed after 3 s: ${onNode.closed.count} of 300`);
      expect(await normalRoundTripMs('after-loris')).toBeLessThan(2000);
      expect(residentKib(cluster.tracker.pid) - trackerRss).toBeLessThan(64 * 1024);
    } finally {
      onTracker.stop();
      onNode.stop();
    }
  });

  it('10,000 connections opened and dropped: memory stays bounded, clients are served', async () => {
    const node = cluster.nodes[0]!;
    const nodePid = node.child.pid!;
    const before = { tracker: residentKib(cluster.tracker.pid), node: residentKib(nodePid) };
    await Promise.all([
      churn(cluster.tracker.port, 10_000, 'get_paths domain=d&key=vic'),
      churn(
        node.http.port,
        10_000,
        'PUT /dev1/0/000/000/0000000001.fid HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc',
      ),
    ]);
    await delay(200);
    const after = { tracker: residentKib(cluster.tracker.pid), node: residentKib(nodePid) };
    console.log(`RSS KiB before ${JSON.stringify(before)} after ${JSON.stringify(after)}`);
    expect(after.tracker - before.tracker).toBeLessThan(64 * 1024);
    expect(after.node - before.node).toBeLessThan(64 * 1024);
    expect(await normalRoundTripMs('after-churn')).toBeLessThan(2000);
  }, 120_000);
});
