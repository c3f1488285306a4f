import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  makeDocroot,
  type NodeProcess,
  rawRequest,
  removeDocroot,
  sideClient,
  startNode,
  storageTranscript,
} from './node-harness.js';

/**
 * Replays every storage record of the original mogstored (spec/transcripts/storage.jsonl)
 * in order against our node and compares what the README calls stable: status codes,
 * Content-Range, Content-Length, Content-Type, side-channel lines. Records where we
 * deliberately differ say what we do instead.
 */
const OURS: Record<string, { status: number; contentRange?: string; body?: string }> = {
  // RFC 9110 suffix range: the last 4 bytes (Perlbal answered 0-4, a bug).
  'http.range_suffix': { status: 206, contentRange: 'bytes 40-43/44', body: 'dog\n' },
  // README quirk 9: no Content-Length and not chunked is refused, not stored empty.
  'http.put_no_length': { status: 411 },
  'http.get_no_length': { status: 404 },
  // README quirk 8: a cut-short upload leaves no file behind.
  'http.get_short_disconnect': { status: 404 },
  // MKCOL is implemented (spec §3.6 allows it): 201 when created, 200 when it existed.
  'http.mkcol': { status: 201 },
  'http.mkcol_existing': { status: 200 },
  'http.mkcol_nested': { status: 201 },
  'http.mkcol_noslash': { status: 201 },
  // MOVE is implemented for edit_file (spec §3.5 allows it).
  'http.move': { status: 201 },
  'http.get_moved': { status: 200, body: '.' },
};
/** Records whose Content-Length is of an HTML page or usage figures we word differently. */
const OWN_LENGTH = new Set(['http.get_usage', 'http.get_usage_dblslash', 'http.put_good_md5']);

describe('transcript replay (storage.jsonl)', () => {
  let docroot: string;
  let node: NodeProcess;
  const records = [...storageTranscript().values()];

  beforeAll(async () => {
    docroot = makeDocroot([1, 2]);
    node = await startNode(docroot);
  });
  afterAll(async () => {
    await node.stop();
    removeDocroot(docroot);
  });

  it('has the transcript fixture', () => {
    expect(records.length).toBeGreaterThan(50);
  });

  it('answers every HTTP record as the original did, or as we documented', async () => {
    let compared = 0;
    for (const record of records.filter((r) => r.id.startsWith('http.'))) {
      const raw = record.request.replace(
        'Host: 127.0.0.1:7500',
        `Host: 127.0.0.1:${node.http.port}`,
      );
      // The binary PUT's body is recorded as a base64 placeholder.
      const binary = /<256 binary bytes, base64: ([^>]+)>$/.exec(raw);
      const bytes = binary
        ? Buffer.concat([
            Buffer.from(raw.slice(0, binary.index), 'latin1'),
            Buffer.from(binary[1]!, 'base64'),
          ])
        : Buffer.from(raw, 'latin1');
      if (record.id === 'http.put_short_disconnect') {
        await sendAndHangUp(node, bytes);
        continue;
      }
      const response = await rawRequest(node.http, bytes);
      const ours = OURS[record.id];
      const context = `${record.id}: ${record.request.split('\r\n')[0]}`;
      if (ours) {
        expect(response.status, context).toBe(ours.status);
        if (ours.contentRange)
          expect(response.headers['content-range'], context).toBe(ours.contentRange);
        if (ours.body !== undefined) expect(response.body.toString(), context).toBe(ours.body);
        continue;
      }
      expect(response.status, context).toBe(record.status);
      for (const header of ['content-range', 'content-type'] as const) {
        expect(response.headers[header], `${context} ${header}`).toBe(record.headers?.[header]);
      }
      if (!OWN_LENGTH.has(record.id) && record.status !== 204) {
        expect(response.headers['content-length'], `${context} length`).toBe(
          record.headers?.['content-length'],
        );
      }
      const isFileBody = record.headers?.['content-type'] === 'text/plain';
      if (isFileBody && !OWN_LENGTH.has(record.id)) {
        const expected = Buffer.from(record.body ?? '', record.body_encoding ?? 'utf8');
        expect(response.body.equals(expected), `${context} body`).toBe(true);
      }
      compared++;
    }
    expect(compared).toBeGreaterThan(30);
  });

  it('answers every side-channel record with the same lines', async () => {
    // The side records refer to fid 90002 holding "short\n" (after http.put_overwrite).
    for (const record of records.filter((r) => r.id.startsWith('side.'))) {
      const client = await sideClient(node.side);
      client.send(record.request);
      if (record.id === 'side.watch') {
        const round = await client.read(1, '.\n');
        expect(round).toMatch(/^1\t(-|\d+\.\d\d)\n2\t(-|\d+\.\d\d)\n\.\n$/);
      } else {
        const lines = record.reply!.split('\r\n').length - 1;
        expect(await client.read(lines), record.id).toBe(record.reply);
      }
      client.close();
    }
  });
});

/** Sends part of an upload, waits until the server has read it, then resets the connection. */
function sendAndHangUp(node: NodeProcess, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(node.http.port, node.http.host, () => {
      socket.write(bytes, () => {
        // Give the server the bytes; then hang up without sending the rest.
        socket.resetAndDestroy();
      });
    });
    socket.on('error', reject);
    socket.on('close', () => resolve());
  });
}
