import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCommandRegistry } from '../../src/tracker/commands/index.js';
import { createDispatcher } from '../../src/tracker/dispatch.js';
import {
  createTrackerServices,
  type ServiceOptions,
  type TrackerServicesHandle,
} from '../../src/tracker/services.js';
import type { Backend } from './meta-backends.js';
import { okPairs } from './transcripts.js';

/** A dispatcher on a fresh SQLite database, driven through `handleLine()` with no socket. */
export interface CommandHarness {
  readonly services: TrackerServicesHandle;
  /** The raw reply line for one request line. */
  send(line: string): Promise<string>;
  /** Sends and expects `OK`; returns the decoded pairs. */
  ok(line: string): Promise<Record<string, string>>;
  /** Sends and expects `ERR`; returns the code and decoded text. */
  err(line: string): Promise<{ code: string; text: string }>;
  close(): Promise<void>;
}

/**
 * `backend` picks the engine (a fresh, uniquely named database that close() drops);
 * SQLite in a temp folder by default.
 */
export async function commandHarness(
  options: Partial<ServiceOptions> = {},
  backend?: Backend,
): Promise<CommandHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'mogile-cmd-'));
  const database = backend ? await backend.freshDatabase() : undefined;
  const services = await createTrackerServices({
    dbUrl: database?.url ?? `sqlite:${join(dir, 'meta.db')}`,
    hostname: 'test-tracker',
    ...options,
  });
  const dispatcher = createDispatcher(buildCommandRegistry(), services);
  const signal = new AbortController().signal;
  const send = async (line: string) => {
    const reply = await dispatcher.handleLine(`${line}\r\n`, { clientIp: '127.0.0.1', signal });
    if (reply === null) throw new Error(`no reply to ${JSON.stringify(line)}`);
    return reply;
  };
  return {
    services,
    send,
    async ok(line) {
      const reply = await send(line);
      const pairs = okPairs(reply);
      if (!pairs)
        throw new Error(`expected OK for ${JSON.stringify(line)}, got ${JSON.stringify(reply)}`);
      return pairs;
    },
    async err(line) {
      const reply = await send(line);
      const match = /^ERR (\w+) (\S*)/.exec(reply);
      if (!match)
        throw new Error(`expected ERR for ${JSON.stringify(line)}, got ${JSON.stringify(reply)}`);
      return { code: match[1]!, text: decodeURIComponent(match[2]!.replaceAll('+', ' ')) };
    },
    async close() {
      await services.close();
      await database?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
