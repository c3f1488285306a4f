import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const MAIN = resolve(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');
const START_TIMEOUT_MS = 15_000;

export interface SpawnTrackerOptions {
  /** Extra `mogile tracker` arguments, e.g. `['--idle-timeout', '0.2']`. */
  readonly args?: readonly string[];
  /** A database URL; default: a new SQLite file in a fresh temp directory. */
  readonly db?: string;
  readonly env?: NodeJS.ProcessEnv;
}

export interface SpawnedTracker {
  readonly port: number;
  /** The HTTP side's port (dashboard, /metrics, gateway); undefined with `--http-listen none`. */
  readonly httpPort: number | undefined;
  readonly pid: number;
  readonly child: ChildProcess;
  /** The temp directory this tracker owns (removed by stop()). */
  readonly dir: string;
  /** Everything the tracker wrote to stderr so far (its JSON log). */
  stderr(): string;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  readonly exited: Promise<number | string>;
  /** Sends `signal` (default SIGTERM) unless the process has ended; waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/**
 * Starts `node dist/cli/main.js tracker` on 127.0.0.1, port 0, and resolves once it has
 * printed its `listening on` line (no sleeps). Needs a build (`npm run build`).
 */
export async function spawnTracker(options: SpawnTrackerOptions = {}): Promise<SpawnedTracker> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first`);
  const dir = mkdtempSync(join(tmpdir(), 'mogile-tracker-'));
  const db = options.db ?? `sqlite:${join(dir, 'm.db')}`;
  const child = spawn(
    process.execPath,
    [
      // Extra node flags for profiling a bench run, e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`.
      ...(process.env['MOGILE_TRACKER_NODE_ARGS']?.split(' ').filter(Boolean) ?? []),
      MAIN,
      'tracker',
      '--skipconfig',
      '--listen',
      '127.0.0.1:0',
      '--db',
      db,
      // Port 0: tests run many trackers at once; a test's own --http-listen wins.
      '--http-listen',
      '127.0.0.1:0',
      ...(options.args ?? []),
    ],
    { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  const exited = new Promise<number | string>((done) => {
    child.once('exit', (code, signal) => done(code ?? signal ?? 'unknown'));
  });
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    const { port, httpPort } = await listeningPort(child, exited, () => stderr);
    return {
      port,
      httpPort,
      pid: child.pid!,
      child,
      dir,
      exited,
      stderr: () => stderr,
      async stop(signal = 'SIGTERM') {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        const result = await exited;
        cleanup();
        return result;
      },
    };
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    cleanup();
    throw error;
  }
}

function listeningPort(
  child: ChildProcess,
  exited: Promise<number | string>,
  stderr: () => string,
): Promise<{ port: number; httpPort: number | undefined }> {
  return new Promise((resolvePort, reject) => {
    let stdout = '';
    const timer = setTimeout(
      () => reject(new Error(`tracker did not start in time; stderr:\n${stderr()}`)),
      START_TIMEOUT_MS,
    );
    child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
      const match = /^listening on 127\.0\.0\.1:(\d+)$/m.exec(stdout);
      if (match) {
        clearTimeout(timer);
        // The HTTP line, when there is one, comes first.
        const http = /^listening on 127\.0\.0\.1:(\d+) \(http\)$/m.exec(stdout);
        resolvePort({ port: Number(match[1]), httpPort: http ? Number(http[1]) : undefined });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`tracker exited (${code}) before listening; stderr:\n${stderr()}`));
    });
  });
}
