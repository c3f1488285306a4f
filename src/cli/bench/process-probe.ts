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

export interface WatchedProcess {
  readonly role: string;
  readonly pid: number;
}

export interface ProcessPeak {
  readonly role: string;
  readonly pid: number;
  /** The kernel's high-water mark (VmHWM), or the largest sampled VmRSS if higher. */
  readonly peakRssMB: number;
  readonly cpuSeconds: number;
}

/** Samples VmRSS of a set of processes, so their peaks are known even after they exit. */
export class ProcessWatch {
  readonly #processes: readonly WatchedProcess[];
  readonly #peakMB = new Map<number, number>();
  readonly #cpu = new Map<number, number>();
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
      cpuSeconds: this.#cpu.get(pid) ?? 0,
    }));
  }

  #sample(): void {
    for (const { pid } of this.#processes) {
      try {
        const { rssMB, peakMB } = memoryMB(pid);
        this.#peakMB.set(pid, Math.max(this.#peakMB.get(pid) ?? 0, rssMB, peakMB));
        this.#cpu.set(pid, cpuSeconds(pid));
      } catch {
        // The process has exited; its last sample stands.
      }
    }
  }
}
