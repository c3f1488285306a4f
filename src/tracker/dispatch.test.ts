import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../../test/helpers/memory-logger.js';
import { okPairs, transcriptRecords } from '../../test/helpers/transcripts.js';
import { MetaDuplicateError } from '../meta/index.js';
import { MogileError } from '../protocol/errors.js';
import { InvariantError } from '../protocol/invariant-error.js';
import { AdminCommands } from './admin-commands.js';
import type { CommandHandler } from './command.js';
import { buildCommandRegistry } from './commands/index.js';
import { loadTrackerConfig } from './config.js';
import { type ConnectionContext, createDispatcher, type DispatcherOptions } from './dispatch.js';
import { QueryStats } from './query-stats.js';
import type { TrackerServices } from './services.js';
import { WatchHub } from './watch-hub.js';

// Dispatch never looks inside the services; the handlers used here do not either.
const services = { hostname: 'dispatch-test' } as unknown as TrackerServices;

function connection(signal = new AbortController().signal): ConnectionContext {
  return { clientIp: '192.0.2.7', signal };
}

function dispatcherWith(extra: Record<string, CommandHandler>, options: DispatcherOptions = {}) {
  const registry = new Map(buildCommandRegistry());
  for (const [name, handler] of Object.entries(extra)) registry.set(name, handler);
  return createDispatcher(registry, services, options);
}

describe('handleLine', () => {
  const dispatcher = dispatcherWith({
    echo: async (args) => Object.fromEntries(args),
    refuse: async () => {
      throw new MogileError('unknown_key');
    },
    explain: async () => {
      throw new MogileError('bad_params', 'size & shape wrong');
    },
  });

  it.each([
    ['', null],
    ['\r\n', null],
    ['noop', 'OK \r\n'],
    ['noop callid=7', 'OK callid=7\r\n'],
    ['frobnicate', 'ERR unknown_command Unknown+server+command\r\n'],
    ['frobnicate callid=x+y', 'ERR unknown_command Unknown+server+command x+y\r\n'],
    ['   ', 'ERR unknown_command Unknown+server+command\r\n'],
    ['!', 'ERR unknown_command Unknown+server+command\r\n'],
    ['! version', 'ERR unknown_command Unknown+server+command\r\n'],
    ['!version', 'ERR unknown_command Unknown+server+command\r\n'],
    ['refuse callid=5', 'ERR unknown_key unknown_key 5\r\n'],
    ['explain', 'ERR bad_params size+%26+shape+wrong\r\n'],
    ['echo a=1', 'OK a=1\r\n'],
    ['echo callid=3&a=%2B', 'OK a=%2B&callid=3\r\n'],
  ])('%j → %j', async (line, reply) => {
    expect(await dispatcher.handleLine(line, connection())).toBe(reply);
  });

  it('answers an unexpected exception with ERR failure and logs its stack only', async () => {
    const { logger, records } = memoryLogger();
    const crashing = dispatcherWith(
      {
        boom: async () => {
          throw new TypeError('secret internal detail');
        },
      },
      { logger },
    );
    const reply = await crashing.handleLine('boom callid=9', connection());
    expect(reply).toBe('ERR failure Operation+failed 9\r\n');
    expect(reply).not.toContain('secret');
    const logged = records.find((record) => record.err?.message === 'secret internal detail');
    expect(logged?.err?.stack).toContain('TypeError');
    expect(logged?.level).toBe(50);
    expect(await crashing.handleLine('noop', connection())).toBe('OK \r\n');
  });

  it('turns a reply name starting with a digit into invariant_violation, logged loudly', async () => {
    const { logger, records } = memoryLogger();
    const bad = dispatcherWith({ digits: async () => ({ '1st': 'x' }) }, { logger });
    expect(await bad.handleLine('digits callid=c', connection())).toMatch(
      /^ERR invariant_violation \S+ c\r\n$/,
    );
    expect(records.some((record) => record.level === 50 && /1st/.test(record.msg))).toBe(true);
  });

  it('reports an InvariantError thrown by a handler without its detail', async () => {
    const bad = dispatcherWith({
      broken: async () => {
        throw new InvariantError('row belongs to key other-key');
      },
    });
    const reply = await bad.handleLine('broken', connection());
    expect(reply).toMatch(/^ERR invariant_violation /);
    expect(reply).not.toContain('other');
  });

  it('answers ERR dup for a duplicate key that escaped a command (spec §3.4)', async () => {
    const dup = dispatcherWith({
      clash: async () => {
        throw new MetaDuplicateError(new Error('UNIQUE constraint failed'));
      },
    });
    expect(await dup.handleLine('clash callid=4')).toBe(
      'ERR dup Duplicate+name/number+used. 4\r\n',
    );
  });

  it('answers ERR failure when a handler returns nothing usable', async () => {
    const odd = dispatcherWith({ nothing: async () => undefined as never });
    expect(await odd.handleLine('nothing', connection())).toBe('ERR failure Operation+failed\r\n');
  });

  it('passes admin lines to the admin handler and survives its failures', async () => {
    const seen: string[] = [];
    const withAdmin = dispatcherWith(
      {},
      {
        admin: {
          handle(request) {
            seen.push(request.command);
            if (request.command === 'explode') throw new Error('admin bug');
            return 'fine\r\n.\r\n';
          },
        },
        logger: memoryLogger().logger,
      },
    );
    expect(await withAdmin.handleLine('!stats', connection())).toBe('fine\r\n.\r\n');
    expect(await withAdmin.handleLine('!explode', connection())).toMatch(/\r\n\.\r\n$/);
    expect(await withAdmin.handleLine('!', connection())).toMatch(/^ERR unknown_command/);
    expect(seen).toEqual(['stats', 'explode']);
  });

  it('counts queries and remembers recent ones, but not admin lines', async () => {
    const stats = new QueryStats();
    const counted = dispatcherWith({}, { stats });
    await counted.handleLine('noop callid=1', connection());
    await counted.handleLine('   ', connection());
    await counted.handleLine('', connection());
    await counted.handleLine('!version', connection());
    expect(stats.counters()).toEqual([['queries', 2]]);
    expect(stats.recent().map((query) => query.line)).toEqual(['noop callid=1', '   ']);
    expect(stats.recent()[0]?.clientIp).toBe('192.0.2.7');
    expect(stats.processing).toBe(0);
  });

  it('labels each query with its command word, bounded', async () => {
    const stats = new QueryStats();
    const labelled = dispatcherWith({}, { stats });
    for (const line of ['NOOP', `${'x'.repeat(65)} a=1`, '%%% junk', '!x', '.dot']) {
      await labelled.handleLine(line, connection());
    }
    expect(stats.recent().map((query) => [query.command, query.result])).toEqual([
      ['noop', 'ok'],
      ['unknown', 'unknown_command'],
      ['unknown', 'unknown_command'],
      ['unknown', 'unknown_command'],
    ]);
  });

  it('counts the time a line waited before it ran in the total only', async () => {
    const stats = new QueryStats();
    await dispatcherWith({}, { stats }).handleLine('noop', connection(), performance.now() - 80);
    const [query] = stats.recent();
    expect(query!.totalMs).toBeGreaterThanOrEqual(80);
    expect(query!.workMs).toBeLessThan(80);
  });
});

