import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Resident memory of a process in KiB (VmRSS), for "memory stays bounded" checks. */
export function residentKib(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN);
}

/** Bytes held by in-flight uploads in a device's temp folder. */
export function tempBytes(deviceDir: string): number {
  try {
    const folder = join(deviceDir, '.mogile-tmp');
    return readdirSync(folder).reduce((sum, name) => sum + statSync(join(folder, name)).size, 0);
  } catch {
    return 0;
  }
}

export const unique = (name: string) =>
  `${name}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
