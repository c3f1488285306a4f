/** Runs `total` operations with `concurrency` workers; returns per-op latencies (ms) and wall time. */
export async function runConcurrent(
  total: number,
  concurrency: number,
  op: (index: number) => Promise<void>,
): Promise<{ latenciesMs: number[]; seconds: number }> {
  const latenciesMs: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const index = next++;
        const begin = performance.now();
        await op(index);
        latenciesMs.push(performance.now() - begin);
      }
    }),
  );
  return { latenciesMs, seconds: (performance.now() - started) / 1000 };
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** `label: 1234 ops/s, 4.8 MB/s, p50 1.2 ms, p99 5.6 ms` */
export function formatRun(
  label: string,
  run: { latenciesMs: number[]; seconds: number },
  bytesPerOp: number,
): string {
  const ops = run.latenciesMs.length / run.seconds;
  const mbps = (ops * bytesPerOp) / 1e6;
  return (
    `${label.padEnd(28)} ${ops.toFixed(0).padStart(7)} ops/s  ${mbps.toFixed(1).padStart(7)} MB/s  ` +
    `p50 ${percentile(run.latenciesMs, 50).toFixed(1)} ms  p99 ${percentile(run.latenciesMs, 99).toFixed(1)} ms`
  );
}
