import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MogileClient } from '../../src/client/index.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';

/**
 * Random and mutated protocol lines to a running tracker, random and mutated HTTP requests
 * to a running node, over real sockets. CI sends FUZZ_COUNT of each (5,000);
 * `npm run test:long` (MOGILE_LONG=1) sends 100,000. No crash, no hang (every connection
 * ends within its deadline), and a normal client works afterwards.
 */
const COUNT = Number(
  process.env['MOGILE_FUZZ_COUNT'] ?? (process.env['MOGILE_LONG'] ? 100_000 : 5_000),
);
const SEED = Number(process.env['MOGILE_FUZZ_SEED'] ?? Date.now() % 1_000_000);
const PER_CONNECTION = 100;
const PARALLEL = 16;
const CONNECTION_DEADLINE_MS = 15_000;

/** mulberry32: a small seeded generator, so a failing run can be replayed by its seed. */
function generator(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]) => items[int(items.length)]!;
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  return { next, int, pick, bytes };
}
type Random = ReturnType<typeof generator>;

/** Flips, inserts, deletes and duplicates bytes of a valid message. */
function mutate(random: Random, text: string): Buffer {
  const buffer = [...Buffer.from(text, 'latin1')];
  for (let i = random.int(6); i >= 0; i--) {
    const at = random.int(buffer.length + 1);
    switch (random.int(5)) {
      case 0:
        buffer[at] = random.int(256);
        break;
      case 1:
        buffer.splice(at, 0, ...random.bytes(random.int(8)));
        break;
      case 2:
        buffer.splice(at, random.int(10));
        break;
      case 3:
        buffer.splice(at, 0, ...buffer.slice(0, random.int(40)));
        break;
      default:
        buffer.splice(
          at,
          0,
          ...Buffer.from(random.pick(['%', '%0', '&', '=', '\r', '\n', '\0', '%FF', '..'])),
        );
    }
  }
  return Buffer.from(buffer);
}

const TRACKER_LINES = [
  'get_paths domain=d&key=fuzz&noverify=1',
  'file_info domain=d&key=fuzz&devices=1',
  'create_open domain=d&class=one&key=fuzz-new&multi_dest=1',
  'create_close domain=d&fid=1&devid=1&path=http://127.0.0.1:1/dev1/0/000/000/0000000001.fid&key=k',
  'list_keys domain=d&prefix=f&limit=5',
  'list_fids from=0&to=10',
  'get_domains',
  'get_devices',
  'file_debug fid=1',
  'rename domain=d&from_key=nope&to_key=nope2',
  'delete domain=d&key=does-not-exist',
  'updateclass domain=d&key=fuzz&class=one',
  'noop callid=1',
  '!stats',
  '!recent',
];

function trackerLine(random: Random): Buffer {
  const base = random.pick(TRACKER_LINES);
  const line = random.next() < 0.15 ? random.bytes(random.int(200)) : mutate(random, base);
  let text = line.toString('latin1').replace(/\r?\n/g, ' ');
  // Commands that stop the tracker or wait on purpose are not what this fuzzes.
  if (/^\s*(!\s*shutdown|!\s*want|!\s*to\b|sleep)/i.test(text)) text = `x${text}`;
  return Buffer.from(`${text}\r\n`, 'latin1');
}

const HTTP_REQUESTS = [
  'GET /dev1/usage HTTP/1.0\r\n\r\n',
  'HEAD /dev1/0/000/000/0000000001.fid HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
  'GET /dev1/0/000/000/0000000001.fid HTTP/1.1\r\nRange: bytes=0-3\r\nConnection: close\r\n\r\n',
  'PUT /dev1/9/000/000/0000000002.fid HTTP/1.0\r\nContent-length: 5\r\n\r\nhello',
  'PUT /dev1/9/000/000/0000000003.fid HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  'PUT /dev1/9/000/000/0000000004.fid HTTP/1.1\r\nContent-Range: bytes 2-4/*\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc',
  'DELETE /dev1/9/000/000/0000000002.fid HTTP/1.0\r\n\r\n',
  'MKCOL /dev1/9/ HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
  'MOVE /dev1/9/000/000/0000000003.fid HTTP/1.1\r\nDestination: http://x/dev1/9/m.fid\r\nConnection: close\r\n\r\n',
  'GET /../../etc/passwd HTTP/1.0\r\n\r\n',
];

function httpRequest(random: Random): Buffer {
  if (random.next() < 0.1) return random.bytes(random.int(300));
  return mutate(random, random.pick(HTTP_REQUESTS));
}

const END_MARK = 'callid=fuzz-end';

/**
 * Sends one batch on its own connection and half-closes. With `until`, waits for that text
 * in the replies (proof that everything before it was processed); otherwise for the close.
 */
function exchange(
  port: number,
  payload: Buffer,
  until?: string,
): Promise<'answered' | 'closed' | 'hung'> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const finish = (outcome: 'answered' | 'closed' | 'hung') => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish('hung'), CONNECTION_DEADLINE_MS);
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      if (until === undefined) return;
      received = (received + chunk.toString('latin1')).slice(-200);
      if (received.includes(until)) finish('answered');
    });
    socket.on('close', () => finish('closed'));
    socket.on('connect', () => socket.end(payload));
  });
}

