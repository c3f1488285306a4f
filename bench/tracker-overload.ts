/**
 * The tracker's `get_paths` rate and latency on PostgreSQL with the database healthy, then
 * with the database's network stalled for 5 s (a TCP proxy holds every byte), then how
 * long it takes to answer normally again. During the stall every reply must be an error
 * that leaves before request_timeout plus a margin, never a late answer.
 * Clients: 16 connections, each waiting for its reply before sending the next request.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { TrackerConnection } from '../test/helpers/tracker-connection.js';
import { okPairs } from '../test/helpers/transcripts.js';
import { type ProxiedTracker, startProxiedTracker } from '../test/overload/proxied-tracker.js';

const CONNECTIONS = 16;
const FILES = 1000;
const PHASE_MS = 5000;
/** Defaults of request_timeout and stale_reply_after. */
const REQUEST_TIMEOUT_MS = 2000;
const STALE_MS = 2500;

interface Phase {
  readonly latenciesMs: number[];
  readonly codes: Map<string, number>;
  readonly seconds: number;
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function runPhase(setup: ProxiedTracker, connections: TrackerConnection[]): Promise<Phase> {
  const latenciesMs: number[] = [];
  const codes = new Map<string, number>();
  const started = performance.now();
  const ends = started + PHASE_MS;
  let next = 0;
  await Promise.all(
    connections.map(async (connection) => {
      while (performance.now() < ends) {
        const { key } = setup.keys[next++ % setup.keys.length]!;
        const begin = performance.now();
        const reply = await connection.request(`get_paths domain=d&key=${key}&noverify=1`, 10_000);
        latenciesMs.push(performance.now() - begin);
        const pairs = okPairs(reply);
        const code =
          pairs === null
            ? (/^ERR (\S+)/.exec(reply)?.[1] ?? 'garbled')
            : pairs['key'] === key
              ? 'ok'
              : 'WRONG_KEY';
        codes.set(code, (codes.get(code) ?? 0) + 1);
      }
    }),
  );
  return { latenciesMs, codes, seconds: (performance.now() - started) / 1000 };
}

function describe(label: string, phase: Phase): string {
  const rate = phase.latenciesMs.length / phase.seconds;
  const codes = [...phase.codes].map(([code, count]) => `${code} ${count}`).join(', ');
  return (
    `${label.padEnd(22)} ${rate.toFixed(0).padStart(6)} replies/s  ` +
    `p50 ${percentile(phase.latenciesMs, 50).toFixed(1)} ms  ` +
    `p99 ${percentile(phase.latenciesMs, 99).toFixed(1)} ms  ` +
    `max ${Math.max(...phase.latenciesMs).toFixed(1)} ms  (${codes})`
  );
}

export async function run(): Promise<void> {
  const setup = await startProxiedTracker({ files: FILES });
  const connections = await Promise.all(
    Array.from({ length: CONNECTIONS }, () => TrackerConnection.open(setup.tracker.port)),
  );
  try {
    await runPhase(setup, connections); // warm-up: pool connections, JIT
    const healthy = await runPhase(setup, connections);
    process.stdout.write(`${describe('database healthy', healthy)}\n`);

    setup.proxy.pause();
    const stalled = await runPhase(setup, connections);
    setup.proxy.resume();
    process.stdout.write(`${describe('database stalled 5 s', stalled)}\n`);
    const late = stalled.latenciesMs.filter((ms) => ms > STALE_MS).length;
    const overDeadline = stalled.latenciesMs.filter((ms) => ms > REQUEST_TIMEOUT_MS + 100).length;
    process.stdout.write(
      `  replies later than request_timeout + 100 ms: ${overDeadline}; later than ` +
        `stale_reply_after: ${late}; OK answers during the stall: ${stalled.codes.get('ok') ?? 0}\n`,
    );

    const resumed = performance.now();
    const probe = connections[0]!;
    for (;;) {
      const reply = await probe.request('get_paths domain=d&key=k1&noverify=1');
      if (okPairs(reply)?.['key'] === 'k1') break;
      await delay(10);
    }
    process.stdout.write(
      `  first normal answer ${(performance.now() - resumed).toFixed(0)} ms after the network resumed\n`,
    );
    const after = await runPhase(setup, connections);
    process.stdout.write(`${describe('after the stall', after)}\n`);
  } finally {
    for (const connection of connections) connection.close();
    await setup.stop();
  }
}
