import { describe, expect, it } from 'vitest';
import {
  formatRebalanceState,
  newRebalanceState,
  parseRebalancePolicy,
  parseRebalanceState,
} from '../../src/workers/rebalance-settings.js';

describe('rebalance policy strings (behaviour.md §10.1)', () => {
  it('has the documented defaults', () => {
    expect(parseRebalancePolicy('')).toMatchObject({
      fromDevices: [],
      newestFirst: false,
      limitType: 'device',
      limitBy: 'none',
      limit: undefined,
      useDestDevs: undefined,
      leaveInDrainMode: false,
    });
  });

  it('reads lists, sizes with units and every key', () => {
    const policy = parseRebalancePolicy(
      'from_devices=1,2 to_hosts=3 not_to_devices=4 fid_age=new limit_type=global ' +
        'limit_by=size limit=2m use_dest_devs=2 leave_in_drain_mode=1 from_percent_used=50',
    );
    expect(policy).toMatchObject({
      fromDevices: [1, 2],
      toHosts: [3],
      notToDevices: [4],
      newestFirst: true,
      limitType: 'global',
      limitBy: 'size',
      limit: 2 * 1024 * 1024,
      useDestDevs: 2,
      leaveInDrainMode: true,
      from: { percentUsed: 50 },
    });
  });

  it('refuses unknown keys with the original message', () => {
    expect(() => parseRebalancePolicy('bogus_key')).toThrow('Invalid setting bogus_key');
    expect(() => parseRebalancePolicy('from_devices=1 x=2')).toThrow('Invalid setting x');
  });

  it('a key without a value matches no device, like the original', () => {
    expect(parseRebalancePolicy('from_devices').fromDevices).toEqual([Number.NaN]);
  });
});

describe('rebalance state strings (§10.2)', () => {
  it('round-trips with exactly the documented keys', () => {
    const state = newRebalanceState([3, 4], parseRebalancePolicy(''), 1000);
    state.completedDevs.push(2);
    const text = formatRebalanceState(state);
    expect(
      text
        .split(' ')
        .map((token) => token.split('=')[0])
        .sort(),
    ).toEqual(
      [
        'completed_devs',
        'source_devs',
        'sdev_current',
        'sdev_lastfid',
        'sdev_limit',
        'limit',
        'fids_queued',
        'bytes_queued',
        'time_started',
        'time_finished',
        'time_stopped',
        'time_latest_run',
        'time_latest_empty_run',
        'empty_runs',
      ].sort(),
    );
    expect(parseRebalanceState(text)).toEqual(state);
  });
});
