import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';

const MAIN = resolve(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');

let cluster: TestCluster;
let dir: string;

beforeAll(async () => {
  cluster = await startCluster({ nodes: 2, devicesPerNode: 1, classes: { one: 1 } });
  await cluster.ok('update_class domain=d&class=one&mindevcount=1&hashtype=MD5');
  dir = mkdtempSync(join(tmpdir(), 'mogile-cli-'));
});

afterAll(async () => {
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Runs `mogile <args> --trackers <cluster> --domain d` and collects its output. */
function mogile(args: string[], input?: Buffer, extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      env: {
        ...process.env,
        MOGILE_TRACKERS: cluster.trackerAddress,
        MOGILE_DOMAIN: cluster.domain,
        ...extraEnv,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout: Buffer.concat(out), stderr }));
    child.stdin.end(input);
  });
}

describe('mogile file commands', () => {
  it('take a file through its whole life', async () => {
    const file = join(dir, 'in.bin');
    const body = Buffer.from('cli bytes\n'.repeat(1000));
    writeFileSync(file, body);
    expect(await mogile(['put', 'cli/a', file, '--class', 'one'])).toMatchObject({
      code: 0,
      stderr: '',
    });

    const cat = await mogile(['cat', 'cli/a']);
    expect(cat.code).toBe(0);
    expect(cat.stdout.equals(body)).toBe(true);

    const out = join(dir, 'out.bin');
    expect((await mogile(['get', 'cli/a', out])).code).toBe(0);
    expect(readFileSync(out).equals(body)).toBe(true);

    const info = await mogile(['info', 'cli/a']);
    expect(info.stdout.toString()).toMatch(
      /^key: cli\/a\n.*class: one\n.*length: 10000\n.*checksum: MD5:[0-9a-f]{32}\n/s,
    );

    // A class without a hashtype: file_info leaves the checksum out, the CLI still shows it.
    expect((await mogile(['put', 'cli/plain', file])).code).toBe(0);
    expect((await mogile(['info', 'cli/plain'])).stdout.toString()).toMatch(
      /\nclass: default\n.*checksum: MD5:[0-9a-f]{32}\n/s,
    );
    expect((await mogile(['rm', 'cli/plain'])).code).toBe(0);

    const paths = (await mogile(['paths', 'cli/a'])).stdout.toString().trim().split('\n');
    expect(paths[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/dev\d+\//);

    expect((await mogile(['mv', 'cli/a', 'cli/b'])).code).toBe(0);
    expect((await mogile(['ls', 'cli/'])).stdout.toString()).toBe('cli/b\n');
    expect((await mogile(['rm', 'cli/b'])).code).toBe(0);
    expect((await mogile(['ls', 'cli/'])).stdout.toString()).toBe('');
  });

  it('streams stdin to stdout', async () => {
    const body = Buffer.alloc(300_000, 9);
    expect((await mogile(['put', 'cli/stdin', '-'], body)).code).toBe(0);
    const got = await mogile(['get', 'cli/stdin', '-']);
    expect(got.stdout.equals(body)).toBe(true);
  });

  it('report failures in one line with exit 1', async () => {
    const missing = await mogile(['cat', 'cli/none']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('mogile: unknown key "cli/none" in domain "d"\n');
    const domain = await mogile(['ls', '--domain', 'nope']);
    expect(domain.code).toBe(1);
    expect(domain.stderr).toContain('mogile: unknown domain "nope"\n');
    await mogile(['put', 'cli/x', '-'], Buffer.from('x'));
    await mogile(['put', 'cli/y', '-'], Buffer.from('y'));
    const exists = await mogile(['mv', 'cli/x', 'cli/y']);
    expect(exists.code).toBe(1);
    expect(exists.stderr).toContain('mogile: key "cli/y" already exists in domain "d"\n');
    const down = await mogile(['ls'], undefined, { MOGILE_TRACKERS: '127.0.0.1:1' });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^mogile: couldn't connect to any tracker/m);
  });

  it('exit 2 on usage errors', async () => {
    expect((await mogile(['put', 'only-key'])).code).toBe(2);
    expect((await mogile(['ls', '--trackers', 'no-port'])).code).toBe(2);
    expect((await mogile(['paths', 'k', '--pathcount', 'x'])).code).toBe(2);
  });

  it('a corrupt copy fails the download and leaves no partial file', async () => {
    await mogile(['put', 'cli/rot', '-', '--class', 'one'], Buffer.alloc(2_000_000, 5));
    const [path] = (await mogile(['paths', 'cli/rot'])).stdout.toString().trim().split('\n');
    const { pathname } = new URL(path!);
    const devid = Number(/^\/dev(\d+)\//.exec(pathname)![1]);
    const onDisk = join(cluster.deviceNode.get(devid)!.docroot, pathname);
    const bytes = readFileSync(onDisk);
    bytes[1_500_000] = 0;
    writeFileSync(onDisk, bytes);
    const out = join(dir, 'rot.bin');
    const got = await mogile(['get', 'cli/rot', out]);
    expect(got.code).toBe(1);
    expect(got.stderr).toMatch(/^mogile: .*expected MD5:/);
    expect(() => readFileSync(out)).toThrow();
  });
});
