import { describe, expect, it } from 'vitest';
import { type WorkerClock, WorkerRunner } from '../../src/workers/runner.js';

/** A clock whose pauses last until the test (or an abort) ends them. */
function manualClock() {
  const pauses: { ms: number; resume: () => void }[] = [];
  const clock: WorkerClock = {
    now: () => 0,
    sleep(ms, signal) {
      return new Promise((resolve) => {
        pauses.push({ ms, resume: () => resolve() });
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
    },
  };
  return { clock, pauses };
}

describe('WorkerRunner', () => {
  it('waits for the start signal, pauses by outcome, and lets a pass finish on stop', async () => {
    const { clock, pauses } = manualClock();
    let release!: () => void;
    const startAfter = new Promise<void>((resolve) => {
      release = resolve;
    });
    const results = [{ worked: 2 }, { worked: 0 }];
    let passes = 0;
    let finishPass: (() => void) | undefined;
    const worker = {
      async runOnce() {
        passes += 1;
        if (passes === 3) await new Promise<void>((resolve) => (finishPass = resolve));
        return results[passes - 1] ?? { worked: 0 };
      },
    };
    const runner = new WorkerRunner({
      workers: [{ name: 'w', worker, idleMs: 1000, busyMs: 0 }],
      startAfter,
      clock,
    });
    runner.start();
    await new Promise((resolve) => setImmediate(resolve));
    expect(passes).toBe(0);
    release();
    // Busy pass → again at once; idle pass → a 1000 ms pause.
    while (pauses.length === 0) await new Promise((resolve) => setImmediate(resolve));
    expect(passes).toBe(2);
    expect(pauses[0]!.ms).toBe(1000);
    pauses[0]!.resume();
    while (finishPass === undefined) await new Promise((resolve) => setImmediate(resolve));
    let stopped = false;
    const stopping = runner.stop().then(() => {
      stopped = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    finishPass();
    await stopping;
    expect(passes).toBe(3);
  });
});
