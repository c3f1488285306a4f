/**
 * The rebalance policy and state strings (spec behaviour.md §10.1–10.2): space-separated
 * `key=value` tokens, list values comma-separated. Like the original, a token without `=`
 * sets its key to an empty value, and only the first `=` of a token counts.
 */

export class RebalancePolicyError extends Error {}

/** Keys of a policy and their defaults; lists are arrays (§10.1). */
const POLICY_DEFAULTS = {
  from_all_devs: '1',
  from_hosts: [] as string[],
  from_devices: [] as string[],
  from_percent_used: undefined as string | undefined,
  from_percent_free: undefined as string | undefined,
  from_space_used: undefined as string | undefined,
  from_space_free: undefined as string | undefined,
  fid_age: 'old',
  limit_type: 'device',
  limit_by: 'none',
  limit: undefined as string | undefined,
  to_all_devs: '1',
  to_hosts: [] as string[],
  to_devices: [] as string[],
  not_to_hosts: [] as string[],
  not_to_devices: [] as string[],
  to_percent_used: undefined as string | undefined,
  to_percent_free: undefined as string | undefined,
  to_space_used: undefined as string | undefined,
  to_space_free: undefined as string | undefined,
  use_dest_devs: 'all',
  leave_in_drain_mode: '0',
};

export interface SpaceFilter {
  readonly percentUsed?: number | undefined;
  readonly percentFree?: number | undefined;
  readonly spaceUsedMb?: number | undefined;
  readonly spaceFreeMb?: number | undefined;
}

export interface RebalancePolicy {
  readonly fromHosts: readonly number[];
  readonly fromDevices: readonly number[];
  readonly from: SpaceFilter;
  readonly newestFirst: boolean;
  readonly limitType: 'device' | 'global';
  readonly limitBy: 'none' | 'count' | 'size' | 'percent';
  /** A count, or bytes for `limit_by=size`; undefined = no limit. */
  readonly limit: number | undefined;
  readonly toHosts: readonly number[];
  readonly toDevices: readonly number[];
  readonly notToHosts: readonly number[];
  readonly notToDevices: readonly number[];
  readonly to: SpaceFilter;
  /** Destinations offered per fid; undefined = all. */
  readonly useDestDevs: number | undefined;
  readonly leaveInDrainMode: boolean;
}

function tokens(text: string): [string, string][] {
  return text
    .split(/\s+/)
    .filter((token) => token !== '')
    .map((token) => {
      const [key = '', value = ''] = token.split('=');
      return [key, value];
    });
}

