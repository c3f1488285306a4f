import {
  type ClassRow,
  MetaDuplicateError,
  MetaKeyCollisionError,
  type StoredChecksum,
  type TempfileRow,
} from '../../meta/index.js';
import { MogileError } from '../../protocol/errors.js';
import { InvariantError } from '../../protocol/invariant-error.js';
import type { ClusterSnapshot } from '../cluster-view.js';
import type { CommandContext, CommandHandler, ReplyArgs, RequestArgs } from '../command.js';
import { isTruthy } from '../command.js';
import { storageUrl } from '../storage-urls.js';
import { unsignedUrl } from '../url-signer.js';
import { byteLength, hashtypeId, hashtypeName, leadingInteger } from './args.js';
import { domainClasses } from './class-list.js';
import { checkDomain } from './domain-check.js';
import { awaitClassCopies } from './sync-durability.js';
import { type ClientChecksum, parseChecksumArg, readNodeDigest } from './upload-checksum.js';

interface CloseRequest {
  readonly fid: number;
  readonly devid: number;
  readonly path: string;
  readonly key: string | undefined;
  readonly sizeBytes: number | undefined;
  readonly checksum: ClientChecksum | undefined;
}

/**
 * `create_close` (spec tracker-protocol.md §5.2): verifies the upload on the node and binds
 * the key to it. Errors are checked in the original's order; once the tempfile row is
 * claimed, every failure abandons the upload so the delete worker removes its bytes.
 */
async function createClose(args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  const { domain, snapshot } = await checkDomain(args, ctx);
  const request = readCloseRequest(args, ctx, snapshot);
  const { meta } = ctx.services;
  const tempfile = await meta.claimTempfile(request.fid);
  if (!tempfile) throw new MogileError('no_temp_file');
  if (tempfile.fid !== request.fid) {
    throw new InvariantError(`claimed tempfile of fid ${tempfile.fid} for fid ${request.fid}`);
  }
  const abandon = async (error: MogileError) => {
    await meta.abandonUpload(request.fid, request.devid, ctx.services.nowSeconds());
    throw error;
  };

  // The original never compares the domains of open and close (§5.2 step 15 QUIRK).
  if (tempfile.dmid !== domain.dmid) {
    return abandon(
      new MogileError('bogus_args', 'create_close names another domain than create_open'),
    );
  }
  if (!new RegExp(`\\b${request.devid}\\b`).test(tempfile.devids ?? '')) {
    return abandon(
      new MogileError(
        'invalid_destdev',
        `File uploaded to invalid dest ${request.devid}. Valid devices were: ${tempfile.devids ?? ''}`,
      ),
    );
  }
  if (request.key === undefined) {
    // No key: the client cancels its upload (§5.2 step 8).
    await meta.abandonUpload(request.fid, request.devid, ctx.services.nowSeconds());
    return {};
  }
  if (byteLength(request.key) > 255) return abandon(new MogileError('key_too_long'));

  const classRow = classOf(snapshot, tempfile, ctx.services.options.defaultMindevcount);
  let stored: { lengthBytes: number; checksum: StoredChecksum | undefined };
  try {
    stored = await verifyUpload(request, classRow, ctx);
  } catch (error) {
    if (error instanceof MogileError) return abandon(error);
    throw error;
  }

  // Checked before binding, and without abandoning: abandoning queues the fid for
  // deletion, which would remove the copies of the key that already owns it.
  await checkFidIsFree(request.fid, domain.dmid, request.key, ctx);
  try {
    await meta.commitFile({
      fid: request.fid,
      dmid: domain.dmid,
      key: request.key,
      classid: tempfile.classid,
      lengthBytes: stored.lengthBytes,
      devid: request.devid,
      ...(stored.checksum && { checksum: stored.checksum }),
      nowSeconds: ctx.services.nowSeconds(),
    });
  } catch (error) {
    if (error instanceof MetaDuplicateError) throw new MogileError('fid_exists');
    // Nothing was bound: the upload goes, and the other key keeps its file.
    if (error instanceof MetaKeyCollisionError) {
      return abandon(
        new MogileError(
          'key_exists',
          `the database takes key ${request.key} for the existing key ${error.existingKey}`,
        ),
      );
    }
    throw error;
  }
  // The fid waits in file_to_replicate for its other copies: start on them now.
  ctx.services.workers?.replicationQueued();
  if (classRow?.durability === 'sync') await awaitClassCopies(request.fid, classRow, ctx);
  return {};
}

/**
 * A fid being bound must belong to no other key and have no pending delete
 * (architecture.md §4.3, §4.5): either would mean a reused fid, and binding it would serve
 * one key's bytes for another or let the old delete remove the new file.
 */