async function fuzz(
  port: number,
  batches: Buffer[],
  until?: string,
): Promise<{ hung: number; answered: number }> {
  let hung = 0;
  let answered = 0;
  let next = 0;
  const lane = async () => {
    while (next < batches.length) {
      const outcome = await exchange(port, batches[next++]!, until);
      if (outcome === 'hung') hung += 1;
      if (outcome === 'answered') answered += 1;
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, lane));
  return { hung, answered };
}

describe(`socket fuzzing (${COUNT} of each, seed ${SEED})`, () => {
  let cluster: TestCluster;
  let client: MogileClient;

  beforeAll(async () => {
    cluster = await startCluster({
      nodes: 1,
      devicesPerNode: 1,
      classes: { one: 1 },
      nodeArgs: ['--headers-timeout', '2000', '--idle-timeout', '2000'],
      // A batch is 101 pipelined lines run one at a time, so on a loaded machine its last
      // lines can wait in line past the usual deadlines; the tracker then (rightly) closes
      // the connection rather than send a stale reply, and the batch ends unanswered.
      // This test is about surviving bad input, so waiting in line must not end a batch.
      tracker: { args: ['--request-timeout', '60', '--stale-reply-after', '60'] },
    });
    client = new MogileClient({ trackers: [cluster.trackerAddress], domain: 'd' });
    await client.store('fuzz', Buffer.from('fuzz target'), { class: 'one' });
  }, 60_000);
  afterAll(async () => {
    await client?.close();
    await cluster?.stop();
  });

  it('a tracker survives random and mutated protocol lines', async () => {
    const random = generator(SEED);
    // Each batch ends with a noop whose reply proves every line before it was handled.
    const batches = Array.from({ length: Math.ceil(COUNT / PER_CONNECTION) }, () =>
      Buffer.concat([
        ...Array.from({ length: PER_CONNECTION }, () => trackerLine(random)),
        Buffer.from(`noop ${END_MARK}\r\n`),
      ]),
    );
    const { hung, answered } = await fuzz(cluster.tracker.port, batches, END_MARK);
    expect(hung).toBe(0);
    // A batch may legitimately end early (a mutated `!watch` turns the connection into a
    // log stream), but nearly every batch must be answered to the end.
    expect(answered).toBeGreaterThanOrEqual(Math.floor(batches.length * 0.95));
    expect(cluster.tracker.child.exitCode).toBeNull();
    expect((await client.get('fuzz')).toString()).toBe('fuzz target');
  }, 600_000);

  it('a storage node survives random and mutated HTTP requests', async () => {
    const random = generator(SEED + 1);
    // Several requests per connection exercise keep-alive and pipelining too.
    const batches = Array.from({ length: Math.ceil(COUNT / 5) }, () =>
      Buffer.concat(Array.from({ length: 5 }, () => httpRequest(random))),
    );
    expect((await fuzz(cluster.nodes[0]!.http.port, batches)).hung).toBe(0);
    expect(cluster.nodes[0]!.child.exitCode).toBeNull();
    expect((await client.get('fuzz')).toString()).toBe('fuzz target');
    await client.store('fuzz-after', Buffer.from('still works'), { class: 'one' });
    expect((await client.get('fuzz-after')).toString()).toBe('still works');
  }, 600_000);
});
