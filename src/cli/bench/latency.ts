/** What one workload measured, client side. */
export interface Throughput {
  readonly ops: number;
  readonly seconds: number;
  readonly opsPerSec: number;
  readonly mbPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/**
 * Runs operations 0..total-1 with `concurrency` workers, each taking the next index as soon
 * as its previous operation ends; the first error stops the run.
 */
export async function runOps(
  total: number,
  concurrency: number,
  bytesPerOp: number,
  op: (index: number) => Promise<void>,
): Promise<Throughput> {
  const latenciesMs: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      while (next < total) {
        const index = next++;
        const begin = performance.now();
        await op(index);
        latenciesMs.push(performance.now() - begin);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latenciesMs.sort((a, b) => a - b);
  const opsPerSec = total / seconds;
  return {
    ops: total,
    seconds,
    opsPerSec,
    mbPerSec: (opsPerSec * bytesPerOp) / 1e6,
    p50Ms: percentile(latenciesMs, 50),
    p99Ms: percentile(latenciesMs, 99),
  };
}

/** The nearest-rank percentile of ascending `sorted`. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
