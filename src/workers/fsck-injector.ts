import type { FsckTargets } from '../meta/fsck-queries.js';
import { numberSetting } from './numeric-setting.js';
import type { WorkerServices } from './worker-services.js';

export interface FsckInjectorStats {
  readonly queued: number;
  readonly finished: number;
}

/** §13 defaults: `queue_size_for_fsck` 20 000, `queue_rate_for_fsck` 1000. */
const DEFAULT_QUEUE_SIZE = 20_000;
const DEFAULT_QUEUE_RATE = 1000;

/**
 * Feeds fsck work (behaviour.md §9.1) on the tracker named by `fsck_host`: folds new log
 * rows into the counters, then, while the fsck queue is below `queue_size_for_fsck`,
 * queues the next `queue_rate_for_fsck` fids of the run (narrowed by mogile's targets).
 * When no fid is left it ends the run: `fsck_host` cleared, `fsck_stop_time` set.
 */
export class FsckInjector {
  readonly #services: WorkerServices;

  constructor(options: { readonly services: WorkerServices }) {
    this.#services = options.services;
  }

  async runOnce(): Promise<FsckInjectorStats> {
    const { meta, nowSeconds, options } = this.#services;
    const idle = { queued: 0, finished: 0 };
    const settings = await meta.listSettings();
    if (!settings.get('fsck_host') || settings.get('fsck_host') !== options.hostname) return idle;
    await meta.summarizeFsckLog();
    const queueSize = numberSetting(settings, 'queue_size_for_fsck', DEFAULT_QUEUE_SIZE);
    const rate = numberSetting(settings, 'queue_rate_for_fsck', DEFAULT_QUEUE_RATE);
    if ((await meta.genericQueueLength(1)) >= queueSize) return idle;
    const { queued, lastFid } = await meta.enqueueFsckBatch({
      afterFid: numberSetting(settings, 'fsck_highest_fid_checked', 0),
      endFid: numberSetting(settings, 'fsck_fid_at_end', 0),
      limit: Math.max(1, rate),
      targets: targetsOf(settings),
      nowSeconds: nowSeconds(),
    });
    if (lastFid === undefined) {
      await meta.setSetting('fsck_host', null);
      await meta.setSetting('fsck_stop_time', String(nowSeconds()));
      return { queued: 0, finished: 1 };
    }
    await meta.setSetting('fsck_highest_fid_checked', String(lastFid));
    return { queued, finished: 0 };
  }
}

/** The targets `fsck_start` stored (src/tracker/commands/fsck.ts). */
function targetsOf(settings: ReadonlyMap<string, string>): FsckTargets {
  const id = (key: string) => {
    const value = settings.get(key);
    return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
  };
  const dmid = id('fsck_target_dmid');
  const classid = id('fsck_target_classid');
  const devid = id('fsck_target_devid');
  const keyPrefix = settings.get('fsck_target_prefix');
  return {
    ...(dmid !== undefined && { dmid }),
    ...(classid !== undefined && { classid }),
    ...(devid !== undefined && { devid }),
    ...(keyPrefix && { keyPrefix }),
  };
}
