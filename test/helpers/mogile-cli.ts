import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const MAIN = resolve(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node dist/cli/main.js <args>` against `trackers` and collects its output. */
export function runMogile(
  trackers: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<CliRun> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      env: { ...process.env, MOGILE_TRACKERS: trackers, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** Runs an admin command with `--json` and parses what it printed; throws on failure. */
export async function runJson<T = unknown>(trackers: string, args: readonly string[]): Promise<T> {
  const run = await runMogile(trackers, [...args, '--json']);
  if (run.code !== 0) throw new Error(`mogile ${args.join(' ')} -> ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}
