import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

/** The repository (or installed package) root: this file sits in {src,dist}/cli/bench/. */
export const PACKAGE_ROOT = resolve(import.meta.dirname, '..', '..', '..');
const MAIN = join(PACKAGE_ROOT, 'dist', 'cli', 'main.js');
const START_TIMEOUT_MS = 20_000;

/** A child process the bench started; only its own PID is ever signalled. */
export interface BenchProcess {
  readonly role: string;
  readonly pid: number;
  /** `host:port` of each `listening on host:port (label)` line, by label (`` for none). */
  readonly addresses: ReadonlyMap<string, string>;
  stderr(): string;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  readonly role: string;
  /** Arguments after `node`, e.g. `[MAIN, 'tracker', …]`. */
  readonly args: readonly string[];
  /** The labels of the `listening on` lines to wait for (`` is a line with no label). */
  readonly waitFor: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Spawns `node …args` and resolves once it has printed a `listening on` line for every
 * label in `waitFor`; never sleeps.
 */
export async function spawnListening(options: SpawnOptions): Promise<BenchProcess> {
  const child = spawn(process.execPath, options.args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MOGILE_LOG_LEVEL: 'warn', ...options.env },
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    // Keep the tail only: a long bench run must not grow this without bound.
    stderr = (stderr + text).slice(-20_000);
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const addresses = new Map<string, string>();
  try {
    await waitForLines(child, options, addresses, exited, () => stderr);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw error;
  }
  return {
    role: options.role,
    pid: child.pid!,
    addresses,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

function waitForLines(
  child: ChildProcess,
  options: SpawnOptions,
  addresses: Map<string, string>,
  exited: Promise<void>,
  stderr: () => string,
): Promise<void> {
  return new Promise((ready, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`${options.role} did not start in time: ${stderr()}`)),
      START_TIMEOUT_MS,
    );
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const match = /^listening on (\S+?)(?: \((.+)\))?$/.exec(line);
      if (!match) return;
      addresses.set(match[2] ?? '', match[1]!);
      if (options.waitFor.every((label) => addresses.has(label))) {
        clearTimeout(timer);
        ready();
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      fail(new Error(`${options.role} exited before listening: ${stderr()}`));
    });
  });
}

/** `node dist/cli/main.js <args>`; needs a build. */
export function mainArgs(args: readonly string[], nodeFlags: readonly string[] = []): string[] {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first`);
  return [...nodeFlags, MAIN, ...args];
}
