import { isIPv4 } from 'node:net';
import {
  HOST_STATES,
  type HostFields,
  type HostRow,
  MetaDuplicateError,
} from '../../meta/index.js';
import { MogileError } from '../../protocol/errors.js';
import type { CommandContext, CommandHandler, ReplyArgs, RequestArgs } from '../command.js';
import { isTruthy } from '../command.js';
import { checkMaxBytes, digitsOnly, requireArg } from './args.js';

/**
 * The fields present in a create_host/update_host request. The original stores whatever
 * it is given; we refuse values the schema cannot hold (IPv4 text, 16-bit ports, CIDR masks).
 */
function readHostFields(args: RequestArgs): HostFields {
  const fields: { -readonly [K in keyof HostFields]: HostFields[K] } = {};
  const status = args.get('status');
  if (status !== undefined) {
    if (!(HOST_STATES as readonly string[]).includes(status))
      throw new MogileError('unknown_state');
    fields.status = status;
  }
  const ip = args.get('ip');
  if (isTruthy(ip)) fields.ip = checkIp(ip, 'ip');
  const port = args.get('port');
  if (isTruthy(port)) fields.httpPort = checkPort(port, 'port');
  const getport = args.get('getport');
  if (getport !== undefined)
    fields.httpGetPort = getport === '' ? null : checkPort(getport, 'getport');
  const altip = args.get('altip');
  if (altip !== undefined) fields.altIp = altip === '' ? null : checkIp(altip, 'altip');
  const altmask = args.get('altmask');
  if (altmask !== undefined) fields.altMask = altmask === '' ? null : checkMask(altmask);
  return fields;
}

function checkIp(value: string, name: string): string {
  if (!isIPv4(value))
    throw new MogileError('bad_params', `${name} must be an IPv4 address, got "${value}"`);
  return value;
}

function checkPort(value: string, name: string): number {
  const port = digitsOnly(value);
  if (port === undefined || port < 1 || port > 65535) {
    throw new MogileError(
      'bad_params',
      `${name} must be a port number from 1 to 65535, got "${value}"`,
    );
  }
  return port;
}

function checkMask(value: string): string {
  const [ip, bits, extra] = value.split('/');
  const width = digitsOnly(bits);
  if (extra !== undefined || !ip || !isIPv4(ip) || width === undefined || width > 32) {
    throw new MogileError(
      'bad_params',
      `altmask must be a CIDR such as 10.1.0.0/16, got "${value}"`,
    );
  }
  return value;
}

/** `create_host`, or `update_host` when `update` is truthy (§6.7). */
async function saveHost(
  args: RequestArgs,
  ctx: CommandContext,
  update: boolean,
): Promise<ReplyArgs> {
  const name = requireArg(args, 'host', 'no_host');
  checkMaxBytes(name, 40, 'A host name');
  const snapshot = await ctx.services.cluster.refresh();
  const existing = snapshot.hostByName(name);
  if (update && !existing) throw new MogileError('host_not_found');
  if (!update) {
    if (existing) throw new MogileError('host_exists');
    if (!isTruthy(args.get('ip'))) throw new MogileError('no_ip');
    if (!isTruthy(args.get('port'))) throw new MogileError('no_port');
  }
  const fields = readHostFields(args);
  const { meta } = ctx.services;
  let host: HostRow;
  try {
    host = existing ?? (await meta.createHost(name, fields.ip!, fields));
    if (existing) await meta.updateHost(existing.hostid, fields);
  } catch (error) {
    if (error instanceof MetaDuplicateError) throw new MogileError('dup');
    throw error;
  }
  await ctx.services.cluster.refresh();
  // `host` is not in the original reply; MogileFS::Admin looks for it (spec §6.7 QUIRK).
  return { hostid: host.hostid, hostname: name, host: name };
}

/** `delete_host` (§6.8): only a host without devices. */
async function deleteHost(args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  const snapshot = await ctx.services.cluster.refresh();
  const host = snapshot.hostByName(args.get('host') ?? '');
  if (!host) throw new MogileError('unknown_host');
  if (await ctx.services.meta.hostHasDevices(host.hostid)) throw new MogileError('host_not_empty');
  await ctx.services.meta.deleteHost(host.hostid);
  await ctx.services.cluster.refresh();
  return {};
}

/** `get_hosts` (§6.6), optionally for one `hostid`. */
async function getHosts(args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  const snapshot = await ctx.services.cluster.current();
  const wanted = args.get('hostid');
  const hosts = isTruthy(wanted)
    ? snapshot.hosts.filter((host) => String(host.hostid) === wanted)
    : snapshot.hosts;
  const reply: Record<string, string | number | null> = { hosts: hosts.length };
  for (const [i, host] of hosts.entries()) {
    const prefix = `host${i + 1}_`;
    reply[`${prefix}hostid`] = host.hostid;
    reply[`${prefix}status`] = host.status;
    reply[`${prefix}hostname`] = host.name;
    reply[`${prefix}hostip`] = host.ip;
    reply[`${prefix}http_port`] = host.httpPort;
    reply[`${prefix}http_get_port`] = host.httpGetPort;
    reply[`${prefix}altip`] = host.altIp;
    reply[`${prefix}altmask`] = host.altMask;
  }
  return reply;
}

export const hostCommands: Readonly<Record<string, CommandHandler>> = {
  create_host: (args, ctx) => saveHost(args, ctx, isTruthy(args.get('update'))),
  update_host: (args, ctx) => saveHost(args, ctx, true),
  delete_host: deleteHost,
  get_hosts: getHosts,
};
