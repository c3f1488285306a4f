import type { DeviceView } from '../tracker/device-state.js';
import { percentFree, weightedShuffle } from '../tracker/device-state.js';
import type { ReplicationPolicy } from '../tracker/replication-policy.js';

/**
 * What a replication policy says about one fid (spec behaviour.md §5.2): satisfied,
 * satisfied with copies to spare, nothing to suggest yet, or where to copy next.
 */
export type PolicyVerdict =
  | { readonly kind: 'all_good' }
  | { readonly kind: 'too_good' }
  | { readonly kind: 'temp_no_answer' }
  | {
      readonly kind: 'request';
      readonly ideal: readonly DeviceView[];
      readonly desperate: readonly DeviceView[];
    };

export interface PolicyInput {
  /** Devices holding the fid (the replicator leaves out dead ones). */
  readonly on: readonly DeviceView[];
  /** Candidate destinations: every device the tracker knows. */
  readonly all: readonly DeviceView[];
  /** Devids that failed as a destination during this attempt. */
  readonly failed: ReadonlySet<number>;
  /** The class's mindevcount, used when the policy has no count of its own. */
  readonly mindevcount: number;
  /** should_get_replicated_files (§2.4), which needs the monitor's observations. */
  readonly mayReceive: (view: DeviceView) => boolean;
  readonly random?: () => number;
}

const ALL_GOOD: PolicyVerdict = { kind: 'all_good' };
const TOO_GOOD: PolicyVerdict = { kind: 'too_good' };
const TEMP_NO_ANSWER: PolicyVerdict = { kind: 'temp_no_answer' };
/** Each suggestion list is cut to the 20 freest devices before shuffling (§5.3 step 10). */
const SUGGESTION_LIMIT = 20;

export function isSatisfied(verdict: PolicyVerdict): boolean {
  return verdict.kind === 'all_good' || verdict.kind === 'too_good';
}

export function evaluatePolicy(policy: ReplicationPolicy, input: PolicyInput): PolicyVerdict {
  switch (policy.kind) {
    case 'MultipleHosts':
      return multipleHosts(policy.count || input.mindevcount, input);
    case 'MultipleDevices':
      return multipleDevices(policy.count || input.mindevcount, input);
    case 'Union':
      return union(policy.policies, input);
  }
}

/** §5.3, rule by rule in the spec's order. */
function multipleHosts(min: number, input: PolicyInput): PolicyVerdict {
  const on = input.on.length;
  const hostsOn = new Set(input.on.map((view) => view.host.hostid)).size;
  const totalHosts = new Set(
    input.all.filter((view) => view.device.status === 'alive').map((view) => view.host.hostid),
  ).size;
  const totalDisks = input.all.filter((view) => view.device.status !== 'dead').length;
  if (min === 1 && on === 1) return ALL_GOOD;
  if (hostsOn > min) return TOO_GOOD;
  if (on > min) return TOO_GOOD;
  if (hostsOn === min) return ALL_GOOD;
  if (hostsOn >= totalHosts && on >= min) return ALL_GOOD;
  if (on >= 2 && on === totalDisks) return ALL_GOOD;
  const candidates = candidatesFor(input);
  if (candidates.length === 0) return TEMP_NO_ANSWER;
  let ideal = candidates;
  let desperate: DeviceView[] = [];
  if (hostsOn < totalHosts) {
    const usedHosts = new Set(input.on.map((view) => view.host.hostid));
    ideal = candidates.filter((view) => !usedHosts.has(view.host.hostid));
    desperate = candidates.filter((view) => usedHosts.has(view.host.hostid));
  }
  if (on >= min && ideal.length === 0) return TEMP_NO_ANSWER;
  return {
    kind: 'request',
    ideal: shuffleTop(ideal, input.random),
    desperate: shuffleTop(desperate, input.random),
  };
}

/** §5.4: hosts are ignored. */
function multipleDevices(min: number, input: PolicyInput): PolicyVerdict {
  const on = input.on.length;
  const totalDisks = input.all.filter((view) => view.device.status !== 'dead').length;
  if (on === min) return ALL_GOOD;
  if (on > min) return TOO_GOOD;
  if (on >= 2 && on === totalDisks) return ALL_GOOD;
  const candidates = candidatesFor(input);
  if (candidates.length === 0) return TEMP_NO_ANSWER;
  return { kind: 'request', ideal: shuffleTop(candidates, input.random), desperate: [] };
}

/**
 * §5.5 is AMBIGUOUS (the original cannot evaluate Union at all). Our choice: satisfied
 * when every sub-policy is; too good only when every sub-policy is too good, so surplus
 * removal never undercuts one of them (the replicator re-checks with the copy masked
 * anyway); otherwise the union of the unsatisfied sub-policies' suggestions, every ideal
 * device before any desperate one.
 */
function union(policies: readonly ReplicationPolicy[], input: PolicyInput): PolicyVerdict {
  const verdicts = policies.map((policy) => evaluatePolicy(policy, input));
  if (verdicts.every((verdict) => verdict.kind === 'too_good')) return TOO_GOOD;
  if (verdicts.every(isSatisfied)) return ALL_GOOD;
  const ideal = new Map<number, DeviceView>();
  const desperate = new Map<number, DeviceView>();
  for (const verdict of verdicts) {
    if (verdict.kind !== 'request') continue;
    for (const view of verdict.ideal) ideal.set(view.device.devid, view);
    for (const view of verdict.desperate) desperate.set(view.device.devid, view);
  }
  for (const devid of ideal.keys()) desperate.delete(devid);
  if (ideal.size === 0 && desperate.size === 0) return TEMP_NO_ANSWER;
  return { kind: 'request', ideal: [...ideal.values()], desperate: [...desperate.values()] };
}

/** §5.3 step 7: devices that may take a copy, freest first. */
function candidatesFor(input: PolicyInput): DeviceView[] {
  const holding = new Set(input.on.map((view) => view.device.devid));
  return input.all
    .filter(
      (view) =>
        !holding.has(view.device.devid) &&
        !input.failed.has(view.device.devid) &&
        input.mayReceive(view),
    )
    .sort((a, b) => percentFree(b.device) - percentFree(a.device));
}

function shuffleTop(views: readonly DeviceView[], random?: () => number): DeviceView[] {
  return weightedShuffle(
    views.slice(0, SUGGESTION_LIMIT),
    (view) => 100 * percentFree(view.device),
    random,
  );
}
