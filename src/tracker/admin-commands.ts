import type { AdminRequest } from '../protocol/request.js';
import type { TrackerConfig } from './config.js';
import type { AdminCommandHandler, ConnectionContext } from './dispatch.js';
import type { QueryStats } from './query-stats.js';
import type { WatchHub } from './watch-hub.js';

/** What `!version` prints; clients compare it with the MogileFS version they know. */
export const PROTOCOL_VERSION = '2.73';

const MAX_WORKERS = 500;
const SINGLETON_JOBS = new Set(['monitor', 'job_master']);

/** The original's `!` help text, byte for byte (transcript `bang.unknown`: LF lines). */
const HELP = [
  'Mogilefsd admin commands:',
  '',
  '    !version    Server version',
  '    !recent     Recently executed queries and how long they took.',
  '    !queue      Queries that are pending execution.',
  "    !stats      General stats on what we're up to.",
  '    !watch      Observe errors/messages from children.',
  '    !jobs       Outstanding job counts, desired level, and pids.',
  '    !shutdown   Immediately kill all of mogilefsd.',
  '',
  '    !to <job class> <message>',
  '                Send <message> to all workers of <job class>.',
  '                Mostly used for debugging.',
  '',
  '    !want <count> <job class>',
  '                Alter the level of workers of this class desired.',
  '                Example: !want 20 queryworker, !want 3 replicate.',
  '                See !jobs for what jobs are available.',
  '',
  '',
].join('\n');

export interface AdminCommandsOptions {
  readonly config: TrackerConfig;
  readonly stats: QueryStats;
  readonly watch: WatchHub;
  /** Starts a graceful stop of the whole tracker (`!shutdown`). */
  readonly requestShutdown: () => void;
  readonly pid?: number;
}

/**
 * The `!` commands (spec §7). mogile runs its workers inside one process, so `!jobs`
 * reports that process for every job class, and `!want` only records the wish.
 */
export class AdminCommands implements AdminCommandHandler {
  readonly #options: AdminCommandsOptions;
  readonly #running: ReadonlyMap<string, number>;
  readonly #desired: Map<string, number>;

  constructor(options: AdminCommandsOptions) {
    this.#options = options;
    const { config } = options;
    this.#running = new Map([
      ['delete', config.deleteJobs],
      ['fsck', config.fsckJobs],
      ['job_master', config.jobMaster ? 1 : 0],
      ['monitor', 1],
      ['queryworker', config.queryJobs],
      ['reaper', config.reaperJobs],
      ['replicate', config.replicateJobs],
    ]);
    this.#desired = new Map(this.#running);
  }

  /** The reply: CRLF lines, then the `.` line. */
  handle(request: AdminRequest, ctx: ConnectionContext): string {
    const lines = this.#lines(request, ctx);
    if (lines === undefined) return `${HELP}.\r\n`;
    return `${lines.map((line) => `${line}\r\n`).join('')}.\r\n`;
  }

  /** Undefined for an unknown command, which gets the help text. */
  #lines(request: AdminRequest, ctx: ConnectionContext): string[] | undefined {
    const { command, args } = request;
    if (command === 'version') return [PROTOCOL_VERSION];
    if (command === 'stats') return this.#stats();
    if (command === 'jobs') return this.#jobs();
    if (command === 'want') return this.#want(args);
    if (command === 'to') return this.#to(args);
    // Queries never wait for a worker here: each runs as soon as its connection allows.
    if (command === 'queue' || command.startsWith('pend')) return [];
    if (command === 'recent') return this.#recent();
    if (command === 'watch') return this.#watch(ctx);
    if (command === 'shutdown') {
      this.#options.requestShutdown();
      return [];
    }
    return undefined;
  }

  #stats(): string[] {
    const { stats, config } = this.#options;
    return [
      `uptime ${stats.uptimeSeconds()}`,
      'pending_queries 0',
      `processing_queries ${stats.processing}`,
      `bored_queryworkers ${Math.max(0, config.queryJobs - stats.processing)}`,
      ...stats.counters().map(([name, value]) => `${name} ${value}`),
    ];
  }

  #jobs(): string[] {
    const pid = this.#options.pid ?? process.pid;
    return [...this.#running].flatMap(([job, count]) => [
      `${job} count ${count}`,
      `${job} desired ${this.#desired.get(job) ?? count}`,
      `${job} pids${count > 0 ? ` ${pid}` : ''}`,
    ]);
  }

  #want(args: readonly string[]): string[] {
    const [countText, job] = args;
    if (countText === undefined || job === undefined || !/^\d+$/.test(countText)) {
      return ['ERROR: usage: !want <count> <jobclass>'];
    }
    if (!this.#running.has(job)) {
      return [
        `ERROR: Invalid class '${job}'.  Valid classes: ${[...this.#running.keys()].join(', ')}`,
      ];
    }
    const count = Number(countText);
    const limit = SINGLETON_JOBS.has(job) ? 1 : MAX_WORKERS;
    this.#desired.set(job, Math.min(count, limit));
    return [`Now desiring ${count} children doing '${job}'.`];
  }

  #to(args: readonly string[]): string[] {
    const [job] = args;
    if (job === undefined || args.length < 2) return ['ERROR: usage: !to <jobclass> <message>'];
    // In-process workers take no messages; the count says how many would have.
    return [`Message sent to ${this.#running.get(job) ?? 0} children.`];
  }

  #recent(): string[] {
    return this.#options.stats
      .recent()
      .map(
        (query) =>
          `${query.clientIp} ${query.line} ${(query.totalMs / 1000).toFixed(4)} ${(query.workMs / 1000).toFixed(4)}`,
      );
  }

  #watch(ctx: ConnectionContext): string[] {
    if (!ctx.sendUnsolicited) return ['ERROR: this connection cannot stream'];
    return this.#options.watch.toggle(ctx)
      ? ['Added you to watcher list.']
      : ['Removed you from watcher list.'];
  }
}