describe('misc commands', () => {
  const dispatcher = dispatcherWith({}, { logger: memoryLogger().logger });

  it('sleep rounds its duration down to whole seconds, like Perl', async () => {
    const started = Date.now();
    expect(await dispatcher.handleLine('sleep duration=0.9', connection())).toBe('OK \r\n');
    expect(await dispatcher.handleLine('sleep duration=-3', connection())).toBe('OK \r\n');
    expect(await dispatcher.handleLine('sleep duration=soon', connection())).toBe('OK \r\n');
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('sleep stops when the client goes away (default 10 s otherwise)', async () => {
    const gone = new AbortController();
    const started = Date.now();
    const reply = dispatcher.handleLine('sleep', connection(gone.signal));
    setTimeout(() => gone.abort(), 20);
    expect(await reply).toMatch(/^ERR failure/);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('transcript records through handleLine', () => {
  const dispatcher = dispatcherWith({}, { logger: memoryLogger().logger });
  const records = [
    ...transcriptRecords('parse.'),
    ...transcriptRecords('misc.test'),
    ...transcriptRecords('misc.sleep'),
    ...transcriptRecords('misc.plugin'),
    ...transcriptRecords('bang.bare'),
  ].filter((record) => record.id !== 'parse.pipelined');

  for (const record of records) {
    it(`${record.id}: ${record.note}`, async () => {
      const reply = await dispatcher.handleLine(record.request, connection());
      if (record.reply === '') expect(reply).toBeNull();
      else if (record.reply.startsWith('OK '))
        expect(okPairs(reply ?? '')).toEqual(record.reply_args);
      else expect(reply).toBe(record.reply);
    });
  }
});

describe('handleLine fuzz', () => {
  it('always resolves to no reply, one OK/ERR line, or a terminated ! reply', async () => {
    const stats = new QueryStats();
    const admin = new AdminCommands({
      config: loadTrackerConfig({ overrides: { debug: '0' } }),
      stats,
      watch: new WatchHub(),
      requestShutdown: () => {},
    });
    // No sleep here: a random `sleep` line would wait for real.
    const registry = new Map(buildCommandRegistry());
    registry.delete('sleep');
    registry.set('echo', async (args) => Object.fromEntries(args));
    const dispatcher = createDispatcher(registry, services, {
      stats,
      admin,
      logger: memoryLogger('fatal').logger,
    });
    const words = fc.constantFrom(
      'noop',
      'test',
      'echo',
      'NOOP',
      '!',
      '!want',
      '!to',
      '!watch',
      ' ',
    );
    const line = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.uint8Array({ maxLength: 80 }),
      fc.tuple(words, fc.string({ unit: 'binary', maxLength: 40 })).map(([w, rest]) => w + rest),
    );
    await fc.assert(
      fc.asyncProperty(line, async (input) => {
        const reply = await dispatcher.handleLine(input);
        if (reply === null) return;
        expect(reply).toMatch(/^(OK \S*\r\n|ERR [a-z_]+ \S+( \S+)?\r\n|.*\.\r\n)$/s);
        if (!reply.endsWith('.\r\n')) expect(reply.indexOf('\n')).toBe(reply.length - 1);
      }),
      { numRuns: 1000 },
    );
  });
});
