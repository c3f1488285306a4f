/** One replication attempt on one fid by one tracker, read from its debug log. */
export interface Attempt {
  readonly tracker: number;
  readonly fid: number;
  readonly startMs: number;
  /** When it ended; for a tracker killed mid-attempt, the moment of the kill. */
  readonly endMs: number;
  readonly result: string;
}

export interface ReplicationLog {
  readonly attempts: Attempt[];
  /** Fids this tracker claimed and never finished an attempt on. */
  readonly unfinishedClaims: Set<number>;
}

/**
 * Reads the replicator's debug lines (`replication claimed`, `replication attempt`,
 * `replication attempt ended`) from a tracker's JSON log. Attempts still open at the end
 * are closed at `killedAtMs` (the tracker died) or fail the reading (it did not).
 */
export function readReplicationLog(
  stderr: string,
  tracker: number,
  killedAtMs?: number,
): ReplicationLog {
  const open = new Map<number, number>();
  const attempts: Attempt[] = [];
  const claimed = new Set<number>();
  const ended = new Set<number>();
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    const record = JSON.parse(line) as {
      msg?: string;
      time: number;
      fid?: number;
      fids?: number[];
      result?: string;
    };
    if (record.msg === 'replication claimed') {
      for (const fid of record.fids ?? []) claimed.add(fid);
    } else if (record.msg === 'replication attempt') {
      open.set(record.fid!, record.time);
    } else if (record.msg === 'replication attempt ended') {
      ended.add(record.fid!);
      const startMs = open.get(record.fid!);
      if (startMs === undefined) continue;
      open.delete(record.fid!);
      attempts.push({
        tracker,
        fid: record.fid!,
        startMs,
        endMs: record.time,
        result: record.result ?? '',
      });
    }
  }
  for (const [fid, startMs] of open) {
    if (killedAtMs === undefined) throw new Error(`tracker ${tracker}: fid ${fid} never ended`);
    attempts.push({ tracker, fid, startMs, endMs: killedAtMs, result: 'killed' });
  }
  const unfinishedClaims = new Set([...claimed].filter((fid) => !ended.has(fid)));
  return { attempts, unfinishedClaims };
}

/** Pairs of attempts on the same fid by different trackers whose times overlap. */
export function overlappingAttempts(attempts: readonly Attempt[]): [Attempt, Attempt][] {
  const byFid = new Map<number, Attempt[]>();
  for (const attempt of attempts) {
    byFid.set(attempt.fid, [...(byFid.get(attempt.fid) ?? []), attempt]);
  }
  const found: [Attempt, Attempt][] = [];
  for (const list of byFid.values()) {
    list.sort((a, b) => a.startMs - b.startMs);
    for (const [i, after] of list.entries()) {
      for (const before of list.slice(0, i)) {
        if (after.tracker !== before.tracker && after.startMs < before.endMs) {
          found.push([before, after]);
        }
      }
    }
  }
  return found;
}
