import { afterEach, describe, expect, it } from 'vitest';
import { MogileClientError } from '../../src/client/errors.js';
import { TrackerPool, type TrackerPoolOptions } from '../../src/client/tracker-pool.js';
import {
  closedPort,
  type FakeHandler,
  type FakeTracker,
  startFakeTracker,
} from './fake-tracker.js';

const fakes: FakeTracker[] = [];
const pools: TrackerPool[] = [];
afterEach(async () => {
  for (const pool of pools.splice(0)) pool.close();
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

async function fake(handler: FakeHandler): Promise<FakeTracker> {
  const started = await startFakeTracker(handler);
  fakes.push(started);
  return started;
}

function pool(trackers: string[], options: Partial<TrackerPoolOptions> = {}): TrackerPool {
  const created = new TrackerPool({
    trackers,
    connectTimeoutMs: 2000,
    requestTimeoutMs: 2000,
    deadTrackerRetryMs: 60_000,
    maxIdlePerTracker: 2,
    idleTimeoutMs: 60_000,
    shuffleTrackers: false,
    ...options,
  });
  pools.push(created);
  return created;
}

const ok: FakeHandler = (req) => req.reply(`OK served=yes&callid=${req.callid}\r\n`);
const garble: FakeHandler = (req) => req.reply('garbage\r\n');

async function failure(promise: Promise<unknown>): Promise<MogileClientError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(MogileClientError);
    return error as MogileClientError;
  }
  throw new Error('expected a rejection');
}

describe('TrackerPool', () => {
  it('reuses an idle connection for the next request', async () => {
    const tracker = await fake(ok);
    const trackers = pool([tracker.address]);
    await trackers.request('noop', {});
    await trackers.request('get_domains', {});
    expect(tracker.connections).toHaveLength(1);
    expect(tracker.lines).toEqual(['noop callid=1', 'get_domains callid=2']);
  });

  it('keeps the connection after a tracker ERR', async () => {
    const tracker = await fake((req) =>
      req.command === 'delete'
        ? req.reply(`ERR unknown_key unknown_key ${req.callid}\r\n`)
        : ok(req),
    );
    const trackers = pool([tracker.address]);
    expect((await failure(trackers.request('delete', { key: 'x' }))).code).toBe('unknown_key');
    await trackers.request('noop', {});
    expect(tracker.connections).toHaveLength(1);
  });

  it('skips a tracker that refuses connections and remembers it is down', async () => {
    const down = await closedPort();
    const up = await fake(ok);
    const trackers = pool([down, up.address]);
    expect((await trackers.request('create_open', {})).get('served')).toBe('yes');
    expect((await trackers.request('noop', {})).get('served')).toBe('yes');
    expect(up.lines).toHaveLength(2);
  });

  it('resends an idempotent command to the next tracker after a connection-level failure', async () => {
    const broken = await fake(garble);
    const good = await fake(ok);
    const trackers = pool([broken.address, good.address]);
    expect((await trackers.request('get_paths', { key: 'k' })).get('served')).toBe('yes');
    expect(broken.lines).toHaveLength(1);
    expect(good.lines).toHaveLength(1);
  });

  it('never resends a mutating command that may have run', async () => {
    const broken = await fake(garble);
    const good = await fake(ok);
    const trackers = pool([broken.address, good.address]);
    const error = await failure(trackers.request('create_open', { key: 'k' }));
    expect(error.code).toBe('EPROTOCOL');
    expect(good.lines).toHaveLength(0);
  });

  it('treats a timeout like any connection failure: idempotent commands move on', async () => {
    const silent = await fake(() => {});
    const good = await fake(ok);
    const trackers = pool([silent.address, good.address], { requestTimeoutMs: 50 });
    expect((await trackers.request('file_info', {})).get('served')).toBe('yes');
    const fresh = pool([silent.address, good.address], { requestTimeoutMs: 50 });
    const error = await failure(fresh.request('delete', {}));
    expect(error.code).toBe('ETRACKER_TIMEOUT');
    expect(good.lines.filter((line) => line.startsWith('delete'))).toEqual([]);
  });

  it('fails with ENO_TRACKER when no tracker can be reached', async () => {
    const trackers = pool([await closedPort(), await closedPort()]);
    const error = await failure(trackers.request('noop', {}));
    expect(error.code).toBe('ENO_TRACKER');
    expect(error.message).toContain("couldn't connect to any tracker");
  });

  it('rejects a malformed tracker list in the constructor, naming the option', () => {
    expect(() => pool([])).toThrow(/trackers/);
    expect(() => pool(['localhost'])).toThrow(/trackers: expected host:port/);
    expect(() => pool(['h:99999'])).toThrow(MogileClientError);
  });
});
