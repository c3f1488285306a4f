import { describe, expect, it } from 'vitest';
import { transcriptRecord } from '../../test/helpers/transcripts.js';
import { parseRequestLine } from '../protocol/request.js';
import { AdminCommands } from './admin-commands.js';
import { loadTrackerConfig } from './config.js';
import type { ConnectionContext } from './dispatch.js';
import { QueryStats } from './query-stats.js';
import { WatchHub } from './watch-hub.js';

function setup(overrides: Record<string, string> = {}) {
  const stats = new QueryStats(Date.now() - 42_000);
  const watch = new WatchHub();
  let shutdowns = 0;
  const admin = new AdminCommands({
    config: loadTrackerConfig({
      overrides: { query_jobs: '10', replicate_jobs: '5', ...overrides },
    }),
    stats,
    watch,
    requestShutdown: () => {
      shutdowns += 1;
    },
    pid: 4242,
  });
  const sent: string[] = [];
  const gone = new AbortController();
  const ctx: ConnectionContext = {
    clientIp: '10.0.0.9',
    signal: gone.signal,
    sendUnsolicited: (line) => sent.push(line),
  };
  const run = (line: string, context: ConnectionContext = ctx) => {
    const request = parseRequestLine(line);
    if (request.kind !== 'admin') throw new Error(`not an admin line: ${line}`);
    return admin.handle(request, context);
  };
  return { run, stats, watch, sent, gone, shutdowns: () => shutdowns };
}

describe('AdminCommands', () => {
  it.each([
    'bang.version',
    'bang.unknown',
    'bang.upper_version',
    'bang.queue',
    'bang.pending',
    'bang.want_bad_class',
    'bang.want_usage',
    'bang.want_same',
    'bang.to_usage',
  ])('%s matches the original byte for byte', (id) => {
    const record = transcriptRecord(id);
    expect(setup().run(record.request)).toBe(record.reply);
  });

  it('!stats prints uptime, the query gauges, then sorted counters', () => {
    const { run, stats } = setup();
    stats.begin();
    stats.increment('invariant_violations');
    expect(run('!stats')).toBe(
      'uptime 42\r\npending_queries 0\r\nprocessing_queries 1\r\nbored_queryworkers 9\r\n' +
        'invariant_violations 1\r\nqueries 1\r\n.\r\n',
    );
  });

  it('!jobs reports every job class in this process, and !want records the wish', () => {
    const { run } = setup({ job_master: '0' });
    expect(run('!want 3 replicate')).toBe("Now desiring 3 children doing 'replicate'.\r\n.\r\n");
    expect(run('!want 7 monitor')).toBe("Now desiring 7 children doing 'monitor'.\r\n.\r\n");
    expect(run('!jobs')).toBe(
      [
        'delete count 1',
        'delete desired 1',
        'delete pids 4242',
        'fsck count 1',
        'fsck desired 1',
        'fsck pids 4242',
        'job_master count 0',
        'job_master desired 0',
        'job_master pids',
        'monitor count 1',
        'monitor desired 1',
        'monitor pids 4242',
        'queryworker count 10',
        'queryworker desired 10',
        'queryworker pids 4242',
        'reaper count 1',
        'reaper desired 1',
        'reaper pids 4242',
        'replicate count 5',
        'replicate desired 3',
        'replicate pids 4242',
        '.',
        '',
      ].join('\r\n'),
    );
  });

  it.each([
    ['!want x replicate', 'ERROR: usage: !want <count> <jobclass>'],
    ['!want 2', 'ERROR: usage: !want <count> <jobclass>'],
    ['!want -1 delete', 'ERROR: usage: !want <count> <jobclass>'],
    ['!to replicate', 'ERROR: usage: !to <jobclass> <message>'],
    ['!to replicate wake up', 'Message sent to 5 children.'],
    ['!to nosuch hello', 'Message sent to 0 children.'],
  ])('%s → %s', (line, reply) => {
    expect(setup().run(line)).toBe(`${reply}\r\n.\r\n`);
  });

  it('!recent lists finished queries with their timings in seconds', () => {
    const { run, stats } = setup();
    stats.begin()({ clientIp: '10.1.1.1', line: 'noop callid=1', totalMs: 12.5, workMs: 1 });
    expect(run('!recent')).toBe('10.1.1.1 noop callid=1 0.0125 0.0010\r\n.\r\n');
  });

  it('!watch toggles log streaming for this connection only', () => {
    const { run, watch, sent, gone } = setup();
    expect(run('!watch')).toBe('Added you to watcher list.\r\n.\r\n');
    watch.logStream().write('{"level":40,"msg":"disk\\nfull","err":{"message":"ENOSPC"}}\n');
    expect(sent).toEqual([':: [warn] disk full: ENOSPC\r\n']);
    expect(run('!watch')).toBe('Removed you from watcher list.\r\n.\r\n');
    watch.publish('nobody hears this');
    expect(sent).toHaveLength(1);
    run('!watch');
    gone.abort();
    expect(watch.size).toBe(0);
  });

  it('!watch needs a connection that can stream', () => {
    const { run } = setup();
    const reply = run('!watch', { clientIp: 'x', signal: new AbortController().signal });
    expect(reply).toMatch(/^ERROR: .*\r\n\.\r\n$/);
  });

  it('!shutdown asks for a graceful stop', () => {
    const { run, shutdowns } = setup();
    expect(run('!shutdown')).toBe('.\r\n');
    expect(shutdowns()).toBe(1);
  });

  it('never throws, whatever follows the !', () => {
    const { run } = setup();
    for (const line of [
      '!%',
      '!want 99999999999999999999 delete',
      '!to  ',
      '!recent extra',
      '!\u0000',
    ]) {
      expect(run(line)).toMatch(/\.\r\n$/);
    }
  });
});