/** Parses a policy string; throws RebalancePolicyError(`Invalid setting <key>`). */
export function parseRebalancePolicy(text: string): RebalancePolicy {
  const raw: Record<string, string | string[] | undefined> = { ...POLICY_DEFAULTS };
  for (const [key, value] of tokens(text)) {
    if (!Object.hasOwn(POLICY_DEFAULTS, key)) {
      throw new RebalancePolicyError(`Invalid setting ${key}`);
    }
    raw[key] =
      value.includes(',') || Array.isArray(POLICY_DEFAULTS[key as keyof typeof POLICY_DEFAULTS])
        ? value.split(',')
        : value;
  }
  const list = (key: string) => {
    const value = raw[key];
    // An empty value names no device: it matches nothing, as in the original.
    return (Array.isArray(value) ? value : [value ?? '']).map((item) =>
      /^\d+$/.test(item) ? Number(item) : Number.NaN,
    );
  };
  const scalar = (key: string) => {
    const value = raw[key];
    return Array.isArray(value) ? value[0] : value;
  };
  const number = (key: string) => {
    const value = scalar(key);
    return value === undefined || value === '' ? undefined : Number.parseFloat(value);
  };
  const filter = (side: 'from' | 'to'): SpaceFilter => ({
    percentUsed: number(`${side}_percent_used`),
    percentFree: number(`${side}_percent_free`),
    spaceUsedMb: number(`${side}_space_used`),
    spaceFreeMb: number(`${side}_space_free`),
  });
  const limitBy = scalar('limit_by');
  if (limitBy !== 'none' && limitBy !== 'count' && limitBy !== 'size' && limitBy !== 'percent') {
    throw new RebalancePolicyError(`Invalid value for limit_by: ${limitBy}`);
  }
  const useDest = scalar('use_dest_devs');
  return {
    fromHosts: list('from_hosts'),
    fromDevices: list('from_devices'),
    from: filter('from'),
    newestFirst: scalar('fid_age') === 'new',
    limitType: scalar('limit_type') === 'global' ? 'global' : 'device',
    limitBy,
    limit: parseLimit(scalar('limit'), limitBy),
    toHosts: list('to_hosts'),
    toDevices: list('to_devices'),
    notToHosts: list('not_to_hosts'),
    notToDevices: list('not_to_devices'),
    to: filter('to'),
    useDestDevs: useDest && /^\d+$/.test(useDest) ? Number(useDest) : undefined,
    leaveInDrainMode: /^[1-9]/.test(scalar('leave_in_drain_mode') ?? ''),
  };
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

function parseLimit(value: string | undefined, limitBy: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const match = /^(\d+(?:\.\d+)?)\s*([bkmgtp]?)$/i.exec(value);
  if (!match) throw new RebalancePolicyError(`Invalid value for limit: ${value}`);
  const unit = limitBy === 'size' ? (SIZE_UNITS[match[2]!.toLowerCase()] ?? 1) : 1;
  return Math.floor(Number(match[1]) * unit);
}

/** The state of a rebalance (§10.2); exactly these keys go on the wire. */
export interface RebalanceState {
  completedDevs: number[];
  sourceDevs: number[];
  sdevCurrent: number;
  sdevLastfid: number;
  sdevLimit: number;
  limit: number;
  fidsQueued: number;
  bytesQueued: number;
  timeStarted: number;
  timeFinished: number;
  timeStopped: number;
  timeLatestRun: number;
  timeLatestEmptyRun: number;
  emptyRuns: number;
}

const STATE_KEYS: readonly [keyof RebalanceState, string][] = [
  ['completedDevs', 'completed_devs'],
  ['sourceDevs', 'source_devs'],
  ['sdevCurrent', 'sdev_current'],
  ['sdevLastfid', 'sdev_lastfid'],
  ['sdevLimit', 'sdev_limit'],
  ['limit', 'limit'],
  ['fidsQueued', 'fids_queued'],
  ['bytesQueued', 'bytes_queued'],
  ['timeStarted', 'time_started'],
  ['timeFinished', 'time_finished'],
  ['timeStopped', 'time_stopped'],
  ['timeLatestRun', 'time_latest_run'],
  ['timeLatestEmptyRun', 'time_latest_empty_run'],
  ['emptyRuns', 'empty_runs'],
];

export function newRebalanceState(
  sourceDevs: number[],
  policy: RebalancePolicy,
  nowSeconds: number,
): RebalanceState {
  return {
    completedDevs: [],
    sourceDevs,
    sdevCurrent: 0,
    sdevLastfid: 0,
    sdevLimit: 0,
    limit: policy.limitType === 'global' ? (policy.limit ?? 0) : 0,
    fidsQueued: 0,
    bytesQueued: 0,
    timeStarted: nowSeconds,
    timeFinished: 0,
    timeStopped: 0,
    timeLatestRun: 0,
    timeLatestEmptyRun: 0,
    emptyRuns: 0,
  };
}

export function formatRebalanceState(state: RebalanceState): string {
  return STATE_KEYS.map(([field, key]) => {
    const value = state[field];
    return `${key}=${Array.isArray(value) ? value.join(',') : value}`;
  }).join(' ');
}

export function parseRebalanceState(text: string): RebalanceState {
  const values = new Map(tokens(text));
  const state = {} as Record<keyof RebalanceState, number | number[]>;
  for (const [field, key] of STATE_KEYS) {
    const value = values.get(key) ?? '';
    state[field] =
      field === 'completedDevs' || field === 'sourceDevs'
        ? value
            .split(',')
            .filter((id) => /^\d+$/.test(id))
            .map(Number)
        : Number(value) || 0;
  }
  return state as unknown as RebalanceState;
}
