import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SpawnedTracker, spawnTracker } from '../helpers/tracker-process.js';

/** What a client that half-closes after its requests (`nc`, a piped script) reads back. */
function sendAndHalfClose(port: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => {
      received += text;
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
    socket.on('connect', () => socket.end(payload));
  });
}

describe('a client that half-closes after its requests', () => {
  let tracker: SpawnedTracker;
  beforeAll(async () => {
    tracker = await spawnTracker();
  });
  afterAll(async () => {
    await tracker?.stop();
  });

  it('gets every reply, in order, then the connection closes', async () => {
    const lines = Array.from({ length: 50 }, (_, i) => `create_domain domain=half-${i}\r\n`);
    const reply = await sendAndHalfClose(tracker.port, `${lines.join('')}noop callid=last\r\n`);
    const replies = reply.split('\r\n').filter(Boolean);
    expect(replies).toHaveLength(51);
    expect(replies[0]).toBe('OK domain=half-0');
    expect(replies[49]).toBe('OK domain=half-49');
    expect(replies[50]).toBe('OK callid=last');
  });
});
