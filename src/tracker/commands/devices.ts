import { DEVICE_STATES, type DeviceState, MetaDuplicateError } from '../../meta/index.js';
import { MogileError } from '../../protocol/errors.js';
import type { ClusterSnapshot } from '../cluster-view.js';
import type { CommandContext, CommandHandler, ReplyArgs, RequestArgs } from '../command.js';
import { isTruthy } from '../command.js';
import { digitsOnly } from './args.js';

function isDeviceState(value: string | undefined): value is DeviceState {
  return (DEVICE_STATES as readonly (string | undefined)[]).includes(value);
}

/** `create_device` (§6.10): validates state, devid, then the host. */
async function createDevice(args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  const state = args.get('state') || 'alive';
  if (!isDeviceState(state)) throw new MogileError('invalid_state');
  // mogadm accepts `dev5` as well as `5`.
  const devid = digitsOnly(args.get('devid')?.replace(/^dev/, ''));
  if (devid === undefined || devid === 0 || devid > 16777215)
    throw new MogileError('invalid_devid');
  const snapshot = await ctx.services.cluster.refresh();
  const hostid = findHostId(args, snapshot);
  try {
    await ctx.services.meta.createDevice({ devid, hostid, status: state, weight: 100 });
  } catch (error) {
    if (error instanceof MetaDuplicateError) throw new MogileError('existing_devid');
    throw error;
  }
  await ctx.services.cluster.refresh();
  return {};
}

function findHostId(args: RequestArgs, snapshot: ClusterSnapshot): number {
  const hostid = args.get('hostid');
  if (isTruthy(hostid)) {
    const id = digitsOnly(hostid);
    if (id === undefined || !snapshot.host(id)) throw new MogileError('unknown_hostid');
    return id;
  }
  const hostname = args.get('hostname');
  if (isTruthy(hostname)) {
    const host = snapshot.hostByName(hostname);
    if (!host) throw new MogileError('unknown_host');
    return host.hostid;
  }
  throw new MogileError('bad_args', 'No hostid/hostname parameter');
}

/** The device named by `host` + `device`, as `set_state` and `set_weight` find it (§6.11). */
function readHostDevice(args: RequestArgs): { hostname: string; devid: number } {
  const hostname = args.get('host');
  const devid = digitsOnly(args.get('device'));
  if (!isTruthy(hostname) || devid === undefined || devid === 0)
    throw new MogileError('bad_params');
  return { hostname, devid };
}

async function loadHostDevice(ctx: CommandContext, hostname: string, devid: number) {
  const snapshot = await ctx.services.cluster.refresh();
  const device = snapshot.device(devid);
  if (!device) throw new MogileError('no_device');
  if (snapshot.host(device.hostid)?.name !== hostname) throw new MogileError('host_mismatch');
  return device;
}

/** `set_state` (§6.11): dead is final, except through `down` or `readonly`. */
async function setState(args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  const { hostname, devid } = readHostDevice(args);
  const state = args.get('state');
  if (!isDeviceState(state)) throw new MogileError('bad_params');
  const device = await loadHostDevice(ctx, hostname, devid);
  if (device.status === 'dead' && state === 'alive') throw new MogileError('state_too_high');
  await ctx.services.meta.updateDevice(devid, { status: state });
  await ctx.services.cluster.refresh();
  return {};
}

/**
 * `set_weight` (§6.12). The original reads a non-numeric weight as 0; we refuse it, so a
 * typo cannot silently change a device's share of reads.
 */
async function setWeight(args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  const { hostname, devid } = readHostDevice(args);
  const weight = digitsOnly(args.get('weight'));
  if (weight === undefined || weight > 8388607) throw new MogileError('bad_params');
  await loadHostDevice(ctx, hostname, devid);
  await ctx.services.meta.updateDevice(devid, { weight });
  await ctx.services.cluster.refresh();
  return {};
}

/** `get_devices` (§6.9), optionally for one `devid`, with this tracker's observations. */
async function getDevices(args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  const snapshot = await ctx.services.cluster.current();
  const wanted = args.get('devid');
  const devices = isTruthy(wanted)
    ? snapshot.devices.filter((device) => String(device.devid) === wanted)
    : snapshot.devices;
  const reply: Record<string, string | number | null> = { devices: devices.length };
  for (const [i, device] of devices.entries()) {
    const prefix = `dev${i + 1}_`;
    const seen = ctx.services.observations.device(device.devid);
    const mbFree = device.mbTotal && device.mbUsed !== null ? device.mbTotal - device.mbUsed : null;
    reply[`${prefix}devid`] = device.devid;
    reply[`${prefix}hostid`] = device.hostid;
    reply[`${prefix}status`] = device.status;
    reply[`${prefix}weight`] = device.weight;
    reply[`${prefix}mb_total`] = device.mbTotal;
    reply[`${prefix}mb_used`] = device.mbUsed;
    // The original always leaves mb_asof empty (§6.9 QUIRK); the real value hurts no one.
    reply[`${prefix}mb_asof`] = device.mbAsof;
    reply[`${prefix}mb_free`] = mbFree;
    reply[`${prefix}observed_state`] = seen?.state ?? '';
    reply[`${prefix}utilization`] = seen?.utilization ?? '';
    reply[`${prefix}reject_bad_md5`] =
      seen?.rejectBadMd5 === undefined ? '' : seen.rejectBadMd5 ? 1 : 0;
  }
  return reply;
}

export const deviceCommands: Readonly<Record<string, CommandHandler>> = {
  create_device: createDevice,
  set_state: setState,
  set_weight: setWeight,
  get_devices: getDevices,
};
