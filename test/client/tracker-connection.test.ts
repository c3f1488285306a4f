import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectionEvent, RequestEvent } from '../../src/client/diagnostics.js';
import { MogileClientError } from '../../src/client/errors.js';
import { parseTrackerAddress } from '../../src/client/tracker-address.js';
import { TrackerConnection } from '../../src/client/tracker-connection.js';
import { TrackerPool } from '../../src/client/tracker-pool.js';
import { type FakeTracker, startFakeTracker } from './fake-tracker.js';

const fakes: FakeTracker[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.close()));
});

async function fake(handler: Parameters<typeof startFakeTracker>[0]): Promise<FakeTracker> {
  const started = await startFakeTracker(handler);
  fakes.push(started);
  return started;
}

async function open(tracker: FakeTracker): Promise<TrackerConnection> {
  return TrackerConnection.connect(parseTrackerAddress(tracker.address), {
    connectTimeoutMs: 2000,
  });
}

function rejection(promise: Promise<unknown>): Promise<MogileClientError> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => {
      expect(error).toBeInstanceOf(MogileClientError);
      return error as MogileClientError;
    },
  );
}

const echoKey = (req: {
  args: URLSearchParams;
  callid: string | undefined;
  reply(t: string): void;
}) => req.reply(`OK key=${req.args.get('key') ?? ''}&callid=${req.callid}\r\n`);

