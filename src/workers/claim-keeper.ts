import type { Logger } from 'pino';
import type { MetaStore } from '../meta/meta-store.js';
import { CLAIM_LEASE_SECONDS, type Claimed, type ClaimScope } from '../meta/queue-claims.js';

export interface ClaimKeeperOptions {
  readonly meta: Pick<MetaStore, 'renewClaims'>;
  readonly scope: ClaimScope;
  readonly nowSeconds: () => number;
  readonly leaseSeconds?: number;
  readonly logger?: Logger | undefined;
}

interface Held {
  lease: number;
  /** Settling: renewals leave it alone, so the settle's token stays right. */
  settling: boolean;
  /** The renewal in flight that includes this claim, if any. */
  renewal: Promise<void> | undefined;
}

/**
 * This tracker's claims on one queue while its worker acts on them (architecture.md §6).
 * It renews them every third of the lease, so a long batch or a slow copy keeps its rows,
 * and tells the worker when a claim is no longer safely ours: lost to another tracker
 * after the lease ran out (a stalled process or database), or close to running out
 * because renewals are failing. A worker acts on a fid only while `mayAct` says so, and
 * settles its row with the token `settle` hands it, never clobbering another's claim.
 */
export class ClaimKeeper {
  readonly #options: ClaimKeeperOptions;
  readonly #leaseSeconds: number;
  readonly #held = new Map<number, Held>();
  #timer: NodeJS.Timeout | undefined;
  #renewing: Promise<void> | undefined;

  constructor(options: ClaimKeeperOptions) {
    this.#options = options;
    this.#leaseSeconds = options.leaseSeconds ?? CLAIM_LEASE_SECONDS;
  }

  /** Starts keeping freshly claimed rows. */
  hold(claims: readonly Claimed[]): void {
    for (const claim of claims) {
      this.#held.set(claim.fid, { lease: claim.lease, settling: false, renewal: undefined });
    }
    if (this.#held.size > 0 && !this.#timer) {
      this.#timer = setInterval(() => void this.renew(), (this.#leaseSeconds * 1000) / 3);
      this.#timer.unref();
    }
  }

  /**
   * True while the claim is ours with at least a third of a lease left, the time a step
   * (one copy, one DELETE) may take before the next renewal would have to succeed.
   */
  mayAct(fid: number): boolean {
    const held = this.#held.get(fid);
    if (!held) return false;
    return held.lease - this.#options.nowSeconds() > this.#leaseSeconds / 3;
  }

  /**
   * Runs `work` with the claim's current token and forgets the claim. A lost claim is not
   * settled at all: its row belongs to another tracker now. Returns false then.
   */
  async settle(fid: number, work: (lease: number) => Promise<void>): Promise<boolean> {
    const held = this.#held.get(fid);
    if (!held) return false;
    held.settling = true;
    await held.renewal;
    try {
      if (!this.#held.has(fid)) return false;
      await work(held.lease);
      return true;
    } finally {
      this.#held.delete(fid);
      if (this.#held.size === 0) this.#stopTimer();
    }
  }

  /** Forgets a claim without touching its row (it runs out by itself). */
  drop(fid: number): void {
    this.#held.delete(fid);
    if (this.#held.size === 0) this.#stopTimer();
  }

  /** Renews every claim not being settled; one renewal at a time. */
  renew(): Promise<void> {
    this.#renewing ??= this.#renewAll().finally(() => {
      this.#renewing = undefined;
    });
    return this.#renewing;
  }

  async #renewAll(): Promise<void> {
    const byLease = new Map<number, number[]>();
    for (const [fid, held] of this.#held) {
      if (held.settling) continue;
      byLease.set(held.lease, [...(byLease.get(held.lease) ?? []), fid]);
    }
    const newLease = this.#options.nowSeconds() + this.#leaseSeconds;
    for (const [lease, grouped] of byLease) {
      if (newLease <= lease) continue;
      // Claims that began settling while an earlier group renewed keep their token.
      const fids = grouped.filter((fid) => this.#held.get(fid)?.settling === false);
      if (fids.length === 0) continue;
      const renewal = this.#renewGroup(fids, lease, newLease);
      for (const fid of fids) {
        const held = this.#held.get(fid);
        if (held) held.renewal = renewal;
      }
      await renewal;
    }
  }

  async #renewGroup(fids: readonly number[], lease: number, newLease: number): Promise<void> {
    const { meta, scope, logger } = this.#options;
    let kept: Set<number>;
    try {
      kept = new Set(await meta.renewClaims(scope, fids, lease, newLease));
    } catch (error) {
      // Claims keep their old token; mayAct turns false as it nears its end.
      logger?.warn({ err: error, table: scope.table }, 'renewing queue claims failed');
      return;
    }
    for (const fid of fids) {
      const held = this.#held.get(fid);
      if (!held) continue;
      held.renewal = undefined;
      if (kept.has(fid)) held.lease = newLease;
      else {
        logger?.warn({ fid, table: scope.table }, 'queue claim lost to another tracker');
        this.#held.delete(fid);
      }
    }
  }

  #stopTimer(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Stops renewing; claims still held run out by themselves. */
  close(): void {
    this.#stopTimer();
    this.#held.clear();
  }
}
