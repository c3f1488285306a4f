import { type FileHandle, mkdir, open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Device } from './device-registry.js';

/**
 * Uploads are received into `<device>/.mogile-tmp/` and renamed into place once complete
 * and fsynced. One folder per device (instead of a temp file next to the target) keeps the
 * rename on the same filesystem and lets a restart remove every upload that a crash cut
 * short by emptying a single folder, without walking the tree. The dot keeps the folder
 * out of reach of GET and PUT (request-target.ts).
 */
export const TEMP_FOLDER = '.mogile-tmp';

let counter = 0;

export function tempFolderOf(device: Device): string {
  return join(device.realPath, TEMP_FOLDER);
}

/** Creates a fresh temp file (read-write, O_EXCL, mode 0644) on the device; the folder is made on demand. */
export async function createTempFile(device: Device): Promise<{ path: string; file: FileHandle }> {
  const folder = tempFolderOf(device);
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  const path = join(folder, `${process.pid}-${counter}-${Date.now().toString(36)}.tmp`);
  try {
    return { path, file: await open(path, 'wx+', 0o644) };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await mkdir(folder, { recursive: true, mode: 0o755 });
    return { path, file: await open(path, 'wx+', 0o644) };
  }
}

/** Removes what a previous run left in the device's temp folder; returns how many. */
export async function sweepTempFolder(device: Device): Promise<number> {
  const folder = tempFolderOf(device);
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    return 0;
  }
  await Promise.all(names.map((name) => rm(join(folder, name), { force: true, recursive: true })));
  return names.length;
}
