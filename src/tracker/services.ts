import { hostname as osHostname } from 'node:os';
import { type MetaStore, openMetaStore } from '../meta/index.js';
import { ClusterView } from './cluster-view.js';
import { DeviceObservations } from './device-observations.js';

/** The settings command handlers read; a frozen subset of the tracker's configuration. */
export interface ServiceOptions {
  readonly dbUrl: string;
  readonly noSchemaCheck?: boolean;
  readonly hostname?: string;
  /** mindevcount of a domain's synthesized `default` class (behaviour.md §14). */
  readonly defaultMindevcount?: number;
  /** MiB a device must keep free to receive new files. */
  readonly minFreeSpaceMb?: number;
  readonly nodeTimeoutMs?: number;
  readonly connTimeoutMs?: number;
  readonly mogstoredStreamPort?: number;
}

export type ResolvedServiceOptions = Required<Omit<ServiceOptions, 'noSchemaCheck'>>;

/**
 * Everything a command handler may use. Built once per tracker by `createTrackerServices`.
 */
export interface TrackerServices {
  readonly hostname: string;
  readonly options: ResolvedServiceOptions;
  readonly meta: MetaStore;
  readonly cluster: ClusterView;
  readonly observations: DeviceObservations;
  /** Unix time in seconds; injectable for tests. */
  nowSeconds(): number;
}

export interface TrackerServicesHandle extends TrackerServices {
  close(): Promise<void>;
}

export async function createTrackerServices(
  options: ServiceOptions,
): Promise<TrackerServicesHandle> {
  const meta = await openMetaStore(options.dbUrl, {
    noSchemaCheck: options.noSchemaCheck ?? false,
  });
  const resolved: ResolvedServiceOptions = Object.freeze({
    dbUrl: options.dbUrl,
    hostname: options.hostname ?? osHostname(),
    defaultMindevcount: options.defaultMindevcount ?? 2,
    minFreeSpaceMb: options.minFreeSpaceMb ?? 100,
    nodeTimeoutMs: options.nodeTimeoutMs ?? 2000,
    connTimeoutMs: options.connTimeoutMs ?? 2000,
    mogstoredStreamPort: options.mogstoredStreamPort ?? 7501,
  });
  const cluster = new ClusterView(meta);
  try {
    await cluster.refresh();
  } catch (error) {
    await meta.close();
    throw error;
  }
  return {
    hostname: resolved.hostname,
    options: resolved,
    meta,
    cluster,
    observations: new DeviceObservations(),
    nowSeconds: () => Math.floor(Date.now() / 1000),
    async close() {
      await meta.close();
    },
  };
}
