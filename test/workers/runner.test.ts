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

/** A clock whose pauses end only when their signal aborts (a wake or the stop). */
function wakeOnlyClock() {
  let sleeping = 0;
  const clock: WorkerClock = {
    now: () => 0,
    sleep(_ms, signal) {
      if (signal.aborted) return Promise.resolve();
      sleeping += 1;
      return new Promise((resolve) => {
        signal.addEventListener(
          'abort',
          () => {
            sleeping -= 1;
            resolve();
          },
          { once: true },
        );
      });
    },
  };
  return { clock, sleeping: () => sleeping };
}

/** Lets the event loop turn until `condition` holds; fails instead of hanging. */
async function until(condition: () => boolean): Promise<void> {
  for (let turn = 0; turn < 10_000; turn++) {
    if (condition()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`never happened: ${condition}`);
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

  it('wakes one worker by name, and a wake during a pass ends the pause after it', async () => {
    const { clock, sleeping } = wakeOnlyClock();
    const passes = { a: 0, b: 0 };
    let finishPass: (() => void) | undefined;
    const counting = (name: 'a' | 'b') => ({
      async runOnce() {
        passes[name] += 1;
        if (name === 'a' && passes.a === 2) await new Promise<void>((r) => (finishPass = r));
        return { worked: 0 };
      },
    });
    const runner = new WorkerRunner({
      workers: [
        { name: 'a', worker: counting('a'), idleMs: 1000, busyMs: 0 },
        { name: 'b', worker: counting('b'), idleMs: 1000, busyMs: 0 },
      ],
      clock,
    });
    runner.start();
    await until(() => sleeping() === 2);
    expect(passes).toEqual({ a: 1, b: 1 });

    runner.wake('a');
    await until(() => finishPass !== undefined);
    // A wake while a's second pass runs: that pass may have looked before the new work.
    runner.wake('a');
    finishPass!();
    await until(() => passes.a === 3 && sleeping() === 2);
    expect(passes.b).toBe(1);

    runner.wake();
    await until(() => passes.a === 4 && passes.b === 2 && sleeping() === 2);
    await runner.stop();
  });
});
