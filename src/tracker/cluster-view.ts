import type { ClassRow, DeviceRow, DomainRow, HostRow, MetaStore } from '../meta/index.js';

/** One consistent snapshot of the cluster's configuration, as loaded from the database. */
export class ClusterSnapshot {
  readonly domains: readonly DomainRow[];
  readonly hosts: readonly HostRow[];
  readonly devices: readonly DeviceRow[];
  readonly settings: ReadonlyMap<string, string>;
  readonly #domainsByName: Map<string, DomainRow>;
  readonly #classesByDomain: Map<number, ClassRow[]>;
  readonly #hostsById: Map<number, HostRow>;
  readonly #devicesById: Map<number, DeviceRow>;

  constructor(
    domains: DomainRow[],
    classes: ClassRow[],
    hosts: HostRow[],
    devices: DeviceRow[],
    settings: Map<string, string>,
  ) {
    this.domains = [...domains].sort((a, b) => a.dmid - b.dmid);
    this.hosts = hosts;
    this.devices = devices;
    this.settings = settings;
    this.#domainsByName = new Map(domains.map((domain) => [domain.name, domain]));
    this.#classesByDomain = new Map();
    for (const row of [...classes].sort((a, b) => a.classid - b.classid)) {
      const list = this.#classesByDomain.get(row.dmid) ?? [];
      list.push(row);
      this.#classesByDomain.set(row.dmid, list);
    }
    this.#hostsById = new Map(hosts.map((host) => [host.hostid, host]));
    this.#devicesById = new Map(devices.map((device) => [device.devid, device]));
  }

  domain(name: string): DomainRow | undefined {
    return this.#domainsByName.get(name);
  }

  /** The classes stored for a domain (without a synthesized `default`). */
  storedClasses(dmid: number): readonly ClassRow[] {
    return this.#classesByDomain.get(dmid) ?? [];
  }

  host(hostid: number): HostRow | undefined {
    return this.#hostsById.get(hostid);
  }

  hostByName(name: string): HostRow | undefined {
    return this.hosts.find((host) => host.name === name);
  }

  device(devid: number): DeviceRow | undefined {
    return this.#devicesById.get(devid);
  }
}

/**
 * The tracker's cached view of domains, classes, hosts, devices and settings (spec
 * behaviour.md §3). Admin commands refresh it before replying, so the same tracker always
 * reads its own writes; a timer refreshes it for changes made by other trackers.
 */
export class ClusterView {
  readonly #meta: MetaStore;
  #snapshot: ClusterSnapshot | undefined;
  #refreshing: Promise<ClusterSnapshot> | undefined;
  #loadedAtMs = 0;

  constructor(meta: MetaStore) {
    this.#meta = meta;
  }

  /** The current snapshot; loads one if none exists yet. */
  async current(): Promise<ClusterSnapshot> {
    return this.#snapshot ?? this.refresh();
  }

  /** Reloads from the database. Concurrent callers share one load started after their call. */
  refresh(): Promise<ClusterSnapshot> {
    const previous = this.#refreshing ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(() => this.#load())
      .finally(() => {
        if (this.#refreshing === next) this.#refreshing = undefined;
      });
    this.#refreshing = next;
    return next;
  }

  /** Reloads only when the snapshot is older than `maxAgeMs` (bounds reloads on misses). */
  async refreshIfOlderThan(maxAgeMs: number): Promise<ClusterSnapshot> {
    if (this.#snapshot && Date.now() - this.#loadedAtMs < maxAgeMs) return this.#snapshot;
    return this.refresh();
  }

  async #load(): Promise<ClusterSnapshot> {
    const startedMs = Date.now();
    const meta = this.#meta;
    const [domains, classes, hosts, devices, settings] = await Promise.all([
      meta.listDomains(),
      meta.listClasses(),
      meta.listHosts(),
      meta.listDevices(),
      meta.listSettings(),
    ]);
    this.#snapshot = new ClusterSnapshot(domains, classes, hosts, devices, settings);
    this.#loadedAtMs = startedMs;
    return this.#snapshot;
  }
}
