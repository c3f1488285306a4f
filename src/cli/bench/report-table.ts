import { workloadLabel } from './bench-plan.js';
import type { BenchReport } from './run-bench.js';

/** The report as Markdown tables: workloads (with ratios to raw), processes, targets. */
export function formatReport(report: BenchReport): string {
  const lines: string[] = [];
  const load = (values: readonly number[]) => values.map((v) => v.toFixed(2)).join(', ');
  lines.push(
    `mogile bench, ${report.startedAt} — ${report.mode === 'local' ? `local cluster on ${report.backend}` : `trackers ${report.trackers.join(',')}`}` +
      `${report.quick ? ' (quick)' : ''}, after a warm-up of ${report.warmup.files} files; ` +
      `${report.host.cpus} CPUs, node ${report.host.node}; ` +
      `load average ${load(report.host.loadAverageStart)} at the start, ${load(report.host.loadAverageEnd)} at the end`,
    '',
    '| workload | ops | ops/s | MB/s | p50 ms | p99 ms | ops/s vs raw | p99 vs raw | tracker CPU s/1k ops | copies after |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const w of report.workloads) {
    const lag =
      w.replicationLagSeconds === undefined
        ? ''
        : w.replicationLagSeconds === null
          ? 'deadline'
          : `${w.replicationLagSeconds.toFixed(2)} s`;
    lines.push(
      `| ${workloadLabel(w)} | ${w.ops} | ${w.opsPerSec.toFixed(0)} | ${w.mbPerSec.toFixed(1)} | ` +
        `${w.p50Ms.toFixed(1)} | ${w.p99Ms.toFixed(1)} | ${percent(w.rawRatio)} | ` +
        `${w.rawP99Ratio === undefined ? '' : `${w.rawP99Ratio.toFixed(1)}x`} | ` +
        `${w.trackerCpuSecondsPer1000Ops?.toFixed(2) ?? ''} | ${lag} |`,
    );
  }
  if (report.stream) {
    const s = report.stream;
    lines.push(
      '',
      `${(s.sizeBytes / 2 ** 30).toFixed(0)} GiB stream: store ${s.storeMBPerSec.toFixed(0)} MB/s, ` +
        `get ${s.getMBPerSec.toFixed(0)} MB/s, largest storage-node RSS growth ${s.nodeRssGrowthMB.toFixed(0)} MB`,
    );
  }
  if (report.processes.length > 0) {
    lines.push('', '| process | peak RSS MB | CPU s | processes |', '|---|---:|---:|---:|');
    for (const p of report.processes) {
      lines.push(
        `| ${p.role} | ${p.peakRssMB.toFixed(0)} | ${p.cpuSeconds.toFixed(1)} | ${p.processCount} |`,
      );
    }
  }
  lines.push('', '| target | goal | measured | verdict |', '|---|---|---|---|');
  for (const t of report.targets) {
    lines.push(`| ${t.name} | ${t.target} | ${t.measured} | ${t.verdict} |`);
  }
  return `${lines.join('\n')}\n`;
}

function percent(ratio: number | undefined): string {
  return ratio === undefined ? '' : `${(ratio * 100).toFixed(0)}%`;
}
