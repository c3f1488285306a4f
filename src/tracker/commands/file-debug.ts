import type { FileRow } from '../../meta/index.js';
import {
  type CommandContext,
  type CommandHandler,
  isTruthy,
  type ReplyArgs,
  type RequestArgs,
} from '../command.js';
import { storageUrl } from '../storage-urls.js';
import { leadingInteger } from './args.js';
import { classOfFile, findKeyFile, formatChecksum } from './file-reads.js';
import { replicationStatus } from './replication-status.js';

const QUEUE_NAMES: Readonly<Record<number, string>> = { 1: 'fsckqueue', 2: 'rebqueue' };

/**
 * `file_debug` (§5.8): everything the database knows about a fid, by `fid` or by key.
 * An unknown fid answers `checksum=NONE`, as in the original.
 */
async function fileDebug(args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  const { meta } = ctx.services;
  let fid: number;
  let file: FileRow | undefined;
  if (isTruthy(args.get('fid'))) {
    fid = leadingInteger(args.get('fid')) ?? 0;
    file = await meta.findFileByFid(fid);
  } else {
    file = (await findKeyFile(args, ctx)).file;
    fid = file.fid;
  }
  const snapshot = await ctx.services.cluster.current();
  const reply: Record<string, string | number | null> = Object.create(null);
  if (file) {
    reply['fid_fid'] = file.fid;
    reply['fid_dmid'] = file.dmid;
    reply['fid_dkey'] = file.key;
    reply['fid_length'] = file.length;
    reply['fid_classid'] = file.classid;
    reply['fid_devcount'] = file.devcount;
    reply['fid_domain'] = snapshot.domains.find((row) => row.dmid === file.dmid)?.name ?? '';
    reply['fid_class'] = classOfFile(snapshot, file, ctx)?.name ?? '';
  }
  const queues = await meta.fidQueues(fid);
  if (queues.tempfile) {
    reply['tempfile_classid'] = queues.tempfile.classid;
    reply['tempfile_dmid'] = queues.tempfile.dmid;
    reply['tempfile_dkey'] = queues.tempfile.key;
    reply['tempfile_devids'] = queues.tempfile.devids;
  }
  if (queues.replicate) {
    reply['replqueue_fid'] = fid;
    reply['replqueue_nexttry'] = queues.replicate.nexttry;
    reply['replqueue_fromdevid'] = queues.replicate.fromdevid;
    reply['replqueue_failcount'] = queues.replicate.failcount;
    reply['replqueue_flags'] = queues.replicate.flags;
  }
  if (queues.delete) {
    reply['delqueue_fid'] = fid;
    reply['delqueue_nexttry'] = queues.delete.nexttry;
    reply['delqueue_failcount'] = queues.delete.failcount;
  }
  for (const row of queues.queued) {
    const name = QUEUE_NAMES[row.type];
    if (!name) continue;
    reply[`${name}_fid`] = fid;
    reply[`${name}_devid`] = row.devid;
    reply[`${name}_type`] = row.type;
    reply[`${name}_nexttry`] = row.nexttry;
    reply[`${name}_failcount`] = row.failcount;
    reply[`${name}_flags`] = row.flags;
    reply[`${name}_arg`] = row.arg;
  }
  const devids = await meta.fileDevids(fid);
  for (const devid of devids) {
    const device = snapshot.device(devid);
    const host = device && snapshot.host(device.hostid);
    if (host) {
      const url = storageUrl(host, devid, fid, 'read', { clientIp: ctx.clientIp });
      reply[`devpath_${devid}`] = ctx.services.nodes.sign(url, 'read');
    }
  }
  if (devids.length > 0) reply['devids'] = devids.join(',');
  if (file) Object.assign(reply, replicationStatus(file, devids, snapshot, ctx));
  const checksum = await meta.getChecksum(fid);
  reply['checksum'] = checksum ? formatChecksum(checksum) : 'NONE';
  return reply;
}

export const fileDebugCommand: Readonly<Record<string, CommandHandler>> = { file_debug: fileDebug };
