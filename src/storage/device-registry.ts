import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** One `devN` folder under the docroot (spec/storage-node.md §2). */
export interface Device {
  readonly devid: number;
  readonly name: string;
  /** `<docroot>/devN` as configured (may be a symlink to a mount point). */
  readonly path: string;
  /** The resolved folder: every file of this device must live below it. */
  readonly realPath: string;
}

const DEVICE_NAME = /^dev(\d+)$/;

/**
 * Keeps the set of devices: every `devN` directory under the docroot, whether or not a
 * tracker knows it. Rescanned by the usage writer every 10 s and on a cache miss.
 */
export class DeviceRegistry {
  readonly #docroot: string;
  #devices = new Map<string, Device>();
  #scanning: Promise<void> | null = null;

  constructor(docroot: string) {
    this.#docroot = docroot;
  }

  get docroot(): string {
    return this.#docroot;
  }

  /** Devices in ascending devid order. */
  list(): Device[] {
    return [...this.#devices.values()].sort((a, b) => a.devid - b.devid);
  }

  /** A device folder created after start-up is found on first use (one realpath call). */
  async lookup(name: string): Promise<Device | undefined> {
    const known = this.#devices.get(name);
    const match = DEVICE_NAME.exec(name);
    if (known || !match) return known;
    const path = join(this.#docroot, name);
    try {
      const realPath = await realpath(path);
      if (!(await stat(realPath)).isDirectory()) return undefined;
      const device = { devid: Number(match[1]), name, path, realPath };
      this.#devices.set(name, device);
      return device;
    } catch {
      return undefined;
    }
  }

  scan(): Promise<void> {
    this.#scanning ??= this.#scan().finally(() => {
      this.#scanning = null;
    });
    return this.#scanning;
  }

  async #scan(): Promise<void> {
    const found = new Map<string, Device>();
    for (const entry of await readdir(this.#docroot, { withFileTypes: true })) {
      const match = DEVICE_NAME.exec(entry.name);
      if (!match || !(entry.isDirectory() || entry.isSymbolicLink())) continue;
      const path = join(this.#docroot, entry.name);
      try {
        const realPath = await realpath(path);
        found.set(entry.name, { devid: Number(match[1]), name: entry.name, path, realPath });
      } catch {
        // A dangling symlink or a device that vanished during the scan is not a device.
      }
    }
    this.#devices = found;
  }
}
