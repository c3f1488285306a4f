import type { DeviceFid, RebalanceItem } from '../meta/rebalance-queries.js';
import { deviceViews } from '../tracker/device-selection.js';
import { numberSetting } from './numeric-setting.js';
import { rebalanceDestinations } from './rebalance-devices.js';
import {
  formatRebalanceState,
  parseRebalancePolicy,
  parseRebalanceState,
  type RebalancePolicy,
  type RebalanceState,
} from './rebalance-settings.js';
import type { WorkerServices } from './worker-services.js';

export interface RebalanceInjectorStats {
  readonly queued: number;
  readonly devicesDone: number;
}

/**
 * Devices this rebalance switched from `alive` to `drain` and has not switched back. Kept
 * apart from `rebal_state`, whose keys are fixed (§10.2), so `rebalance_stop` can restore
 * exactly them (fixing the QUIRK of §10.3) and leave alone devices an operator drained.
 */
export const DRAINED_SETTING = 'rebal_drained';

const DEFAULT_QUEUE_SIZE = 10_000;
const DEFAULT_QUEUE_RATE = 500;

/**
 * Feeds a rebalance (behaviour.md §10.3) on the tracker named by `rebal_host`: takes the
 * source devices one at a time, drains each, queues its fids (`file_to_queue` type 2, with
 * the candidate destinations) in batches of `queue_rate_for_rebal` while the queue holds
 * fewer than `queue_size_for_rebal`, and honours the limits and `rebal_signal=stop`.
 */
export class RebalanceInjector {
  readonly #services: WorkerServices;
  readonly #random: () => number;

  constructor(options: { readonly services: WorkerServices; readonly random?: () => number }) {
    this.#services = options.services;
    this.#random = options.random ?? Math.random;
  }

  async runOnce(): Promise<RebalanceInjectorStats> {
    const { meta, options } = this.#services;
    const idle = { queued: 0, devicesDone: 0 };
    const settings = await meta.listSettings();
    const host = settings.get('rebal_host');
    if (!host || host !== options.hostname) return idle;
    const stateText = settings.get('rebal_state');
    const policyText = settings.get('rebal_policy');
    if (stateText === undefined || policyText === undefined) {
      await meta.setSetting('rebal_host', null);
      return idle;
    }
    const state = parseRebalanceState(stateText);
    const policy = parseRebalancePolicy(policyText);
    // The stop signal goes first, so a full queue cannot hold a stop up.
    if (settings.get('rebal_signal') === 'stop') {
      await this.#stop(state);
      return idle;
    }
    const size = numberSetting(settings, 'queue_size_for_rebal', DEFAULT_QUEUE_SIZE);
    if ((await meta.genericQueueLength(2)) >= size) return idle;
    return this.#inject(state, policy, settings);
  }

