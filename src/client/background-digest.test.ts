import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BACKGROUND_DIGEST_BYTES, bodyDigest } from './background-digest.js';

const MIB = 1024 * 1024;

async function digestInPieces(algorithm: 'MD5' | 'SHA-1', body: Buffer, pieceBytes: number) {
  const digest = bodyDigest(algorithm, body.length);
  let waits = 0;
  for (let offset = 0; offset < body.length; offset += pieceBytes) {
    const caughtUp = digest.update(body.subarray(offset, offset + pieceBytes));
    if (caughtUp) {
      waits += 1;
      await caughtUp;
    }
  }
  return { hex: await digest.hex(), waits };
}

describe('bodyDigest', () => {
  it('gives the same digests inline and on the worker', async () => {
    const small = randomBytes(BACKGROUND_DIGEST_BYTES - 1);
    const large = randomBytes(3 * MIB + 17);
    for (const [algorithm, node] of [
      ['MD5', 'md5'],
      ['SHA-1', 'sha1'],
    ] as const) {
      for (const body of [small, large]) {
        const { hex } = await digestInPieces(algorithm, body, 64 * 1024);
        expect(hex).toBe(createHash(node).update(body).digest('hex'));
      }
    }
  });

  it('keeps concurrent bodies apart', async () => {
    const bodies = [randomBytes(2 * MIB), randomBytes(2 * MIB + 1), randomBytes(5 * MIB)];
    const hexes = await Promise.all(
      bodies.map(async (body) => (await digestInPieces('MD5', body, 100_000)).hex),
    );
    expect(hexes).toEqual(bodies.map((body) => createHash('md5').update(body).digest('hex')));
  });

  it('makes a reader wait when hashing lags, and lets it go on', async () => {
    // 64 MiB handed over in 4 MiB pieces without pause outruns any MD5.
    const body = Buffer.alloc(64 * MIB, 7);
    const { hex, waits } = await digestInPieces('MD5', body, 4 * MIB);
    expect(waits).toBeGreaterThan(0);
    expect(hex).toBe(createHash('md5').update(body).digest('hex'));
  });

  it('a dropped body does not disturb the next', async () => {
    const dropped = bodyDigest('MD5', 4 * MIB);
    dropped.update(randomBytes(MIB));
    dropped.drop();
    const body = randomBytes(2 * MIB);
    expect((await digestInPieces('MD5', body, MIB)).hex).toBe(
      createHash('md5').update(body).digest('hex'),
    );
  });
});
