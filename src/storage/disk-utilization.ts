import { readFile } from 'node:fs/promises';
import { diskNameOf } from './block-devices.js';
import type { DeviceRegistry } from './device-registry.js';

/** `io_ticks` (ms spent doing I/O) of every block device in /proc/diskstats. */
export function parseDiskStats(text: string): Map<string, number> {
  const ticks = new Map<string, number>();
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 13) continue;
    ticks.set(fields[2]!, Number(fields[12]));
  }
  return ticks;
}

/**
 * Computes each device's %util between two readings of /proc/diskstats, the number the
 * reference took from the last column of `iostat -dx 1` (spec/storage-node.md §5.3). We read
 * the kernel counters ourselves instead of running iostat.
 */
export class UtilizationSampler {
  readonly #registry: DeviceRegistry;
  readonly #diskNames = new Map<string, string | undefined>();
  #previous: { ticks: Map<string, number>; atMs: number } | null = null;

  constructor(registry: DeviceRegistry) {
    this.#registry = registry;
  }

  /** Takes a reading; returns `[devid, "12.50" | "-"]` pairs in ascending devid order. */
  async sample(): Promise<Array<[number, string]>> {
    const atMs = performance.now();
    let ticks: Map<string, number> | null = null;
    try {
      ticks = parseDiskStats(await readFile('/proc/diskstats', 'utf8'));
    } catch {
      ticks = null;
    }
    const previous = this.#previous;
    this.#previous = ticks ? { ticks, atMs } : null;
    const rows: Array<[number, string]> = [];
    for (const device of this.#registry.list()) {
      const disk = await this.#diskName(device.realPath);
      const now = disk === undefined ? undefined : ticks?.get(disk);
      const before = disk === undefined ? undefined : previous?.ticks.get(disk);
      if (now === undefined || before === undefined || !previous || atMs <= previous.atMs) {
        rows.push([device.devid, '-']);
        continue;
      }
      const util = Math.min(100, ((now - before) * 100) / (atMs - previous.atMs));
      rows.push([device.devid, Math.max(0, util).toFixed(2)]);
    }
    return rows;
  }

  async #diskName(path: string): Promise<string | undefined> {
    if (!this.#diskNames.has(path)) {
      this.#diskNames.set(path, await diskNameOf(path).catch(() => undefined));
    }
    return this.#diskNames.get(path);
  }
}
