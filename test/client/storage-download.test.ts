import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { text } from 'node:stream/consumers';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MogileClientError } from '../../src/client/errors.js';
import { downloadFirstGood, type ExpectedFile } from '../../src/client/storage-download.js';
import { closedPort } from './fake-tracker.js';

const GOOD = Buffer.from('the right bytes '.repeat(100));
const BAD = Buffer.from(GOOD).fill(0x41, 10, 11);
const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');

let server: Server;
let base: string;
const agent = new Agent();

beforeAll(async () => {
  // /good, /bad (rotten, no digest header), /bad-labelled (node says its digest differs),
  // /error (500), /short (fewer bytes than the tracker recorded), /cut (the node fails
  // mid-body).
  server = createServer((req, res) => {
    if (req.url === '/good') res.writeHead(200, { 'x-mogile-md5': md5(GOOD) }).end(GOOD);
    else if (req.url === '/bad') res.writeHead(200).end(BAD);
    else if (req.url === '/bad-labelled') res.writeHead(200, { 'x-mogile-md5': md5(BAD) }).end(BAD);
    else if (req.url === '/short') res.writeHead(200).end(GOOD.subarray(1));
    else if (req.url === '/cut') {
      res.writeHead(200, { 'content-length': String(GOOD.length) });
      res.write(GOOD.subarray(0, 100), () => res.destroy());
    } else res.writeHead(500).end('boom');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await agent.close();
  server.close();
});

const known: ExpectedFile = {
  domain: 'd',
  key: 'k',
  lengthBytes: GOOD.length,
  checksum: { algorithm: 'MD5', hex: md5(GOOD) },
};

async function read(paths: string[], mode: 'buffer' | 'stream', file = known, before = 1 << 20) {
  const result = await downloadFirstGood(agent, paths, file, mode, {
    verifyBeforeStreamBytes: before,
  });
  return Buffer.isBuffer(result) ? result.toString() : await text(result);
}

async function failure(promise: Promise<unknown>): Promise<MogileClientError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(MogileClientError);
    return error as MogileClientError;
  }
  throw new Error('expected a rejection');
}

describe('downloadFirstGood', () => {
  it.each(['buffer', 'stream'] as const)(
    'skips failed, short and corrupt copies in %s mode',
    async (mode) => {
      const dead = `http://${await closedPort()}/x`;
      const paths = [dead, `${base}/error`, `${base}/short`, `${base}/bad`, `${base}/good`];
      expect(await read(paths, mode)).toBe(GOOD.toString());
    },
  );

  it('skips a copy whose node digest disagrees with the tracker before reading it', async () => {
    expect(await read([`${base}/bad-labelled`, `${base}/good`], 'stream', known, 1)).toBe(
      GOOD.toString(),
    );
  });

  it("uses the node's digest when the tracker knows none", async () => {
    const unknown = { ...known, checksum: undefined };
    expect(await read([`${base}/bad-labelled`], 'buffer', unknown)).toBe(BAD.toString());
    expect(await read([`${base}/good`], 'buffer', unknown)).toBe(GOOD.toString());
  });

  it('fails with ECHECKSUM_MISMATCH when every copy is corrupt', async () => {
    const error = await failure(read([`${base}/bad`, `${base}/bad`], 'buffer'));
    expect(error.code).toBe('ECHECKSUM_MISMATCH');
  });

  it('a node failing mid-stream errors the stream with ESTORAGE naming the copy', async () => {
    const error = await failure(read([`${base}/cut`, `${base}/good`], 'stream', known, 1));
    expect(error.code).toBe('ESTORAGE');
    expect(error.message).toContain(`${base}/cut`);
  });

  it('a large stream cannot fall back once bytes went out: the stream itself errors', async () => {
    const error = await failure(read([`${base}/bad`, `${base}/good`], 'stream', known, 1));
    expect(error.code).toBe('ECHECKSUM_MISMATCH');
    expect(error.message).toContain('already delivered');
  });

  it('fails with ESTORAGE when no copy answers and ENO_PATHS without paths', async () => {
    expect((await failure(read([`${base}/error`], 'buffer'))).code).toBe('ESTORAGE');
    expect((await failure(read([], 'buffer'))).code).toBe('ENO_PATHS');
  });
});
