import {
  type ClassInfo,
  type DeviceInfo,
  type DomainInfo,
  type FidInfo,
  type FsckLogRow,
  type FsckStatus,
  type HostInfo,
  parseDevices,
  parseDomains,
  parseFids,
  parseFsckLog,
  parseFsckStatus,
  parseHosts,
  parseSettings,
} from './admin-replies.js';
import { intField, type TrackerClientOptions, trackerPoolOptions } from './client-options.js';
import { MogileClientError } from './errors.js';
import { type ClusterStats, parseClusterStats } from './stats-reply.js';
import type { RequestArgs } from './tracker-connection.js';
import { TrackerPool } from './tracker-pool.js';

export type HostStatus = 'alive' | 'dead' | 'down' | 'readonly';
export type DeviceState = 'alive' | 'dead' | 'down' | 'readonly' | 'drain';

export interface ClassOptions {
  readonly mindevcount: number;
  readonly replpolicy?: string | undefined;
  /** `MD5`, `SHA-1` or `NONE`. */
  readonly hashtype?: string | undefined;
  /** mogile's `sync` (create_close waits for the copies) or `async`; unset keeps it. */
  readonly durability?: 'sync' | 'async' | undefined;
}

export interface HostOptions {
  readonly ip?: string | undefined;
  readonly port?: number | undefined;
  readonly getport?: number | undefined;
  readonly altip?: string | undefined;
  readonly altmask?: string | undefined;
  readonly status?: HostStatus | undefined;
}

/** mogile's `fsck_start` targets (docs/operations.md); the Perl tracker ignores them. */
export interface FsckTargets {
  readonly domain?: string | undefined;
  /** Needs `domain`. */
  readonly class?: string | undefined;
  /** A key prefix; needs `domain`. */
  readonly prefix?: string | undefined;
  readonly devid?: number | undefined;
}

export type CreateDeviceOptions = {
  readonly devid: number;
  readonly state?: DeviceState | undefined;
} & ({ readonly hostname: string } | { readonly hostid: number });

/**
 * Every administrative tracker command (spec/tracker-protocol.md §6) with parsed replies.
 * Errors are MogileClientError with the tracker's code (`domain_exists`, …).
 * The default timeout is 15 s, as mogadm's: `clear_cache` waits for a monitor round.
 */
export class MogileAdmin {
  readonly #pool: TrackerPool;

  constructor(options: TrackerClientOptions) {
    this.#pool = new TrackerPool(trackerPoolOptions(options, 15_000));
  }

  async getDomains(): Promise<DomainInfo[]> {
    return parseDomains(await this.#request('get_domains', {}));
  }

  async createDomain(domain: string): Promise<void> {
    await this.#request('create_domain', { domain });
  }

  async deleteDomain(domain: string): Promise<void> {
    await this.#request('delete_domain', { domain });
  }

  async createClass(domain: string, className: string, options: ClassOptions): Promise<ClassInfo> {
    return this.#classCommand('create_class', domain, className, options);
  }

  async updateClass(domain: string, className: string, options: ClassOptions): Promise<ClassInfo> {
    return this.#classCommand('update_class', domain, className, options);
  }

  async deleteClass(domain: string, className: string): Promise<void> {
    await this.#request('delete_class', { domain, class: className });
  }

  async getHosts(hostid?: number): Promise<HostInfo[]> {
    return parseHosts(await this.#request('get_hosts', { hostid }));
  }

  /** Returns the new host's id. */
  async createHost(hostname: string, options: HostOptions): Promise<number> {
    const reply = await this.#request('create_host', { host: hostname, ...hostArgs(options) });
    return intField(reply, 'hostid', 'create_host');
  }

  async updateHost(hostname: string, options: HostOptions): Promise<void> {
    await this.#request('update_host', { host: hostname, ...hostArgs(options) });
  }

  async deleteHost(hostname: string): Promise<void> {
    await this.#request('delete_host', { host: hostname });
  }

  async getDevices(devid?: number): Promise<DeviceInfo[]> {
    return parseDevices(await this.#request('get_devices', { devid }));
  }

  async createDevice(options: CreateDeviceOptions): Promise<void> {
    await this.#request('create_device', {
      devid: options.devid,
      state: options.state,
      hostname: 'hostname' in options ? options.hostname : undefined,
      hostid: 'hostid' in options ? options.hostid : undefined,
    });
  }

  async setState(hostname: string, devid: number, state: DeviceState): Promise<void> {
    await this.#request('set_state', { host: hostname, device: devid, state });
  }

  async setWeight(hostname: string, devid: number, weight: number): Promise<void> {
    await this.#request('set_weight', { host: hostname, device: devid, weight });
  }

  /** One setting's value; undefined when unset. */
  async serverSetting(key: string): Promise<string | undefined> {
    const value = (await this.#request('server_setting', { key })).get('value');
    return value === undefined || value === '' ? undefined : value;
  }

  async serverSettings(): Promise<Record<string, string>> {
    return parseSettings(await this.#request('server_settings', {}));
  }

  /** Sets a whitelisted setting; `undefined` deletes it. */
  async setServerSetting(key: string, value: string | undefined): Promise<void> {
    await this.#request('set_server_setting', { key, value });
  }

  /** Makes deferred replication due now; returns how many queue rows changed. */
  async replicateNow(): Promise<number> {
    const reply = await this.#request('replicate_now', {});
    return Number(reply.get('count') ?? 0);
  }

  /** Refreshes the tracker's caches and runs a monitor round; resolves when done. */
  async clearCache(): Promise<void> {
    await this.#request('clear_cache', { all: 1 });
  }

  async listFids(fromFid: number, count: number): Promise<FidInfo[]> {
    return parseFids(await this.#request('list_fids', { from: fromFid, to: count }));
  }

  async fsckStart(targets: FsckTargets = {}): Promise<void> {
    await this.#request('fsck_start', {
      domain: targets.domain,
      class: targets.class,
      prefix: targets.prefix,
      devid: targets.devid,
    });
  }

  async fsckStop(): Promise<void> {
    await this.#request('fsck_stop', {});
  }

  async fsckReset(options: { policyOnly?: boolean; startpos?: number } = {}): Promise<void> {
    await this.#request('fsck_reset', {
      policy_only: options.policyOnly ? 1 : undefined,
      startpos: options.startpos,
    });
  }

