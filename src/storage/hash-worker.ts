/**
 * Worker-thread side of hash-offload.ts: computes the MD5 of upload bodies so the event
 * loop that receives them never waits for it. Messages of one session arrive in order;
 * every update is acknowledged so the sender can bound what is in flight.
 */
import { createHash, type Hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import type { HashReply, HashRequest } from './hash-offload.js';

const sessions = new Map<number, Hash>();
const port = parentPort!;

port.on('message', (message: HashRequest) => {
  if (message.op === 'drop') {
    sessions.delete(message.id);
    return;
  }
  let md5 = sessions.get(message.id);
  if (!md5) {
    md5 = createHash('md5');
    sessions.set(message.id, md5);
  }
  if (message.op === 'update') {
    md5.update(new Uint8Array(message.data, 0, message.bytes));
    // The buffer goes back to be filled again (hash-offload.ts).
    port.postMessage(
      { op: 'ack', id: message.id, bytes: message.bytes, data: message.data } satisfies HashReply,
      [message.data],
    );
    return;
  }
  sessions.delete(message.id);
  port.postMessage({ op: 'digest', id: message.id, md5: md5.digest() } satisfies HashReply);
});