describe('TrackerConnection', () => {
  it('sends an encoded line with a fresh callid and returns the decoded pairs', async () => {
    const tracker = await fake((req) =>
      req.reply(`OK paths=1&path1=http://h:1/dev1/x.fid&note=a+b%26c&callid=${req.callid}\r\n`),
    );
    const connection = await open(tracker);
    const first = await connection.request(
      'get_paths',
      { domain: 'd', key: 'a b&c' },
      { timeoutMs: 2000 },
    );
    await connection.request('noop', {}, { timeoutMs: 2000 });
    expect(Object.fromEntries(first)).toEqual({
      paths: '1',
      path1: 'http://h:1/dev1/x.fid',
      note: 'a b&c',
    });
    expect(tracker.lines).toEqual(['get_paths domain=d&key=a+b%26c&callid=1', 'noop callid=2']);
    connection.destroy('test done');
  });

  it('turns ERR into a MogileClientError with the tracker code and keeps the connection', async () => {
    const tracker = await fake((req) =>
      req.command === 'noop'
        ? req.reply(`OK callid=${req.callid}\r\n`)
        : req.reply(`ERR unknown_key unknown_key ${req.callid}\r\n`),
    );
    const connection = await open(tracker);
    const error = await rejection(
      connection.request('get_paths', { key: 'x' }, { timeoutMs: 2000 }),
    );
    expect(error).toMatchObject({ code: 'unknown_key', fromTracker: true, command: 'get_paths' });
    expect(connection.destroyed).toBe(false);
    await connection.request('noop', {}, { timeoutMs: 2000 });
    expect(tracker.connections).toHaveLength(1);
    connection.destroy('test done');
  });

  it('decodes ERR text', async () => {
    const tracker = await fake((req) =>
      req.reply(
        `ERR key_exists Target+key+name+already+exists%3B+can%27t+overwrite. ${req.callid}\r\n`,
      ),
    );
    const connection = await open(tracker);
    const error = await rejection(connection.request('rename', {}, { timeoutMs: 2000 }));
    expect(error.code).toBe('key_exists');
    expect(error.message).toBe("Target key name already exists; can't overwrite.");
    connection.destroy('test done');
  });

  it.each([
    ['OK with another callid', (id: number) => `OK x=1&callid=${id + 1}\r\n`],
    ['OK without callid', () => 'OK x=1\r\n'],
    ['ERR with another callid', (id: number) => `ERR unknown_key unknown_key ${id + 7}\r\n`],
    ['ERR without callid', () => 'ERR unknown_key unknown_key\r\n'],
  ])(
    'a reply with a mismatched callid (%s) fails the request and destroys the connection',
    async (_name, reply) => {
      const tracker = await fake((req) => req.reply(reply(Number(req.callid))));
      const connection = await open(tracker);
      const error = await rejection(
        connection.request('get_paths', { key: 'a' }, { timeoutMs: 2000 }),
      );
      expect(error.code).toBe('ECALLID_MISMATCH');
      expect(connection.destroyed).toBe(true);
      const next = await rejection(connection.request('noop', {}, { timeoutMs: 2000 }));
      expect(next.code).toBe('ECONNECTION_STATE');
    },
  );

  it.each([
    ['an HTTP status line', 'HTTP/1.0 200 OK\r\n'],
    ['an empty line', '\r\n'],
    ['lower-case ok', 'ok callid=1\r\n'],
    ['two tokens after OK', 'OK a=1 b=2\r\n'],
  ])(
    'a garbled reply (%s) fails with EPROTOCOL and destroys the connection',
    async (_name, text) => {
      const tracker = await fake((req) => req.reply(text));
      const connection = await open(tracker);
      const error = await rejection(connection.request('noop', {}, { timeoutMs: 2000 }));
      expect(error.code).toBe('EPROTOCOL');
      expect(connection.destroyed).toBe(true);
    },
  );

  it('a reply split over several packets is reassembled', async () => {
    const tracker = await fake((req) => {
      const line = `OK key=split&callid=${req.callid}\r\n`;
      req.reply(line.slice(0, 4));
      setImmediate(() => req.reply(line.slice(4)));
    });
    const connection = await open(tracker);
    const reply = await connection.request('noop', {}, { timeoutMs: 2000 });
    expect(reply.get('key')).toBe('split');
    connection.destroy('test done');
  });

  it('a second line after the reply returns the reply but destroys the connection', async () => {
    const tracker = await fake((req) =>
      req.reply(`OK key=one&callid=${req.callid}\r\nOK key=stray\r\n`),
    );
    const connection = await open(tracker);
    const reply = await connection.request('noop', {}, { timeoutMs: 2000 });
    expect(reply.get('key')).toBe('one');
    expect(connection.destroyed).toBe(true);
  });

  it('a timeout destroys the connection', async () => {
    const tracker = await fake(() => {});
    const connection = await open(tracker);
    const error = await rejection(connection.request('get_paths', { key: 'a' }, { timeoutMs: 50 }));
    expect(error.code).toBe('ETRACKER_TIMEOUT');
    expect(error.message).toContain('[get_paths key=a&callid=1]');
    expect(connection.destroyed).toBe(true);
  });

  it('a partial line followed by silence still times out (the timeout covers the whole reply)', async () => {
    const tracker = await fake((req) => req.reply('OK paths=1&pa'));
    const connection = await open(tracker);
    const error = await rejection(connection.request('get_paths', {}, { timeoutMs: 50 }));
    expect(error.code).toBe('ETRACKER_TIMEOUT');
    expect(connection.destroyed).toBe(true);
  });

  it('the tracker closing mid-request fails with ETRACKER_SOCKET', async () => {
    const tracker = await fake((req) => req.socket.end());
    const connection = await open(tracker);
    const error = await rejection(connection.request('noop', {}, { timeoutMs: 2000 }));
    expect(error.code).toBe('ETRACKER_SOCKET');
    expect(connection.destroyed).toBe(true);
  });

  it('an abort destroys the connection; an abort before sending does not', async () => {
    const tracker = await fake(() => {});
    const connection = await open(tracker);
    const already = await rejection(
      connection.request('noop', {}, { timeoutMs: 2000, signal: AbortSignal.abort() }),
    );
    expect(already.code).toBe('EABORTED');
    expect(connection.destroyed).toBe(false);
    const controller = new AbortController();
    const pending = rejection(
      connection.request('noop', {}, { timeoutMs: 2000, signal: controller.signal }),
    );
    controller.abort();
    expect((await pending).code).toBe('EABORTED');
    expect(connection.destroyed).toBe(true);
  });

  it('refuses a second request while one is in flight', async () => {
    const tracker = await fake((req) => setImmediate(() => echoKey(req)));
    const connection = await open(tracker);
    const first = connection.request('noop', { key: '1' }, { timeoutMs: 2000 });
    const second = await rejection(connection.request('noop', { key: '2' }, { timeoutMs: 2000 }));
    expect(second.code).toBe('ECONNECTION_STATE');
    expect((await first).get('key')).toBe('1');
    connection.destroy('test done');
  });

  it('data nobody asked for destroys an idle connection', async () => {
    const tracker = await fake(echoKey);
    const connection = await open(tracker);
    await connection.request('noop', { key: 'a' }, { timeoutMs: 2000 });
    const closed = new Promise<void>((resolve) => {
      const onEvent = (message: unknown) => {
        if ((message as ConnectionEvent).event === 'destroy') {
          unsubscribe('mogile:client:connection', onEvent);
          resolve();
        }
      };
      subscribe('mogile:client:connection', onEvent);
    });
    tracker.connections[0]!.write('OK key=late\r\n');
    await closed;
    expect(connection.destroyReason).toBe('unsolicited data');
  });
});

