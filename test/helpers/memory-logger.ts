import pino, { type Logger } from 'pino';

export interface LogRecord {
  readonly level: number;
  readonly msg: string;
  readonly err?: { message: string; stack?: string; type?: string };
  readonly [field: string]: unknown;
}

/** A pino logger that keeps its records in memory, for tests that check what was logged. */
export function memoryLogger(level = 'debug'): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const stream = {
    write(line: string) {
      records.push(JSON.parse(line) as LogRecord);
    },
  };
  return { logger: pino({ level }, stream), records };
}
