import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A static file the dashboard needs, by its URL path. */
interface Asset {
  readonly file: string;
  readonly type: string;
}

const DASHBOARD_DIR = fileURLToPath(new URL('./dashboard/', import.meta.url));
// uPlot ships prebuilt browser files; they are served as installed, no build step.
const UPLOT_DIR = dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'));

const ASSETS: Readonly<Record<string, Asset>> = {
  '/': { file: join(DASHBOARD_DIR, 'index.html'), type: 'text/html; charset=utf-8' },
  '/dashboard.js': {
    file: join(DASHBOARD_DIR, 'dashboard.js'),
    type: 'text/javascript; charset=utf-8',
  },
  '/dashboard.css': { file: join(DASHBOARD_DIR, 'dashboard.css'), type: 'text/css; charset=utf-8' },
  '/vendor/uPlot.iife.min.js': {
    file: join(UPLOT_DIR, 'uPlot.iife.min.js'),
    type: 'text/javascript; charset=utf-8',
  },
  '/vendor/uPlot.min.css': {
    file: join(UPLOT_DIR, 'uPlot.min.css'),
    type: 'text/css; charset=utf-8',
  },
};

export const DASHBOARD_PATHS: readonly string[] = Object.keys(ASSETS);

/** Loads each asset once; the files do not change while the tracker runs. */
export class DashboardAssets {
  readonly #cache = new Map<string, Promise<Buffer>>();

  async load(path: string): Promise<{ body: Buffer; type: string } | undefined> {
    const asset = ASSETS[path];
    if (!asset) return undefined;
    let body = this.#cache.get(path);
    if (!body) {
      body = readFile(asset.file);
      this.#cache.set(path, body);
      body.catch(() => this.#cache.delete(path));
    }
    return { body: await body, type: asset.type };
  }
}
