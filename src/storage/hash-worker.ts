/**
 * Worker-thread side of hash-offload.ts: hashes upload bodies (MD5 and SHA-1) so the
 * event loop that receives them never stalls on hashing. Messages of one session arrive in
 * order; every update is acknowledged so the sender can bound what is in flight.
 */
import { createHash, type Hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import type { HashReply, HashRequest } from './hash-offload.js';

const sessions = new Map<number, { md5: Hash; sha1: Hash }>();
const port = parentPort!;

port.on('message', (message: HashRequest) => {
  if (message.op === 'drop') {
    sessions.delete(message.id);
    return;
  }
  let session = sessions.get(message.id);
  if (!session) {
    session = { md5: createHash('md5'), sha1: createHash('sha1') };
    sessions.set(message.id, session);
  }
  if (message.op === 'update') {
    session.md5.update(message.data);
    session.sha1.update(message.data);
    port.postMessage({ op: 'ack', id: message.id, bytes: message.data.length } satisfies HashReply);
    return;
  }
  sessions.delete(message.id);
  const md5 = session.md5.digest();
  port.postMessage({
    op: 'digest',
    id: message.id,
    md5: md5.toString('hex'),
    md5Base64: md5.toString('base64'),
    sha1: session.sha1.digest('hex'),
  } satisfies HashReply);
});
