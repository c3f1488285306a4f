import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { MetaStore } from '../meta/index.js';
import type { ClusterSnapshot, ClusterView } from './cluster-view.js';
import type { DeviceObservations } from './device-observations.js';
import { deviceViews } from './device-selection.js';
import { canDeleteFrom, canReadFrom, type DeviceView } from './device-state.js';
import type { NodeClient } from './node-client.js';
import { hostBaseUrl } from './storage-urls.js';
import { parseUsageFile } from './usage-file.js';

export interface MonitorOptions {
  readonly meta: MetaStore;
  readonly cluster: ClusterView;
  readonly observations: DeviceObservations;
  readonly nodes: NodeClient;
  readonly connTimeoutMs: number;
  readonly roundIntervalMs?: number;
  readonly nowSeconds: () => number;
  readonly logger?: Logger;
}

const WRITE_TEST_EVERY_MS = 15_000;
const USAGE_RECORD_EVERY_MS = 15_000;
const CLUSTER_REFRESH_EVERY_MS = 4_000;
/** A probe that fails faster than this blames the device, slower the host (§4). */
const FAST_FAILURE_MS = 500;

/**
 * Probes every readable device each round (spec behaviour.md §4, storage-node.md §6):
 * the usage file, then a write test every 15 s, and records what it saw. Rounds never
 * overlap; `runRound()` asks for one and waits for it.
 */
export class Monitor {
  readonly #options: MonitorOptions;
  readonly #lastWriteTest = new Map<number, number>();
  readonly #lastUsageRecord = new Map<number, number>();
  #lastRefreshMs = 0;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  #rounds = 0;
  #firstRound: Promise<void>;
  #resolveFirst!: () => void;
  #stopped = false;

