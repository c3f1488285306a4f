import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const MAIN = resolve(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');

export interface Address {
  readonly host: string;
  readonly port: number;
}

/** A `mogile storage` process started by a test; only this PID is ever signalled. */
export interface NodeProcess {
  readonly child: ChildProcess;
  readonly http: Address;
  readonly side: Address;
  readonly docroot: string;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Sends `signal` to this process and waits for it to exit; returns the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Resolves with the exit code once the process has exited by itself. */
  exited(): Promise<number | null>;
}

/** A fresh docroot with `dev1`..`devN` under the OS temp folder. */
export function makeDocroot(devices = [1, 2]): string {
  const docroot = mkdtempSync(join(tmpdir(), 'mogile-storage-'));
  for (const devid of devices) mkdirSync(join(docroot, `dev${devid}`));
  return docroot;
}

export function removeDocroot(docroot: string): void {
  rmSync(docroot, { recursive: true, force: true });
}

/**
 * Spawns `node dist/cli/main.js storage` on port 0 and waits for its two
 * `listening on IP:PORT (...)` lines (never for a sleep).
 */
export async function startNode(
  docroot: string,
  extraArgs: string[] = [],
  options: { command?: string[] } = {},
): Promise<NodeProcess> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run the build first`);
  const args = [
    MAIN,
    'storage',
    '--listen',
    '127.0.0.1:0',
    '--mgmt-listen',
    '127.0.0.1:0',
    '--docroot',
    docroot,
    ...extraArgs,
  ];
  const [command, ...prefix] = options.command ?? [process.execPath];
  const child = spawn(command!, [...prefix, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolveExit) => {
    child.once('exit', (code) => resolveExit(code));
  });
  const lines = createInterface({ input: child.stdout! });
  const found: Partial<Record<'http' | 'side channel', Address>> = {};
  await new Promise<void>((resolveReady, reject) => {
    lines.on('line', (line) => {
      const match = /^listening on (.+):(\d+) \((http|side channel)\)$/.exec(line);
      if (!match) return;
      found[match[3] as 'http' | 'side channel'] = { host: match[1]!, port: Number(match[2]) };
      if (found.http && found['side channel']) resolveReady();
    });
    void exited.then((code) =>
      reject(new Error(`node exited (${code}) before listening: ${stderr}`)),
    );
  });
  return {
    child,
    http: found.http!,
    side: found['side channel']!,
    docroot,
    stderr: () => stderr,
    exited: () => exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** A parsed HTTP response read from a raw socket. */
export interface RawResponse {
  readonly statusLine: string;
  readonly status: number;
  /** Header names lower-cased; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/**
 * Sends raw bytes (for HTTP/1.0 without Host, odd header spellings, malformed targets)
 * and reads until the server closes the connection.
 */
export function rawRequest(address: Address, request: string | Buffer): Promise<RawResponse> {
  return new Promise((resolveResponse, reject) => {
    const socket = connect(address.port, address.host);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      try {
        resolveResponse(parseResponse(Buffer.concat(chunks)));
      } catch (error) {
        reject(error);
      }
    });
    socket.write(request);
  });
}

export function parseResponse(raw: Buffer): RawResponse {
  let rest = raw;
  // Skip interim 1xx responses (100 Continue).
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) throw new Error(`incomplete response: ${JSON.stringify(rest.toString('latin1'))}`);
    const head = rest.subarray(0, end).toString('latin1').split('\r\n');
    const statusLine = head[0]!;
    const status = Number(statusLine.split(' ')[1]);
    const body = rest.subarray(end + 4);
    if (status >= 100 && status < 200) {
      rest = body;
      continue;
    }
    const headers: Record<string, string> = {};
    for (const line of head.slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    return { statusLine, status, headers, body };
  }
}

/** HTTP/1.0 request text the way the Perl client writes it: no Host, `Content-length`. */
export function http10(method: string, path: string, body?: string | Buffer, headers = ''): Buffer {
  const length = body === undefined ? '' : `Content-length: ${Buffer.byteLength(body)}\r\n`;
  const head = Buffer.from(`${method} ${path} HTTP/1.0\r\n${length}${headers}\r\n`, 'latin1');
  return body === undefined ? head : Buffer.concat([head, Buffer.from(body)]);
}

/** A side-channel connection that sends lines and reads replies. */
export interface SideClient {
  send(text: string): void;
  /** Waits until the received text contains `count` occurrences of `terminator`. */
  read(count?: number, terminator?: string): Promise<string>;
  readonly closed: Promise<void>;
  close(): void;
}

export function sideClient(address: Address): Promise<SideClient> {
  return new Promise((resolveClient, reject) => {
    const socket = connect(address.port, address.host);
    let buffer = '';
    let waiter: (() => void) | null = null;
    const closed = new Promise<void>((resolveClosed) =>
      socket.once('close', () => resolveClosed()),
    );
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      waiter?.();
    });
    socket.once('error', reject);
    socket.once('connect', () =>
      resolveClient({
        send: (text) => socket.write(text),
        closed,
        close: () => socket.destroy(),
        read(count = 1, terminator = '\r\n') {
          return new Promise((resolveRead, rejectRead) => {
            const check = () => {
              let index = -1;
              for (let seen = 0; seen < count; seen++) {
                index = buffer.indexOf(terminator, index + 1);
                if (index < 0) return false;
              }
              const text = buffer.slice(0, index + terminator.length);
              buffer = buffer.slice(index + terminator.length);
              waiter = null;
              resolveRead(text);
              return true;
            };
            if (check()) return;
            waiter = () => void check();
            void closed.then(() => {
              if (waiter)
                rejectRead(new Error(`side channel closed; got ${JSON.stringify(buffer)}`));
            });
          });
        },
      }),
    );
  });
}

/** One record of the original mogstored's transcript (shared/spec/transcripts/README.md). */
export interface StorageRecord {
  readonly id: string;
  readonly request: string;
  readonly status?: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly body_encoding?: 'utf8' | 'base64';
  readonly reply?: string;
}

/**
 * Records of the original mogstored, by id. A copy of spec/transcripts/storage.jsonl lives in
 * fixtures/ so a clean clone runs without ../shared.
 */
export function storageTranscript(): Map<string, StorageRecord> {
  const path = resolve(import.meta.dirname, 'fixtures', 'storage.jsonl');
  const records = new Map<string, StorageRecord>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const record = JSON.parse(line) as StorageRecord;
    records.set(record.id, record);
  }
  return records;
}