describe('the desync guarantee (architecture.md §4.1)', () => {
  it('after a timeout the next request uses a new connection and gets its own reply', async () => {
    // The first request's reply is held back and written only once the second request
    // arrives: a client that kept the socket would read it as the second answer.
    let held: { reply(text: string): void; key: string; callid: string } | undefined;
    const tracker = await fake((req) => {
      const key = req.args.get('key') ?? '';
      if (key === 'A') {
        held = { reply: req.reply, key, callid: req.callid! };
        return;
      }
      held?.reply(`OK paths=1&path1=http://a/dev1/A.fid&callid=${held.callid}\r\n`);
      req.reply(`OK paths=1&path1=http://b/dev1/B.fid&callid=${req.callid}\r\n`);
    });
    const pool = new TrackerPool({
      trackers: [tracker.address],
      connectTimeoutMs: 2000,
      requestTimeoutMs: 2000,
      deadTrackerRetryMs: 5000,
      maxIdlePerTracker: 2,
      idleTimeoutMs: 60_000,
    });
    const error = await rejection(pool.request('get_paths', { key: 'A' }, { timeoutMs: 50 }));
    expect(error.code).toBe('ETRACKER_TIMEOUT');
    const reply = await pool.request('get_paths', { key: 'B' });
    expect(reply.get('path1')).toBe('http://b/dev1/B.fid');
    expect(tracker.connections).toHaveLength(2);
    pool.close();
  });
});

describe('diagnostics channels', () => {
  it('publishes request start/finish and connection connect/destroy', async () => {
    const tracker = await fake(echoKey);
    const requests: RequestEvent[] = [];
    const connections: ConnectionEvent[] = [];
    const onRequest = (message: unknown) => requests.push(message as RequestEvent);
    const onConnection = (message: unknown) => connections.push(message as ConnectionEvent);
    subscribe('mogile:client:request', onRequest);
    subscribe('mogile:client:connection', onConnection);
    try {
      const connection = await open(tracker);
      await connection.request('file_info', { key: 'k' }, { timeoutMs: 2000 });
      connection.destroy('test done');
    } finally {
      unsubscribe('mogile:client:request', onRequest);
      unsubscribe('mogile:client:connection', onConnection);
    }
    expect(requests.map((event) => event.event)).toEqual(['start', 'finish']);
    expect(requests[1]).toMatchObject({ command: 'file_info', tracker: tracker.address });
    expect(typeof requests[1]!.durationMs).toBe('number');
    expect(connections.map((event) => [event.event, event.reason])).toEqual([
      ['connect', undefined],
      ['destroy', 'test done'],
    ]);
  });
});