  async #inject(
    state: RebalanceState,
    policy: RebalancePolicy,
    settings: ReadonlyMap<string, string>,
  ): Promise<RebalanceInjectorStats> {
    const { meta, cluster, observations, options, nowSeconds, logger } = this.#services;
    const views = deviceViews(await cluster.current());
    const destinations = rebalanceDestinations(
      policy,
      state,
      views,
      observations,
      options.minFreeSpaceMb,
    );
    if (destinations.length === 0) {
      logger?.warn('rebalance: no destination devices; waiting');
      return { queued: 0, devicesDone: 0 };
    }
    if (!state.sdevCurrent) {
      const next = state.sourceDevs.shift();
      if (next === undefined) {
        state.timeFinished = nowSeconds();
        await this.#save(state);
        await meta.setSetting('rebal_host', null);
        return { queued: 0, devicesDone: 0 };
      }
      state.sdevCurrent = next;
      state.sdevLastfid = 0;
      state.sdevLimit = policy.limitType === 'device' ? (policy.limit ?? 0) : 0;
    }
    await this.#drain(state.sdevCurrent);
    const rate = Math.max(1, numberSetting(settings, 'queue_rate_for_rebal', DEFAULT_QUEUE_RATE));
    const fids = await meta.deviceFids(
      state.sdevCurrent,
      state.sdevLastfid,
      policy.newestFirst,
      rate,
    );
    const chosen = this.#withinLimit(fids, state, policy);
    const now = nowSeconds();
    if (chosen.length === 0) {
      await this.#finishDevice(state, policy);
      state.timeLatestEmptyRun = now;
      state.emptyRuns += 1;
      await this.#save(state);
      return { queued: 0, devicesDone: 1 };
    }
    const items: RebalanceItem[] = chosen.map((fid) => ({
      fid: fid.fid,
      devid: state.sdevCurrent,
      destinations: this.#offer(destinations, policy).join(','),
    }));
    await meta.enqueueRebalanceItems(items, now);
    state.sdevLastfid = chosen.at(-1)!.fid;
    state.fidsQueued += chosen.length;
    state.bytesQueued += chosen.reduce((sum, fid) => sum + fid.lengthBytes, 0);
    state.timeLatestRun = now;
    await this.#save(state);
    return { queued: chosen.length, devicesDone: 0 };
  }

  /** Applies `limit_by` to a batch, spending the device's or the global budget. */
  #withinLimit(fids: DeviceFid[], state: RebalanceState, policy: RebalancePolicy): DeviceFid[] {
    if (policy.limitBy === 'none' || policy.limitBy === 'percent' || policy.limit === undefined) {
      return fids;
    }
    const budgetKey = policy.limitType === 'global' ? 'limit' : 'sdevLimit';
    const chosen: DeviceFid[] = [];
    for (const fid of fids) {
      const cost = policy.limitBy === 'count' ? 1 : fid.lengthBytes;
      if (state[budgetKey] < cost) break;
      state[budgetKey] -= cost;
      chosen.push(fid);
    }
    return chosen;
  }

  #offer(destinations: readonly number[], policy: RebalancePolicy): number[] {
    if (policy.useDestDevs === undefined || policy.useDestDevs >= destinations.length) {
      return [...destinations];
    }
    const shuffled = destinations
      .map((devid) => ({ devid, order: this.#random() }))
      .sort((a, b) => a.order - b.order);
    return shuffled.slice(0, Math.max(1, policy.useDestDevs)).map((entry) => entry.devid);
  }

  /** The current source takes no new data while it is emptied (§10.3). */
  async #drain(devid: number): Promise<void> {
    const { meta, cluster } = this.#services;
    const device = (await cluster.current()).device(devid);
    if (device?.status !== 'alive') return;
    await meta.updateDevice(devid, { status: 'drain' });
    await meta.setSetting(DRAINED_SETTING, [...(await this.#drained()), devid].join(','));
    await cluster.refresh();
  }

  async #finishDevice(state: RebalanceState, policy: RebalancePolicy): Promise<void> {
    const devid = state.sdevCurrent;
    state.completedDevs.push(devid);
    state.sdevCurrent = 0;
    state.sdevLastfid = 0;
    state.sdevLimit = 0;
    if (!policy.leaveInDrainMode) await this.#restore([devid]);
    // A spent global limit ends the whole run: the other sources are left alone.
    if (policy.limitType === 'global' && policy.limitBy !== 'none' && policy.limit !== undefined) {
      if (state.limit <= 0) state.sourceDevs = [];
    }
  }

  /** `rebalance_stop` (§10.3), restoring every device this rebalance drained. */
  async #stop(state: RebalanceState): Promise<void> {
    const { meta, nowSeconds } = this.#services;
    state.timeStopped = nowSeconds();
    await this.#restore(await this.#drained());
    await this.#save(state);
    await meta.setSetting('rebal_signal', null);
    await meta.setSetting('rebal_host', null);
  }

  /** Back to `alive`, but only devices still in the `drain` this rebalance put them in. */
  async #restore(devids: readonly number[]): Promise<void> {
    const { meta, cluster } = this.#services;
    const ours = new Set(await this.#drained());
    const snapshot = await cluster.current();
    for (const devid of devids) {
      if (!ours.has(devid)) continue;
      ours.delete(devid);
      if (snapshot.device(devid)?.status === 'drain') {
        await meta.updateDevice(devid, { status: 'alive' });
      }
    }
    await meta.setSetting(DRAINED_SETTING, ours.size ? [...ours].join(',') : null);
    await cluster.refresh();
  }

  async #drained(): Promise<number[]> {
    return ((await this.#services.meta.getSetting(DRAINED_SETTING)) ?? '')
      .split(',')
      .filter((id) => /^\d+$/.test(id))
      .map(Number);
  }

  async #save(state: RebalanceState): Promise<void> {
    await this.#services.meta.setSetting('rebal_state', formatRebalanceState(state));
  }
}
