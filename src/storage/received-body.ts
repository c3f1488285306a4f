import { type FileHandle, rename, unlink } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { dirname } from 'node:path';
import type { Device } from './device-registry.js';
import { DigestFileSink } from './digest-sink.js';
import type { FileDigest, FileVersion } from './digest-store.js';
import { InlineHasher } from './hash-offload.js';
import type { NodeContext } from './node-context.js';
import { createTempFile } from './temp-files.js';

/** A body received completely into a temp file, not yet fsynced or in place. */
export interface ReceivedBody {
  readonly tempPath: string;
  readonly file: FileHandle;
  readonly bytes: number;
  readonly digest: FileDigest;
  readonly md5Base64: string;
}

/** The sender went away before the whole body arrived. */
export class ClientGone extends Error {}

/** Uploads of at least this size are hashed on the worker thread. */
const OFFLOAD_HASH_BYTES = 1024 * 1024;

/**
 * Bodies of at least this size (or of unknown size) get their SHA-1 on the way even when
 * nobody asked: a SHA-1 asked for later is read from the file, and for a body this large
 * that read could outlast the tracker's wait for the answer (`node_timeout`).
 */
const SHA1_WHILE_RECEIVING_BYTES = 256 * 1024 * 1024;

/**
 * Streams an incoming body (a client's PUT, or another node's GET reply for a copy) into a
 * new temp file on `device`, hashing it on the way: MD5, and SHA-1 when `withSha1` or the
 * body is very large. On failure nothing is left behind.
 */
export async function receiveBody(
  ctx: NodeContext,
  incoming: IncomingMessage,
  device: Device,
  withSha1: boolean,
): Promise<ReceivedBody> {
  const { path, file } = await createTempFile(device);
  // Small bodies hash inline; large or unknown-size ones on the hash worker.
  const declared = Number(incoming.headers['content-length'] ?? Number.POSITIVE_INFINITY);
  const sha1 = withSha1 || declared >= SHA1_WHILE_RECEIVING_BYTES;
  const hasher =
    declared >= OFFLOAD_HASH_BYTES ? ctx.hashOffload.open(sha1) : new InlineHasher(sha1);
  const sink = new DigestFileSink(file.fd, hasher);
  try {
    await streamInto(incoming, sink);
  } catch (error) {
    hasher.abandon();
    // A background flush may still hold the descriptor until the sink has closed.
    sink.destroy();
    if (!sink.closed) await new Promise((resolve) => sink.once('close', resolve));
    await file.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    ctx.stats.bytesIn(sink.bytesWritten);
    throw error;
  }
  ctx.stats.bytesIn(sink.bytesWritten);
  let digests: Awaited<ReturnType<DigestFileSink['digest']>>;
  try {
    digests = await sink.digest();
  } catch (error) {
    await file.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw error;
  }
  const { digest, md5Base64 } = digests;
  return { tempPath: path, file, bytes: sink.bytesWritten, digest, md5Base64 };
}

/**
 * Pipes the body into the sink with backpressure. Unlike stream.pipeline, a disk error
 * leaves the request (and its socket) open, so the client can still be told 507.
 */
function streamInto(incoming: IncomingMessage, sink: DigestFileSink): Promise<void> {
  return new Promise((resolve, reject) => {
    // The client may have gone while the temp file was being created: its 'close' has
    // fired already and will not fire again.
    if (!incoming.complete && (incoming.destroyed || incoming.closed)) {
      sink.destroy();
      reject(new ClientGone('client went away'));
      return;
    }
    const onClose = () => {
      if (!incoming.complete) {
        sink.destroy();
        reject(new ClientGone('client went away'));
      }
    };
    incoming.once('close', onClose);
    incoming.on('error', () => undefined);
    sink.once('error', (error) => {
      incoming.off('close', onClose);
      incoming.unpipe(sink);
      reject(error);
    });
    sink.once('finish', () => {
      incoming.off('close', onClose);
      resolve();
    });
    incoming.pipe(sink);
  });
}

/** Stores the digest with the file, fsyncs, renames into place and fsyncs the folder. */
export async function commitWhole(
  ctx: NodeContext,
  body: ReceivedBody,
  finalPath: string,
): Promise<FileVersion> {
  const stat = await body.file.stat({ bigint: true });
  const version: FileVersion = { ino: stat.ino, size: stat.size, mtimeNs: stat.mtimeNs };
  await ctx.digests.save(body.tempPath, version, body.digest);
  await timedSync(ctx, body.file);
  await body.file.close();
  await rename(body.tempPath, finalPath);
  // The rename is durable only once its folder is synced (architecture.md §4 rule 6).
  await ctx.folderSync.sync(dirname(finalPath));
  return version;
}

/** Closes and removes a received body that will not be kept. */
export async function discardBody(body: ReceivedBody): Promise<void> {
  await body.file.close().catch(() => undefined);
  await unlink(body.tempPath).catch(() => undefined);
}

export async function timedSync(ctx: NodeContext, file: FileHandle): Promise<void> {
  const started = performance.now();
  await file.sync();
  ctx.stats.fsync(performance.now() - started);
}
