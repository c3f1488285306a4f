import type { ConnectionContext } from './dispatch.js';

const LEVEL_NAMES: Readonly<Record<number, string>> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

/**
 * The connections that asked for `!watch` (spec §7) and the log stream that feeds them:
 * every log record becomes an unsolicited `:: <message>` line on each of them.
 */
export class WatchHub {
  readonly #watchers = new Set<ConnectionContext>();

  get size(): number {
    return this.#watchers.size;
  }

  /** Adds or removes a connection; true when it is now watching. */
  toggle(connection: ConnectionContext): boolean {
    if (this.#watchers.delete(connection)) return false;
    this.#watchers.add(connection);
    connection.signal.addEventListener('abort', () => this.#watchers.delete(connection), {
      once: true,
    });
    return true;
  }

  publish(message: string): void {
    const line = `:: ${message.replace(/[\r\n]+/g, ' ')}\r\n`;
    for (const watcher of this.#watchers) watcher.sendUnsolicited?.(line);
  }

  /** A pino destination: JSON log lines in, watch lines out (nothing when none watch). */
  logStream(): { write(line: string): void } {
    return {
      write: (line) => {
        if (this.#watchers.size === 0) return;
        this.publish(formatRecord(line));
      },
    };
  }
}

function formatRecord(line: string): string {
  try {
    const record = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
    const level = LEVEL_NAMES[record.level ?? 30] ?? String(record.level);
    const error = record.err?.message ? `: ${record.err.message}` : '';
    return `[${level}] ${record.msg ?? ''}${error}`;
  } catch {
    return line.trim();
  }
}
