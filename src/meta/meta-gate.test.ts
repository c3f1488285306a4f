import { describe, expect, it } from 'vitest';
import { classifyDbError, MetaBusyError, MetaConnectionError, MetaGate } from './meta-gate.js';

/** A call that stays running until `finish()`. */
function held() {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  return { call: () => done, finish };
}

const request = (signal?: AbortSignal) => ({
  deadlineMs: performance.now() + 10_000,
  ...(signal && { signal }),
});

describe('MetaGate', () => {
  it('lets a waiting call in when a slot frees', async () => {
    const gate = new MetaGate({ size: 1, queueLimit: 4, queueTimeoutMs: 1000 });
    const first = held();
    const running = gate.run(first.call, request());
    const second = gate.run(async () => 'second', request());
    expect(gate.waiting).toBe(1);
    first.finish();
    await running;
    await expect(second).resolves.toBe('second');
    expect(gate.inUse).toBe(0);
  });

  it('never starts a call abandoned while it waited for a slot', async () => {
    const gate = new MetaGate({ size: 1, queueLimit: 4, queueTimeoutMs: 1000 });
    const first = held();
    const running = gate.run(first.call, request());
    const controller = new AbortController();
    let started = false;
    const call = gate.run(async () => {
      started = true;
    }, request(controller.signal));
    expect(gate.waiting).toBe(1);
    controller.abort(new Error('deadline'));
    await expect(call).rejects.toThrow('deadline');
    expect(gate.waiting).toBe(0);
    first.finish();
    await running;
    expect(started).toBe(false);
    expect(gate.inUse).toBe(0);
    // Already abandoned: refused before it takes a slot.
    await expect(gate.run(async () => 'never', request(controller.signal))).rejects.toThrow(
      'deadline',
    );
    expect(gate.inUse).toBe(0);
  });

  it('refuses at once past the queue limit, and after the wait bound', async () => {
    const gate = new MetaGate({ size: 1, queueLimit: 1, queueTimeoutMs: 50 });
    const first = held();
    const running = gate.run(first.call, request());
    const waiting = gate.run(async () => 'late', request());
    await expect(gate.run(async () => 'x', request())).rejects.toMatchObject({
      reason: 'queue_full',
    });
    await expect(waiting).rejects.toBeInstanceOf(MetaBusyError);
    first.finish();
    await running;
  });

  /** A request scope abandoned through its signal, or through its `abandoned` promise. */
  const abandonable = {
    signal() {
      const controller = new AbortController();
      return { scope: request(controller.signal), abandon: (e: Error) => controller.abort(e) };
    },
    promise() {
      let abandon!: (reason: unknown) => void;
      const abandoned = new Promise<never>((_, reject) => {
        abandon = reject;
      });
      return { scope: { deadlineMs: performance.now() + 10_000, abandoned }, abandon };
    },
  };

  it.each(Object.keys(abandonable) as (keyof typeof abandonable)[])(
    'stops awaiting a call abandoned (by its %s) but keeps its slot until it really ends',
    async (by) => {
      const gate = new MetaGate({ size: 1, queueLimit: 4, queueTimeoutMs: 1000 });
      const first = held();
      const { scope, abandon } = abandonable[by]();
      const call = gate.run(first.call, scope);
      await new Promise((resolve) => setImmediate(resolve)); // the statement is running
      abandon(new Error('deadline'));
      await expect(call).rejects.toThrow('deadline');
      expect(gate.inUse).toBe(1);
      first.finish();
      await new Promise((resolve) => setImmediate(resolve));
      expect(gate.inUse).toBe(0);
    },
  );

  it('with abandonRunning off, awaits a running call to its end', async () => {
    const gate = new MetaGate({
      size: 1,
      queueLimit: 4,
      queueTimeoutMs: 1000,
      abandonRunning: false,
    });
    const first = held();
    const controller = new AbortController();
    let settled = false;
    const running = gate.run(first.call, request(controller.signal)).then(() => {
      settled = true;
    });
    controller.abort(new Error('deadline'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    first.finish();
    await running;
    expect(gate.inUse).toBe(0);
    await expect(gate.run(async () => 'next', request(controller.signal))).rejects.toThrow(
      'deadline',
    );
  });

  it('releases the slot of a call that throws before returning a promise', async () => {
    const gate = new MetaGate({ size: 1, queueLimit: 4, queueTimeoutMs: 1000 });
    await expect(
      gate.run(() => {
        throw new Error('sync failure');
      }, request()),
    ).rejects.toThrow('sync failure');
    expect(gate.inUse).toBe(0);
  });

  it('keeps slots free for requests when background calls pile up', async () => {
    const gate = new MetaGate({ size: 2, queueLimit: 4, queueTimeoutMs: 1000 });
    const background = held();
    const first = gate.run(background.call);
    const second = gate.run(async () => 'background');
    expect(gate.waiting).toBe(1); // one background slot of two
    await expect(gate.run(async () => 'request', request())).resolves.toBe('request');
    background.finish();
    await first;
    await expect(second).resolves.toBe('background');
  });
});

describe('classifyDbError', () => {
  it('tells refusals from lost connections', () => {
    expect(classifyDbError({ code: '53300', message: 'too many connections' })).toBeInstanceOf(
      MetaBusyError,
    );
    expect(classifyDbError({ errno: 1040, message: 'Too many connections' })).toBeInstanceOf(
      MetaBusyError,
    );
    expect(classifyDbError(new Error('Connection terminated unexpectedly'))).toBeInstanceOf(
      MetaConnectionError,
    );
    const other = new Error('syntax error');
    expect(classifyDbError(other)).toBe(other);
  });
});
