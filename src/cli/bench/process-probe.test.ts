import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { memoryMB, ProcessWatch, processTree, treeCpuSeconds } from './process-probe.js';

/**
 * A parent that forks two children holding 64 MiB each, like a tracker forking its
 * workers, and prints their pids once both hold it.
 */
const PARENT = `
const { fork } = require('node:child_process');
if (process.argv[2] === 'child') {
  globalThis.held = Buffer.alloc(64 * 1024 * 1024, 1);
  process.send('ready');
  setInterval(() => {}, 1000);
} else {
  const children = [fork(__filename, ['child']), fork(__filename, ['child'])];
  let ready = 0;
  for (const child of children) child.on('message', () => {
    if (++ready === children.length) console.log(children.map((c) => c.pid).join(' '));
  });
  process.on('SIGTERM', () => { for (const child of children) child.kill(); process.exit(0); });
}`;

let dir: string;
let script: string;
let parent: ChildProcess | undefined;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mogile-process-tree-'));
  script = join(dir, 'parent.cjs');
  writeFileSync(script, PARENT);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

afterEach(async () => {
  if (parent && parent.exitCode === null) {
    const exited = once(parent, 'exit');
    parent.kill('SIGTERM');
    await exited;
  }
  parent = undefined;
});

async function startParent(): Promise<{ pid: number; children: number[] }> {
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  parent = child;
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the parent exited with ${code}`)));
  });
  return { pid: child.pid!, children: line.split(' ').map(Number) };
}

describe('process trees', () => {
  it('finds a process and the processes it started', async () => {
    const { pid, children } = await startParent();
    expect(processTree(pid).sort()).toEqual([pid, ...children].sort());
    expect(processTree(children[0]!)).toEqual([children[0]]);
    expect(treeCpuSeconds(pid)).toBeGreaterThan(0);
  });

  it('reports a tree as one process: RSS summed, children counted', async () => {
    const { pid, children } = await startParent();
    const watch = new ProcessWatch([{ role: 'tracker', pid }]);
    const [peak] = watch.finish();
    const childrenMB = children.reduce((sum, child) => sum + memoryMB(child).rssMB, 0);
    expect(peak!.processCount).toBe(3);
    // Each child holds 64 MiB; the parent's own RSS comes on top.
    expect(childrenMB).toBeGreaterThan(2 * 64);
    expect(peak!.peakRssMB).toBeGreaterThan(childrenMB);
  });
});