async function checkFidIsFree(
  fid: number,
  dmid: number,
  key: string,
  ctx: CommandContext,
): Promise<void> {
  const { owner, queuedForDeletion } = await ctx.services.meta.fidBinding(fid);
  if (owner && (owner.dmid !== dmid || owner.key !== key)) {
    throw new InvariantError(
      `fid ${fid} being bound to dmid ${dmid} key ${key} already belongs to dmid ${owner.dmid} key ${owner.key}`,
    );
  }
  if (queuedForDeletion) {
    throw new InvariantError(`fid ${fid} being bound to key ${key} is queued for deletion`);
  }
}

function readCloseRequest(
  args: RequestArgs,
  ctx: CommandContext,
  snapshot: ClusterSnapshot,
): CloseRequest {
  const fidText = args.get('fid');
  if (!isTruthy(fidText)) throw new MogileError('no_fid');
  const devidText = args.get('devid');
  if (!isTruthy(devidText)) throw new MogileError('no_devid');
  const path = args.get('path');
  if (!isTruthy(path)) throw new MogileError('no_path');
  const checksum = parseChecksumArg(args.get('checksum'));
  const fid = leadingInteger(fidText) ?? 0;
  const devid = leadingInteger(devidText) ?? 0;
  const device = snapshot.device(devid);
  const host = device && snapshot.host(device.hostid);
  const expected =
    host && fid > 0
      ? storageUrl(host, devid, fid, 'upload', { clientIp: ctx.clientIp, zone: args.get('zone') })
      : '';
  // A signed path carries its signature in the query; the path itself must match byte for
  // byte. The HEAD below is signed afresh, so an expired upload signature does not matter.
  if (unsignedUrl(path) !== expected) throw new MogileError('bogus_args');
  const key = args.get('key');
  const size = leadingInteger(args.get('size'));
  return {
    fid,
    devid,
    path,
    key: key === undefined || key === '' ? undefined : key,
    sizeBytes: size !== undefined && size > 0 ? size : undefined,
    checksum,
  };
}

function classOf(
  snapshot: ClusterSnapshot,
  tempfile: TempfileRow,
  defaultMindevcount: number,
): ClassRow | undefined {
  return domainClasses(snapshot, tempfile.dmid, defaultMindevcount).find(
    (row) => row.classid === tempfile.classid,
  );
}

/**
 * HEADs the upload, checks its size and the client's checksum, and returns the checksum to
 * record: the class's algorithm when it has one, else MD5 (architecture.md §4 rule 4).
 */
async function verifyUpload(
  request: CloseRequest,
  classRow: ClassRow | undefined,
  ctx: CommandContext,
): Promise<{ lengthBytes: number; checksum: StoredChecksum | undefined }> {
  const expectedText = String(request.sizeBytes ?? -1);
  let head: Awaited<ReturnType<CommandContext['services']['nodes']['head']>>;
  try {
    // Nodes hash uploads with MD5 only; a SHA-1 to check or record is asked for.
    const wantSha1 =
      classRow?.hashtype === hashtypeId('SHA-1') || request.checksum?.algorithm === 'SHA-1';
    head = await ctx.services.nodes.head(
      request.path,
      ctx.services.options.nodeTimeoutMs,
      wantSha1,
    );
  } catch (error) {
    throw new MogileError(
      'size_verify_error',
      `Expected: ${expectedText}; actual: 0 (cantreach); path: ${request.path}; error: ${(error as Error).message}`,
    );
  }
  if (
    head.status === 404 ||
    head.status < 200 ||
    head.status >= 300 ||
    head.sizeBytes === undefined
  ) {
    const why = head.status === 404 ? 'missing' : 'cantreach';
    throw new MogileError(
      'size_verify_error',
      `Expected: ${expectedText}; actual: 0 (${why}); path: ${request.path}; error: HTTP ${head.status}`,
    );
  }
  if (request.sizeBytes !== undefined && request.sizeBytes !== head.sizeBytes) {
    throw new MogileError(
      'size_mismatch',
      `Expected: ${request.sizeBytes}; actual: ${head.sizeBytes}; path: ${request.path}`,
    );
  }
  const recordAlgorithm = hashtypeName(classRow?.hashtype ?? hashtypeId('MD5'));
  const nodeDigest = (algorithm: 'MD5' | 'SHA-1') =>
    readNodeDigest(request.path, request.devid, algorithm, head, ctx);
  if (request.checksum) {
    const actual = await nodeDigest(request.checksum.algorithm);
    if (actual !== request.checksum.hex) {
      const { algorithm, hex } = request.checksum;
      throw new MogileError(
        'checksum_mismatch',
        `Expected: Checksum[f=${request.fid};${algorithm}=${hex}]; actual: ${algorithm}:${actual ?? ''}; path: ${request.path}`,
      );
    }
  }
  const digest = await nodeDigest(recordAlgorithm as 'MD5' | 'SHA-1');
  const checksum = digest && {
    hashtype: hashtypeId(recordAlgorithm)!,
    digest: Buffer.from(digest, 'hex'),
  };
  return { lengthBytes: head.sizeBytes, checksum: checksum || undefined };
}

export const createCloseCommand: Readonly<Record<string, CommandHandler>> = {
  create_close: createClose,
};
