import { intField, optionalNumber } from './client-options.js';

/** The reply of mogile's `mogile_stats` (docs/protocol-extensions.md). */

export interface ClassStats {
  readonly domain: string;
  readonly class: string;
  readonly mindevcount: number;
  readonly files: number;
  readonly bytes: number;
  /** Files by copy count (`devcount`), ascending. */
  readonly copies: readonly { readonly devcount: number; readonly files: number }[];
}

export interface QueueDepth {
  readonly new: number;
  readonly overdue: number;
  readonly deferred: number;
  readonly manual: number;
}

export const STATS_QUEUES = ['replicate', 'delete', 'fsck', 'rebalance'] as const;
export type StatsQueue = (typeof STATS_QUEUES)[number];

export interface ClusterStats {
  /** The tracker's clock when it counted, in Unix seconds. */
  readonly timeSeconds: number;
  readonly classes: readonly ClassStats[];
  readonly queues: Readonly<Record<StatsQueue, QueueDepth>>;
}

export function parseClusterStats(reply: ReadonlyMap<string, string>): ClusterStats {
  const count = intField(reply, 'classes', 'mogile_stats');
  const number = (name: string) => optionalNumber(reply, name) ?? 0;
  const classes = Array.from({ length: count }, (_, index): ClassStats => {
    const p = `class${index + 1}_`;
    return {
      domain: reply.get(`${p}domain`) ?? '',
      class: reply.get(`${p}class`) ?? '',
      mindevcount: number(`${p}mindevcount`),
      files: number(`${p}files`),
      bytes: number(`${p}bytes`),
      copies: (reply.get(`${p}copies`) ?? '')
        .split(',')
        .filter(Boolean)
        .map((pair) => {
          const [devcount = '0', files = '0'] = pair.split(':');
          return { devcount: Number(devcount), files: Number(files) };
        }),
    };
  });
  const queue = (name: StatsQueue): QueueDepth => ({
    new: number(`queue_${name}_new`),
    overdue: number(`queue_${name}_overdue`),
    deferred: number(`queue_${name}_deferred`),
    manual: number(`queue_${name}_manual`),
  });
  return {
    timeSeconds: number('time'),
    classes,
    queues: {
      replicate: queue('replicate'),
      delete: queue('delete'),
      fsck: queue('fsck'),
      rebalance: queue('rebalance'),
    },
  };
}