  async fsckClearLog(): Promise<void> {
    await this.#request('fsck_clearlog', {});
  }

  async fsckStatus(): Promise<FsckStatus> {
    return parseFsckStatus(await this.#request('fsck_status', {}));
  }

  async fsckLogRows(afterLogid = 0): Promise<FsckLogRow[]> {
    return parseFsckLog(await this.#request('fsck_getlog', { after_logid: afterLogid }));
  }

  async rebalanceSetPolicy(policy: string | undefined): Promise<void> {
    await this.#request('rebalance_set_policy', { policy });
  }

  /** The devices the policy would move from and to right now. */
  async rebalanceTest(): Promise<{ sourceDevids: number[]; destinationDevids: number[] }> {
    const reply = await this.#request('rebalance_test', {});
    return {
      sourceDevids: idList(reply.get('sdevs')),
      destinationDevids: idList(reply.get('ddevs')),
    };
  }

  /** Returns the rebalance state string. */
  async rebalanceStart(): Promise<string> {
    return (await this.#request('rebalance_start', {})).get('state') ?? '';
  }

  async rebalanceStop(): Promise<void> {
    await this.#request('rebalance_stop', {});
  }

  async rebalanceStatus(): Promise<string> {
    return (await this.#request('rebalance_status', {})).get('state') ?? '';
  }

  async rebalanceReset(): Promise<void> {
    await this.#request('rebalance_reset', {});
  }

  /** mogile's `mogile_stats`: files, bytes and copies per class, queue depths. */
  async clusterStats(): Promise<ClusterStats> {
    return parseClusterStats(await this.#request('mogile_stats', {}));
  }

  async close(): Promise<void> {
    this.#pool.close();
  }

  async #classCommand(
    command: 'create_class' | 'update_class',
    domain: string,
    className: string,
    options: ClassOptions,
  ): Promise<ClassInfo> {
    const reply = await this.#request(command, {
      domain,
      class: className,
      mindevcount: options.mindevcount,
      replpolicy: options.replpolicy,
      hashtype: options.hashtype,
      durability: options.durability,
    });
    if (reply.get('class') !== className) {
      throw new MogileClientError('EBAD_REPLY', `${command} answered for another class`, {
        command,
      });
    }
    const found = (await this.getDomains())
      .find((entry) => entry.name === domain)
      ?.classes.find((entry) => entry.name === className);
    return (
      found ?? {
        name: className,
        mindevcount: options.mindevcount,
        replpolicy: options.replpolicy ?? '',
        hashtype: options.hashtype ?? 'NONE',
        durability: options.durability ?? 'async',
      }
    );
  }

  #request(command: string, args: RequestArgs): Promise<Map<string, string>> {
    return this.#pool.request(command, args);
  }
}

function hostArgs(options: HostOptions): RequestArgs {
  return {
    ip: options.ip,
    port: options.port,
    getport: options.getport,
    altip: options.altip,
    altmask: options.altmask,
    status: options.status,
  };
}

function idList(text: string | undefined): number[] {
  return (text ?? '').split(',').filter(Boolean).map(Number);
}
