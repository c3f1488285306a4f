import { describe, expect, it } from 'vitest';
import { RequestDeadline } from './request-deadline.js';

describe('RequestDeadline', () => {
  it('is abandoned at its deadline, whether its signal was made before or after', () => {
    const connection = new AbortController();
    const early = new RequestDeadline(1, connection.signal);
    const late = new RequestDeadline(1, connection.signal);
    const earlySignal = early.signal;
    expect(early.aborted || late.aborted || earlySignal.aborted).toBe(false);
    const reason = new Error('deadline passed');
    early.expire(reason);
    late.expire(reason);
    expect(early.aborted && late.aborted).toBe(true);
    expect(earlySignal.reason).toBe(reason);
    expect(late.signal.reason).toBe(reason);
    expect(connection.signal.aborted).toBe(false);
  });

  it('is abandoned when the client goes away, until it is disposed of', () => {
    const connection = new AbortController();
    const listening = new RequestDeadline(1, connection.signal);
    const signal = listening.signal;
    const lazy = new RequestDeadline(1, connection.signal);
    const disposed = new RequestDeadline(1, connection.signal);
    const disposedSignal = disposed.signal;
    disposed.dispose();
    const gone = new Error('client connection closed');
    connection.abort(gone);
    expect(signal.reason).toBe(gone);
    expect(lazy.aborted).toBe(true);
    expect(lazy.signal.reason).toBe(gone);
    expect(disposedSignal.aborted).toBe(false);
  });

  it('rejects `abandoned` at its deadline, or at once when the client had already left', async () => {
    const connection = new AbortController();
    const deadline = new RequestDeadline(1, connection.signal);
    const abandoned = deadline.abandoned;
    const reason = new Error('deadline passed');
    deadline.expire(reason);
    await expect(abandoned).rejects.toBe(reason);
    const pending = new RequestDeadline(1, connection.signal).abandoned;
    expect(await Promise.race([pending, Promise.resolve('pending')])).toBe('pending');
    const gone = new Error('client connection closed');
    connection.abort(gone);
    await expect(new RequestDeadline(1, connection.signal).abandoned).rejects.toBe(gone);
  });
});
