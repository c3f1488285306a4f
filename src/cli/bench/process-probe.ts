import { readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_SECOND = 100;
const MB = 1e6;

/** user + system CPU seconds a process has used so far (/proc/<pid>/stat utime + stime). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; the fields after its `)` are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / CLOCK_TICKS_PER_SECOND;
}

/** The current and peak resident set size in MB (/proc/<pid>/status VmRSS and VmHWM). */
export function memoryMB(pid: number): { rssMB: number; peakMB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rssMB: (kib('VmRSS') * 1024) / MB, peakMB: (kib('VmHWM') * 1024) / MB };
}

/**
 * `pid` and every process it started, and theirs (`/proc/<pid>/task/<pid>/children`: the
 * children of its main thread, which is where a tracker forks its workers). The original
 * MogileFS tracker is a parent and one process per worker; ours is one process.
 */
export function processTree(pid: number): number[] {
  const tree: number[] = [];
  const pending = [pid];
  while (pending.length > 0) {
    const next = pending.pop()!;
    tree.push(next);
    try {
      const children = readFileSync(`/proc/${next}/task/${next}/children`, 'utf8');
      for (const child of children.split(' ')) if (child.trim()) pending.push(Number(child));
    } catch {
      // Gone meanwhile, or a kernel without the children file: the process alone.
    }
  }
  return tree;
}

/** CPU seconds of `pid` and its descendants alive now. */
export function treeCpuSeconds(pid: number): number {
  let total = 0;
  for (const member of processTree(pid)) {
    try {
      total += cpuSeconds(member);
    } catch {
      // Exited between the listing and the read.
    }
  }
  return total;
}

export interface WatchedProcess {
  readonly role: string;
  readonly pid: number;
  /**
   * It ran before the watch began (a tracker given by pid): its high-water mark (VmHWM)
   * may come from long before, so only sampled RSS counts.
   */
  readonly startedBefore?: boolean;
}

export interface ProcessPeak {
  readonly role: string;
  readonly pid: number;
  /**
   * The largest sampled VmRSS, summed over the process and its descendants; for a process
   * without children that the bench started, the kernel's high-water mark (VmHWM) if higher.
   */
  readonly peakRssMB: number;
  /** CPU seconds the process and its descendants used while they were watched. */
  readonly cpuSeconds: number;
  /** The most processes in its tree at one sample (1 for ours). */
  readonly processCount: number;
}

/** Samples VmRSS of a set of processes, so their peaks are known even after they exit. */
export class ProcessWatch {
  readonly #processes: readonly WatchedProcess[];
  readonly #peakMB = new Map<number, number>();
  readonly #cpu = new Map<number, number>();
  /** CPU seconds at the first sample: a tracker given by pid may have run for days. */
  readonly #cpuAtStart = new Map<number, number>();
  readonly #count = new Map<number, number>();
  readonly #timer: NodeJS.Timeout;

  constructor(processes: readonly WatchedProcess[], intervalMs = 100) {
    this.#processes = processes;
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), intervalMs);
    this.#timer.unref();
  }

  /** Stops sampling; call before the processes are stopped. */
  finish(): ProcessPeak[] {
    clearInterval(this.#timer);
    this.#sample();
    return this.#processes.map(({ role, pid }) => ({
      role,
      pid,
      peakRssMB: this.#peakMB.get(pid) ?? 0,
      cpuSeconds: (this.#cpu.get(pid) ?? 0) - (this.#cpuAtStart.get(pid) ?? 0),
      processCount: this.#count.get(pid) ?? 0,
    }));
  }

  #sample(): void {
    for (const { pid, startedBefore } of this.#processes) {
      try {
        const tree = processTree(pid);
        // VmHWM is per process and lifelong: it stands for the run only in those cases.
        const withHighWater = tree.length === 1 && !startedBefore;
        let rssMB = 0;
        let cpu = 0;
        for (const member of tree) {
          const memory = memoryMB(member);
          rssMB += withHighWater ? Math.max(memory.rssMB, memory.peakMB) : memory.rssMB;
          cpu += cpuSeconds(member);
        }
        this.#peakMB.set(pid, Math.max(this.#peakMB.get(pid) ?? 0, rssMB));
        this.#cpu.set(pid, cpu);
        if (!this.#cpuAtStart.has(pid)) this.#cpuAtStart.set(pid, cpu);
        this.#count.set(pid, Math.max(this.#count.get(pid) ?? 0, tree.length));
      } catch {
        // The process (or one of its children) has exited; the last whole sample stands.
      }
    }
  }
}
