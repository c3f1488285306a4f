/**
 * Worker-thread side of hash-offload.ts: hashes upload bodies with one algorithm (MD5 on
 * one worker, SHA-1 on another) so the event loop that receives them never stalls on
 * hashing. Messages of one session arrive in order; every update is acknowledged so the
 * sender can bound what is in flight.
 */
import { createHash, type Hash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import type { HashAlgorithm, HashReply, HashRequest } from './hash-offload.js';

const algorithm = (workerData as { algorithm: HashAlgorithm }).algorithm;
const sessions = new Map<number, Hash>();
const port = parentPort!;

port.on('message', (message: HashRequest) => {
  if (message.op === 'drop') {
    sessions.delete(message.id);
    return;
  }
  let hash = sessions.get(message.id);
  if (!hash) {
    hash = createHash(algorithm);
    sessions.set(message.id, hash);
  }
  if (message.op === 'update') {
    hash.update(message.data);
    port.postMessage({ op: 'ack', id: message.id, bytes: message.data.length } satisfies HashReply);
    return;
  }
  sessions.delete(message.id);
  port.postMessage({ op: 'digest', id: message.id, digest: hash.digest() } satisfies HashReply);
});
