/** nexttry meaning "never retry on its own" (spec metadata-schema.md §3, ENDOFTIME). */
export const END_OF_TIME = 2147483647;

/** Replication backoff steps in seconds (spec behaviour.md §6.4); the last repeats. */
const REPLICATION_STEPS = [15, 60, 300, 1800, 3600, 7200, 14400, 28800, 86400] as const;

/**
 * Seconds until a failed replication is retried: the step for `failcount`, times a random
 * factor in [0.8, 1.2) so that fids which failed together do not come back together.
 */
export function replicationRetryDelay(failcount: number, random: () => number = Math.random) {
  const step = REPLICATION_STEPS[Math.min(Math.max(failcount, 0), REPLICATION_STEPS.length - 1)]!;
  return Math.round(step * (0.8 + 0.4 * random()));
}

/** Why a delete could not finish on a device, and the delay §7.1 gives each reason. */
export type DeleteSetback = 'not_writeable' | 'not_deletable' | 'http_failed';

export function deleteRetryDelay(setback: DeleteSetback, failcount: number): number {
  switch (setback) {
    case 'not_writeable':
      return 60 * (10 + failcount);
    case 'not_deletable':
      return 3600 * (1 + failcount);
    case 'http_failed':
      return 1800 * (1 + failcount);
  }
}
