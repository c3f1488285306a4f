import { lookup } from 'node:dns/promises';
import { type Command, Option } from 'commander';
import type { HostInfo, HostOptions, HostStatus, MogileAdmin } from '../../client/index.js';
import { AdminFailure, AdminUsageError } from './admin-errors.js';
import { adminCommand, integerOption, runAdmin } from './admin-runner.js';

export const HOST_STATUSES: readonly HostStatus[] = ['alive', 'dead', 'down', 'readonly'];

interface HostCliOptions {
  readonly ip?: string;
  readonly port?: number;
  readonly getport?: number;
  readonly altip?: string;
  readonly altmask?: string;
  readonly status?: HostStatus;
}

/** `mogile admin host add|modify|mark|list|delete` (mogadm's `host`). */
export function registerHostCommands(admin: Command): void {
  const host = admin.command('host').description('storage hosts');
  hostOptions(adminCommand(host, 'add <hostname>', 'add a host')).action(
    runAdmin(async (ctx, name) => {
      const options = ctx.options as HostCliOptions;
      if (await findHost(ctx.admin, name!)) throw new AdminFailure('host already exists');
      const hostid = await ctx.admin.createHost(name!, {
        ...hostFields(options),
        // mogadm's defaults: the name's address, port 7500, status down.
        ip: options.ip ?? (await resolveIp(name!)),
        port: options.port ?? 7500,
        status: options.status ?? 'down',
      });
      await ctx.result(
        { hostid, hostname: name },
        () => `Host ${name} added (hostid ${hostid}).\n`,
      );
    }, hostSubject),
  );
  hostOptions(adminCommand(host, 'modify <hostname>', 'change a host')).action(
    runAdmin(async (ctx, name) => {
      const fields = hostFields(ctx.options as HostCliOptions);
      if (Object.values(fields).every((value) => value === undefined)) {
        throw new AdminUsageError(
          'nothing to change: give --ip, --port, --getport, --altip, --altmask or --status',
        );
      }
      await ctx.admin.updateHost(name!, fields);
      await ctx.result({ hostname: name, ...fields }, () => `Host ${name} updated.\n`);
    }, hostSubject),
  );
  adminCommand(
    host,
    'mark <hostname> <status>',
    `set a host's status (${HOST_STATUSES.join(', ')})`,
  ).action(
    runAdmin(async (ctx, name, status) => {
      await ctx.admin.updateHost(name!, { status: hostStatus(status!) });
      await ctx.result({ hostname: name, status }, () => `Host ${name} marked ${status}.\n`);
    }, hostSubject),
  );
  adminCommand(host, 'list', 'list hosts').action(
    runAdmin(async (ctx) => {
      const hosts = sortHosts(await ctx.admin.getHosts());
      await ctx.result(hosts, () => renderHosts(hosts));
    }),
  );
  adminCommand(host, 'delete <hostname>', 'remove a host that has no devices').action(
    runAdmin(async (ctx, name) => {
      await ctx.admin.deleteHost(name!);
      await ctx.result({ hostname: name, deleted: true }, () => `Host ${name} deleted.\n`);
    }, hostSubject),
  );
}

function hostSubject(args: string[]): string {
  return `host ${JSON.stringify(args[0] ?? '')}`;
}

function hostOptions(command: Command): Command {
  return command
    .option('--ip <address>', 'IP address of the host (add: default resolves the hostname)')
    .option('--port <port>', 'HTTP port (add: default 7500)', integerOption(1))
    .option('--getport <port>', 'separate port for GETs', integerOption(1))
    .option('--altip <address>', 'alternative IP, for clients matching --altmask')
    .option('--altmask <cidr>', 'clients in this network get --altip, e.g. 10.0.0.0/8')
    .addOption(new Option('--status <status>', 'host status').choices(HOST_STATUSES));
}

function hostFields(options: HostCliOptions): HostOptions {
  return {
    ip: options.ip,
    port: options.port,
    getport: options.getport,
    altip: options.altip,
    altmask: options.altmask,
    status: options.status,
  };
}

function hostStatus(text: string): HostStatus {
  if (!(HOST_STATUSES as readonly string[]).includes(text)) {
    throw new AdminUsageError(`unknown host status "${text}": use ${HOST_STATUSES.join(', ')}`);
  }
  return text as HostStatus;
}

async function resolveIp(name: string): Promise<string> {
  try {
    return (await lookup(name, { family: 4 })).address;
  } catch {
    throw new AdminUsageError(`cannot resolve "${name}": give its address with --ip`);
  }
}

export async function findHost(admin: MogileAdmin, name: string): Promise<HostInfo | undefined> {
  return (await admin.getHosts()).find((host) => host.hostname === name);
}

export function sortHosts(hosts: readonly HostInfo[]): HostInfo[] {
  return [...hosts].sort((a, b) => a.hostid - b.hostid);
}

/** mogadm's layout: a `name [id]: status` line, then the host's addresses indented. */
function renderHosts(hosts: readonly HostInfo[]): string {
  if (hosts.length === 0) return 'No hosts.\n';
  return hosts
    .map((host) => {
      const fields: [string, string | number | undefined][] = [
        ['IP', `${host.hostip}:${host.httpPort ?? ''}`],
        ['GET port', host.httpGetPort],
        ['Alt IP', host.altip],
        ['Alt mask', host.altmask],
      ];
      const lines = fields
        .filter(([, value]) => value !== undefined && value !== '')
        .map(([name, value]) => `  ${`${name}:`.padEnd(10)}${value}\n`);
      return `${host.hostname} [${host.hostid}]: ${host.status}\n${lines.join('')}`;
    })
    .join('\n');
}
