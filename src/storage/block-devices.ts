import { readFile, readlink, stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';

/** Linux's encoding of st_dev into major and minor numbers. */
export function splitDeviceNumber(dev: bigint): { major: number; minor: number } {
  const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
  const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
  return { major, minor };
}

export interface MountEntry {
  readonly majorMinor: string;
  readonly mountPoint: string;
  readonly source: string;
}

/** Parses /proc/self/mountinfo (fields: id parent maj:min root mountpoint ... - fstype source). */
export function parseMountInfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (fields.length < 5 || dash < 0) continue;
    entries.push({
      majorMinor: fields[2]!,
      mountPoint: unescapeMountField(fields[4]!),
      source: unescapeMountField(fields[dash + 2] ?? 'none'),
    });
  }
  return entries;
}

function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) =>
    String.fromCharCode(parseInt(octal, 8)),
  );
}

/** The mount holding `path` (same st_dev, longest mount point prefix), if it can be found. */
export async function mountOf(path: string): Promise<MountEntry | undefined> {
  let text: string;
  try {
    text = await readFile('/proc/self/mountinfo', 'utf8');
  } catch {
    return undefined;
  }
  const { major, minor } = splitDeviceNumber((await stat(path, { bigint: true })).dev);
  const key = `${major}:${minor}`;
  let best: MountEntry | undefined;
  for (const entry of parseMountInfo(text)) {
    if (entry.majorMinor !== key) continue;
    const prefix = entry.mountPoint === '/' ? '/' : `${entry.mountPoint}/`;
    if (path !== entry.mountPoint && !path.startsWith(prefix)) continue;
    if (!best || entry.mountPoint.length > best.mountPoint.length) best = entry;
  }
  return best;
}

/**
 * The whole-disk block device name (as in /proc/diskstats) behind `path`, mapping a
 * partition to its disk via sysfs (spec/storage-node.md §5.4). Undefined for filesystems
 * without a block device (tmpfs, overlay).
 */
export async function diskNameOf(path: string): Promise<string | undefined> {
  const { major, minor } = splitDeviceNumber((await stat(path, { bigint: true })).dev);
  if (major === 0) return undefined;
  const sysPath = `/sys/dev/block/${major}:${minor}`;
  try {
    const target = resolve('/sys/dev/block', await readlink(sysPath));
    const isPartition = await stat(`${sysPath}/partition`).then(
      () => true,
      () => false,
    );
    return basename(isPartition ? dirname(target) : target);
  } catch {
    return undefined;
  }
}
