import { MetaDuplicateError } from '../../meta/index.js';
import { MogileError } from '../../protocol/errors.js';
import type { CommandContext, CommandHandler, ReplyArgs, RequestArgs } from '../command.js';
import { isTruthy } from '../command.js';
import { chooseUploadDevices } from '../device-selection.js';
import { storageUrl } from '../storage-urls.js';
import { byteLength, leadingInteger } from './args.js';
import { findClassByName } from './class-list.js';
import { checkDomain } from './domain-check.js';

/**
 * `create_open` (spec tracker-protocol.md §5.1): reserves a fresh fid and picks where the
 * client uploads it. Nothing but a tempfile row exists until `create_close`.
 */
async function createOpen(args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  const { domain, snapshot } = await checkDomain(args, ctx);
  const { services } = ctx;
  const className = args.get('class') ?? '';
  const classRow =
    className === ''
      ? undefined
      : findClassByName(snapshot, domain.dmid, className, services.options.defaultMindevcount);
  if (className !== '' && !classRow) throw new MogileError('unreg_class');

  const key = args.get('key') ?? '';
  if (byteLength(key) > 255) throw new MogileError('key_too_long');
  await services.monitor.firstRound();
  const multi = isTruthy(args.get('multi_dest'));
  const size = leadingInteger(args.get('size'));
  const devices = chooseUploadDevices(await services.cluster.current(), services.observations, {
    count: multi ? 3 : 1,
    ...(size !== undefined && size > 0 && { sizeBytes: size }),
    minFreeSpaceMb: services.options.minFreeSpaceMb,
  });
  if (devices.length === 0) throw new MogileError('no_devices');

  const explicitFid = leadingInteger(args.get('fid'));
  if (explicitFid !== undefined && explicitFid > 0 && explicitFid <= services.startupMaxFid) {
    throw new MogileError('fid_in_use');
  }
  let fid: number;
  try {
    fid = await services.meta.reserveTempfile({
      ...(explicitFid !== undefined && explicitFid > 0 && { fid: explicitFid }),
      dmid: domain.dmid,
      classid: classRow?.classid ?? 0,
      key,
      devids: devices.map((view) => view.device.devid),
      createdSeconds: services.nowSeconds(),
    });
  } catch (error) {
    if (error instanceof MetaDuplicateError) throw new MogileError('fid_in_use');
    throw error;
  }

  const audience = { clientIp: ctx.clientIp, zone: args.get('zone') };
  const urls = devices.map((view) =>
    ctx.services.nodes.sign(storageUrl(view.host, view.device.devid, fid, 'upload', audience)),
  );
  if (!multi) return { fid, devid: devices[0]!.device.devid, path: urls[0] };
  const reply: Record<string, string | number> = { fid, dev_count: devices.length };
  for (const [i, view] of devices.entries()) {
    reply[`devid_${i + 1}`] = view.device.devid;
    reply[`path_${i + 1}`] = urls[i]!;
  }
  return reply;
}

export const createOpenCommand: Readonly<Record<string, CommandHandler>> = {
  create_open: createOpen,
};
