/** One warning or error the tracker logged, as the dashboard lists it. */
export interface RecentLogEntry {
  readonly timeMs: number;
  readonly level: 'warn' | 'error' | 'fatal';
  readonly message: string;
}

const LEVELS: Readonly<Record<number, RecentLogEntry['level']>> = {
  40: 'warn',
  50: 'error',
  60: 'fatal',
};
const DEFAULT_LIMIT = 100;
const MAX_MESSAGE_CHARS = 500;

/**
 * The tracker's last warnings and errors, kept in memory for the status API. A pino
 * destination: it receives JSON log lines and keeps the newest `limit` of them.
 */
export class RecentLog {
  readonly #limit: number;
  readonly #entries: RecentLogEntry[] = [];

  constructor(limit = DEFAULT_LIMIT) {
    this.#limit = limit;
  }

  /** Oldest first. */
  entries(): readonly RecentLogEntry[] {
    return [...this.#entries];
  }

  logStream(): { write(line: string): void } {
    return { write: (line) => this.#add(line) };
  }

  #add(line: string): void {
    let record: { level?: number; time?: number; msg?: string; err?: { message?: string } };
    try {
      record = JSON.parse(line) as typeof record;
    } catch {
      return;
    }
    const level = LEVELS[record.level ?? 0];
    if (!level) return;
    const detail = record.err?.message ? `: ${record.err.message}` : '';
    this.#entries.push({
      timeMs: record.time ?? Date.now(),
      level,
      message: `${record.msg ?? ''}${detail}`.slice(0, MAX_MESSAGE_CHARS),
    });
    if (this.#entries.length > this.#limit) this.#entries.shift();
  }
}
