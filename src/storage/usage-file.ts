import { mkdir, rename, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mountOf } from './block-devices.js';
import type { Device } from './device-registry.js';
import { TEMP_FOLDER } from './temp-files.js';

/** The fields of a device's `usage` file (spec/storage-node.md §4); sizes in KiB. */
export interface DeviceUsage {
  readonly available: number;
  readonly device: string;
  readonly disk: string;
  readonly time: number;
  readonly total: number;
  readonly use: string;
  readonly used: number;
}

/**
 * Measures a device like `df` does. `total` is used + available (reserved blocks left out
 * on purpose, §4), and `used` is at least 1: the tracker treats `used: 0` as a failed probe.
 */
export async function measureUsage(device: Device, nowMs = Date.now()): Promise<DeviceUsage> {
  const fs = await statfs(device.realPath, { bigint: true });
  const blockKiB = Number(fs.bsize) / 1024;
  const used = Math.max(1, Math.floor(Number(fs.blocks - fs.bfree) * blockKiB));
  const available = Math.floor(Number(fs.bavail) * blockKiB);
  const total = used + available;
  const mount = await mountOf(device.realPath);
  const endsInDevice = mount?.mountPoint.endsWith(`/${device.name}`) ?? false;
  return {
    available,
    device: mount?.source ?? 'unknown',
    disk: endsInDevice ? mount!.mountPoint : device.path,
    time: Math.floor(nowMs / 1000),
    total,
    use: `${Math.ceil((used * 100) / total)}%`,
    used,
  };
}

/** One `key: value` line per field, keys in alphabetical order, LF endings. */
export function formatUsage(usage: DeviceUsage): string {
  return (
    `available: ${usage.available}\n` +
    `device: ${usage.device}\n` +
    `disk: ${usage.disk}\n` +
    `time: ${usage.time}\n` +
    `total: ${usage.total}\n` +
    `use: ${usage.use}\n` +
    `used: ${usage.used}\n`
  );
}

/**
 * Rewrites `<device>/usage`. Unlike the reference (which rewrote it in place, padded), we
 * write a temp file and rename it, so a reader always sees one whole version.
 */
export async function writeUsageFile(device: Device, nowMs = Date.now()): Promise<DeviceUsage> {
  const usage = await measureUsage(device, nowMs);
  const tempFolder = join(device.realPath, TEMP_FOLDER);
  const tempPath = join(tempFolder, `usage-${process.pid}.tmp`);
  await mkdir(tempFolder, { recursive: true, mode: 0o755 });
  await writeFile(tempPath, formatUsage(usage), { mode: 0o644 });
  await rename(tempPath, join(device.realPath, 'usage'));
  return usage;
}
