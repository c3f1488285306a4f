import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { fidPath } from '../../protocol/fid-path.js';
import type { WorkloadGroup, WorkloadResult } from './bench-plan.js';
import { runOps } from './latency.js';
import { type BenchProcess, PACKAGE_ROOT, spawnListening } from './mogile-process.js';

const SERVER = join(PACKAGE_ROOT, 'dist', 'cli', 'bench', 'raw-file-server.js');

/** The raw node:http file server in its own process, over a temp docroot. */
export class RawServer {
  readonly process: BenchProcess;
  readonly #docroot: string;
  readonly #base: string;
  readonly #agent = new Agent();
  #nextFid = 1;

  private constructor(process: BenchProcess, docroot: string) {
    this.process = process;
    this.#docroot = docroot;
    this.#base = `http://${process.addresses.get('http')}`;
  }

  static async start(): Promise<RawServer> {
    const docroot = mkdtempSync(join(tmpdir(), 'mogile-bench-raw-'));
    try {
      const child = await spawnListening({
        role: 'raw server',
        args: [SERVER, docroot],
        waitFor: ['http'],
      });
      return new RawServer(child, docroot);
    } catch (error) {
      rmSync(docroot, { recursive: true, force: true });
      throw error;
    }
  }

  /** PUTs the group's files, then GETs each back: the limit a storage node is held to. */
  async measure(group: WorkloadGroup, body: Buffer): Promise<WorkloadResult[]> {
    const first = this.#nextFid;
    this.#nextFid += group.files;
    const url = (index: number) => `${this.#base}${fidPath(1, first + index)}`;
    const put = await runOps(group.files, group.concurrency, group.sizeBytes, async (index) => {
      const response = await request(url(index), {
        method: 'PUT',
        body,
        headers: { 'content-length': String(body.length) },
        dispatcher: this.#agent,
      });
      await drain(response.body);
      if (response.statusCode !== 200) throw new Error(`raw PUT: ${response.statusCode}`);
    });
    const get = await runOps(group.files, group.concurrency, group.sizeBytes, async (index) => {
      const response = await request(url(index), { dispatcher: this.#agent });
      const received = await drain(response.body);
      if (response.statusCode !== 200 || received !== body.length) {
        throw new Error(`raw GET: ${response.statusCode}, ${received} bytes`);
      }
    });
    const shape = { sizeBytes: group.sizeBytes, concurrency: group.concurrency };
    return [
      { operation: 'raw_put', ...shape, ...put },
      { operation: 'raw_get', ...shape, ...get },
    ];
  }

  async stop(): Promise<void> {
    await this.#agent.close();
    await this.process.stop();
    rmSync(this.#docroot, { recursive: true, force: true });
  }
}

/** Reads a body to its end (undici's dump() closes the socket past a limit); returns its bytes. */
export async function drain(body: AsyncIterable<Uint8Array>): Promise<number> {
  let bytes = 0;
  for await (const chunk of body) bytes += chunk.length;
  return bytes;
}
