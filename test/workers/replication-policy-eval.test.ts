import { describe, expect, it } from 'vitest';
import type { DeviceView } from '../../src/tracker/device-state.js';
import { parseReplicationPolicy } from '../../src/tracker/replication-policy.js';
import {
  evaluatePolicy,
  type PolicyInput,
  type PolicyVerdict,
} from '../../src/workers/replication-policy-eval.js';
import { deleteRetryDelay, replicationRetryDelay } from '../../src/workers/retry-delays.js';
import { view } from './test-devices.js';

// Three hosts with two devices each: d1,d2 on h1; d3,d4 on h2; d5,d6 on h3.
const ALL = [view(1, 1), view(2, 1), view(3, 2), view(4, 2), view(5, 3), view(6, 3)];
const dev = (devid: number) => ALL.find((v) => v.device.devid === devid)!;

function evaluate(
  policy: string,
  onDevids: number[],
  extra: Partial<PolicyInput> = {},
): PolicyVerdict {
  return evaluatePolicy(parseReplicationPolicy(policy), {
    on: onDevids.map(dev),
    all: ALL,
    failed: new Set(),
    mindevcount: 2,
    mayReceive: () => true,
    ...extra,
  });
}

function devids(list: readonly DeviceView[]): number[] {
  return list.map((v) => v.device.devid).sort((a, b) => a - b);
}

function request(verdict: PolicyVerdict): { ideal: number[]; desperate: number[] } {
  if (verdict.kind !== 'request') throw new Error(`expected a request, got ${verdict.kind}`);
  return { ideal: devids(verdict.ideal), desperate: devids(verdict.desperate) };
}

describe('MultipleHosts (behaviour.md §5.3)', () => {
  it('one copy of two: ideal on the other hosts, desperate on its own host', () => {
    expect(request(evaluate('', [1]))).toEqual({ ideal: [3, 4, 5, 6], desperate: [2] });
  });

  it('two copies on one host still want another host; a third copy is too good', () => {
    expect(request(evaluate('MultipleHosts()', [1, 2]))).toEqual({
      ideal: [3, 4, 5, 6],
      desperate: [],
    });
    expect(evaluate('MultipleHosts()', [1, 2, 3])).toEqual({ kind: 'too_good' });
  });

  it('copies on min distinct hosts are all good; more hosts than min is too good', () => {
    expect(evaluate('', [1, 3])).toEqual({ kind: 'all_good' });
    expect(evaluate('', [1, 3, 5])).toEqual({ kind: 'too_good' });
    expect(evaluate('MultipleHosts(3)', [1, 3, 5])).toEqual({ kind: 'all_good' });
  });

  it('min 1 with one copy is all good', () => {
    expect(evaluate('', [4], { mindevcount: 1 })).toEqual({ kind: 'all_good' });
  });

  // The spec's prose calls d2 "desperate"; by rule 8 (hosts_on is not < total_hosts) it is
  // ideal. Either way the copy goes to d2.
  it('a single host: copy to the other device, then all good (rule 5)', () => {
    const oneHost = [view(1, 1), view(2, 1)];
    const input = { all: oneHost, failed: new Set<number>(), mindevcount: 2 };
    const first = evaluatePolicy(parseReplicationPolicy(''), {
      ...input,
      on: [oneHost[0]!],
      mayReceive: () => true,
    });
    expect(request(first)).toEqual({ ideal: [2], desperate: [] });
    const second = evaluatePolicy(parseReplicationPolicy(''), {
      ...input,
      on: oneHost,
      mayReceive: () => true,
    });
    expect(second).toEqual({ kind: 'all_good' });
  });

  it('every usable disk already holding a copy is all good (rule 6)', () => {
    const disks = [view(1, 1), view(2, 1), view(3, 2, 50, 'dead')];
    const verdict = evaluatePolicy(parseReplicationPolicy('MultipleHosts(4)'), {
      on: disks.slice(0, 2),
      all: disks,
      failed: new Set(),
      mindevcount: 2,
      mayReceive: () => true,
    });
    expect(verdict).toEqual({ kind: 'all_good' });
  });

  it('leaves out failed devices and those that may not receive; none left: no answer', () => {
    expect(request(evaluate('', [1], { failed: new Set([3, 4]) })).ideal).toEqual([5, 6]);
    expect(request(evaluate('', [1], { mayReceive: (v) => v.device.devid !== 5 })).ideal).toEqual([
      3, 4, 6,
    ]);
    expect(evaluate('', [1], { mayReceive: () => false })).toEqual({ kind: 'temp_no_answer' });
  });

  it('enough copies but no ideal host left: no answer (rule 9)', () => {
    const verdict = evaluate('', [1, 2], { failed: new Set([3, 4, 5, 6]) });
    expect(verdict).toEqual({ kind: 'temp_no_answer' });
  });

  it('devices without free space are never suggested (weight 0)', () => {
    const full = [view(1, 1), view(3, 2, 0), view(5, 3, 40)];
    const verdict = evaluatePolicy(parseReplicationPolicy(''), {
      on: [full[0]!],
      all: full,
      failed: new Set(),
      mindevcount: 2,
      mayReceive: () => true,
    });
    expect(request(verdict).ideal).toEqual([5]);
  });
});

describe('MultipleDevices (§5.4)', () => {
  it('ignores hosts', () => {
    expect(request(evaluate('MultipleDevices(3)', [1, 2]))).toEqual({
      ideal: [3, 4, 5, 6],
      desperate: [],
    });
    expect(evaluate('MultipleDevices()', [1, 2])).toEqual({ kind: 'all_good' });
    expect(evaluate('MultipleDevices(2)', [1, 2, 3])).toEqual({ kind: 'too_good' });
  });
});

describe('Union (§5.5, our semantics)', () => {
  it('is satisfied only when every sub-policy is', () => {
    const policy = 'Union(MultipleHosts(2), MultipleDevices(3))';
    expect(request(evaluate(policy, [1, 3]))).toEqual({ ideal: [2, 4, 5, 6], desperate: [] });
    expect(evaluate(policy, [1, 3, 5])).toEqual({ kind: 'all_good' });
  });

  it('is too good only when every sub-policy is too good', () => {
    expect(evaluate('Union(MultipleHosts(2), MultipleDevices(2))', [1, 3, 5])).toEqual({
      kind: 'too_good',
    });
  });

  it('puts every ideal suggestion before the desperate ones', () => {
    const verdict = evaluate('Union(MultipleHosts(2), MultipleHosts(3))', [1]);
    expect(request(verdict)).toEqual({ ideal: [3, 4, 5, 6], desperate: [2] });
  });
});

describe('retry delays', () => {
  it('replication backs off 15 s, 60 s, 5 min … 24 h, within ±20 %', () => {
    expect(replicationRetryDelay(0, () => 0)).toBe(12);
    expect(replicationRetryDelay(0, () => 0.999_999)).toBe(18);
    expect(replicationRetryDelay(1, () => 0.5)).toBe(60);
    expect(replicationRetryDelay(2, () => 0.5)).toBe(300);
    expect(replicationRetryDelay(8, () => 0.5)).toBe(86400);
    expect(replicationRetryDelay(200, () => 0.5)).toBe(86400);
  });

  it('deletes wait per setback and failcount (§7.1)', () => {
    expect(deleteRetryDelay('not_writeable', 0)).toBe(600);
    expect(deleteRetryDelay('not_deletable', 1)).toBe(7200);
    expect(deleteRetryDelay('http_failed', 2)).toBe(5400);
  });
});