  constructor(options: MonitorOptions) {
    this.#options = options;
    this.#firstRound = new Promise((resolve) => {
      this.#resolveFirst = resolve;
    });
  }

  get completedRounds(): number {
    return this.#rounds;
  }

  start(): void {
    const tick = () => {
      if (this.#stopped) return;
      void this.runRound().finally(() => {
        if (!this.#stopped) this.#timer = setTimeout(tick, this.#options.roundIntervalMs ?? 2500);
      });
    };
    tick();
  }

  /** Resolves once the first round after start-up has completed. */
  firstRound(): Promise<void> {
    return this.#firstRound;
  }

  /** Runs a round after any round in progress, and resolves when it is done. */
  runRound(): Promise<void> {
    const next = this.#running.then(() => this.#round());
    this.#running = next.catch(() => undefined);
    return next;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  async #round(): Promise<void> {
    try {
      const snapshot = await this.#snapshot();
      const byHost = new Map<number, DeviceView[]>();
      for (const view of deviceViews(snapshot)) {
        if (!canReadFrom(view)) continue;
        byHost.set(view.host.hostid, [...(byHost.get(view.host.hostid) ?? []), view]);
      }
      const recorded = await Promise.all(
        [...byHost.values()].map((views) => this.#probeHost(views)),
      );
      if (recorded.includes(true)) await this.#options.cluster.refresh();
    } catch (error) {
      this.#options.logger?.warn({ err: error }, 'monitor round failed');
    } finally {
      this.#rounds += 1;
      this.#resolveFirst();
    }
  }

  async #snapshot(): Promise<ClusterSnapshot> {
    const now = Date.now();
    if (now - this.#lastRefreshMs < CLUSTER_REFRESH_EVERY_MS)
      return this.#options.cluster.current();
    this.#lastRefreshMs = now;
    return this.#options.cluster.refresh();
  }

  /** Probes one host's devices in turn; true when usage was written to the database. */
  async #probeHost(views: DeviceView[]): Promise<boolean> {
    let recorded = false;
    for (const view of views) {
      const outcome = await this.#probeDevice(view);
      if (outcome === 'host-unreachable') break;
      if (outcome === 'recorded') recorded = true;
    }
    return recorded;
  }

  async #probeDevice(view: DeviceView): Promise<'ok' | 'recorded' | 'host-unreachable' | 'failed'> {
    const { observations, nodes, connTimeoutMs } = this.#options;
    const { device, host } = view;
    const started = Date.now();
    let usage: ReturnType<typeof parseUsageFile>;
    try {
      const reply = await nodes.get(
        `${hostBaseUrl(host, 'read')}/dev${device.devid}/usage`,
        connTimeoutMs,
      );
      usage =
        reply.status >= 200 && reply.status < 300
          ? parseUsageFile(reply.body.toString('latin1'))
          : undefined;
      if (!usage) throw new Error(`usage file of dev${device.devid} answered ${reply.status}`);
    } catch (error) {
      if (Date.now() - started < FAST_FAILURE_MS) {
        this.#observe(view, { state: 'unreachable' });
        return 'failed';
      }
      this.#options.logger?.warn({ err: error, host: host.name }, 'storage host unreachable');
      observations.setHostReachable(host.hostid, false);
      return 'host-unreachable';
    }
    observations.setHostReachable(host.hostid, true);
    const tested = await this.#writeTest(view);
    const previous = observations.device(device.devid);
    const rejectBadMd5 = tested?.rejectBadMd5 ?? previous?.rejectBadMd5;
    this.#observe(view, {
      state: tested?.state ?? previous?.state ?? 'readable',
      ...(previous?.utilization !== undefined && { utilization: previous.utilization }),
      ...(rejectBadMd5 !== undefined && { rejectBadMd5 }),
    });
    return (await this.#recordUsage(view, usage)) ? 'recorded' : 'ok';
  }

  /** The write test (§6.2), at most every 15 s; undefined when it was not due. */
  async #writeTest(
    view: DeviceView,
  ): Promise<{ state: 'writeable' | 'readable'; rejectBadMd5?: boolean } | undefined> {
    if (!canDeleteFrom(view)) return { state: 'readable' };
    const now = Date.now();
    const last = this.#lastWriteTest.get(view.device.devid);
    const seen = this.#options.observations.device(view.device.devid)?.state;
    const known = seen === 'writeable' || seen === 'readable';
    if (known && last !== undefined && now - last < WRITE_TEST_EVERY_MS) return undefined;
    this.#lastWriteTest.set(view.device.devid, now);
    for (let attempt = 0; attempt < 2; attempt++) {
      if (await this.#writeAndReadBack(view)) {
        const rejectBadMd5 = await this.#rejectsBadContentMd5(view);
        return { state: 'writeable', ...(rejectBadMd5 !== undefined && { rejectBadMd5 }) };
      }
    }
    return { state: 'readable' };
  }

  async #writeAndReadBack({ device, host }: DeviceView): Promise<boolean> {
    const { nodes, connTimeoutMs, nowSeconds } = this.#options;
    const rand = Math.floor(Math.random() * 100);
    const body = `time=${nowSeconds()} rand=${rand}`;
    const path = `/dev${device.devid}/test-write/test-write-${rand}`;
    try {
      const status = await nodes.put(`${hostBaseUrl(host, 'upload')}${path}`, body, connTimeoutMs);
      if (status < 200 || status >= 300) return false;
      const read = await nodes.get(`${hostBaseUrl(host, 'read')}${path}`, connTimeoutMs);
      return read.status >= 200 && read.status < 300 && read.body.toString('latin1') === body;
    } catch {
      return false;
    }
  }

  /** Does the node refuse a body whose Content-MD5 is wrong? (§6.3) Undefined if unknown. */
  async #rejectsBadContentMd5({ device, host }: DeviceView): Promise<boolean | undefined> {
    const wrong = `${createHash('md5').update('!').digest('base64').replace(/=+$/, '')}==`;
    const url = `${hostBaseUrl(host, 'upload')}/dev${device.devid}/test-write/test-md5`;
    try {
      const status = await this.#options.nodes.put(url, '.', this.#options.connTimeoutMs, {
        'content-md5': wrong,
      });
      return status < 200 || status >= 300;
    } catch {
      return undefined;
    }
  }

  async #recordUsage(
    view: DeviceView,
    usage: { usedKib: number; totalKib: number },
  ): Promise<boolean> {
    const now = Date.now();
    const last = this.#lastUsageRecord.get(view.device.devid);
    if (last !== undefined && now - last < USAGE_RECORD_EVERY_MS) return false;
    this.#lastUsageRecord.set(view.device.devid, now);
    await this.#options.meta.recordDeviceUsage(view.device.devid, {
      mbTotal: Math.floor(usage.totalKib / 1024),
      mbUsed: Math.floor(usage.usedKib / 1024),
      asofSeconds: this.#options.nowSeconds(),
    });
    return true;
  }

  #observe(view: DeviceView, observation: Parameters<DeviceObservations['setDevice']>[1]): void {
    const previous = this.#options.observations.device(view.device.devid)?.state;
    this.#options.observations.setDevice(view.device.devid, observation);
    if (previous !== observation.state) {
      this.#options.logger?.info(
        { devid: view.device.devid, from: previous ?? 'unknown', to: observation.state },
        `dev${view.device.devid} is now ${observation.state}`,
      );
    }
  }
}
