import { MetaDuplicateError } from '../../meta/index.js';
import { MogileError } from '../../protocol/errors.js';
import type { CommandContext, CommandHandler, ReplyArgs, RequestArgs } from '../command.js';
import { shouldReadFrom, weightedShuffle } from '../device-state.js';
import { storageUrl } from '../storage-urls.js';
import { findKeyFile } from './file-reads.js';

/**
 * `edit_file` (spec tracker-protocol.md §5.11): gives the client a new fid on a device that
 * holds a readable copy, moves that copy's row to the new fid, and replies with both paths,
 * so the client can MOVE the old file to the new name, edit it with ranged PUTs, and
 * `create_close` the new fid. Unlike the original it needs no memcache (QUIRK a), and
 * `newpath` uses the upload port that `create_close` checks (QUIRK b).
 */
async function editFile(args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  const { domain, snapshot, key, file } = await findKeyFile(args, ctx);
  const { meta, observations } = ctx.services;
  const readable = (await meta.fileDevids(file.fid)).flatMap((devid) => {
    const device = snapshot.device(devid);
    const host = device && snapshot.host(device.hostid);
    const view = device && host ? { device, host } : undefined;
    return view && shouldReadFrom(view, observations) ? [view] : [];
  });
  const [chosen] = weightedShuffle(readable, (view) => view.device.weight || 100);
  if (!chosen) throw new MogileError('no_devices', 'No readable copy of the file to edit');
  const devid = chosen.device.devid;
  let fid: number;
  try {
    fid = await meta.reserveTempfile({
      dmid: domain.dmid,
      classid: file.classid,
      key,
      devids: [devid],
      createdSeconds: ctx.services.nowSeconds(),
    });
  } catch (error) {
    if (error instanceof MetaDuplicateError) throw new MogileError('fid_in_use');
    throw error;
  }
  if (!(await meta.moveCopy(file.fid, fid, devid))) throw new MogileError('db');
  const audience = { clientIp: ctx.clientIp, zone: args.get('zone') };
  return {
    oldpath: ctx.services.nodes.sign(storageUrl(chosen.host, devid, file.fid, 'upload', audience)),
    newpath: ctx.services.nodes.sign(storageUrl(chosen.host, devid, fid, 'upload', audience)),
    fid,
    devid,
    class: file.classid,
  };
}

export const editFileCommand: Readonly<Record<string, CommandHandler>> = { edit_file: editFile };
