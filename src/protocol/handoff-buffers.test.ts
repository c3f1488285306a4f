import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HANDOFF_BYTES, HandoffBuffers, HandoffPacker } from './handoff-buffers.js';

function collect(buffers = new HandoffBuffers()) {
  const sent: { buffer: ArrayBuffer; bytes: number }[] = [];
  const packer = new HandoffPacker(buffers, (buffer, bytes) => sent.push({ buffer, bytes }));
  const received = () =>
    Buffer.concat(sent.map(({ buffer, bytes }) => new Uint8Array(buffer, 0, bytes)));
  return { sent, packer, received };
}

describe('HandoffPacker', () => {
  it('packs pieces of any size into whole buffers, the rest on flush', () => {
    const { sent, packer, received } = collect();
    const pieces = [1, 65_536, HANDOFF_BYTES, 3, 2 * HANDOFF_BYTES + 17].map((n) => randomBytes(n));
    for (const piece of pieces) packer.add(piece);
    expect(sent.every(({ bytes }) => bytes === HANDOFF_BYTES)).toBe(true);
    packer.flush();
    packer.flush();
    expect(received().equals(Buffer.concat(pieces))).toBe(true);
    expect(sent.at(-1)!.bytes).toBe(Buffer.concat(pieces).length % HANDOFF_BYTES);
  });

  it('copies: the caller may overwrite its bytes at once', () => {
    const { packer, received } = collect();
    const piece = Buffer.from('original');
    packer.add(piece);
    piece.fill('x');
    packer.flush();
    expect(received().toString()).toBe('original');
  });

  it('refills buffers given back, counting only the new bytes', () => {
    const buffers = new HandoffBuffers();
    const first = collect(buffers);
    first.packer.add(Buffer.alloc(HANDOFF_BYTES, 'a'));
    const returned = first.sent[0]!.buffer;
    buffers.give(returned);
    const second = collect(buffers);
    second.packer.add(Buffer.from('bb'));
    second.packer.flush();
    expect(second.sent[0]!.buffer).toBe(returned);
    expect(second.received().toString()).toBe('bb');
  });
});
