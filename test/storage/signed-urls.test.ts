import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signatureQuery } from '../../src/protocol/storage-signature.js';
import {
  http10,
  makeDocroot,
  type NodeProcess,
  rawRequest,
  removeDocroot,
  startNode,
} from './node-harness.js';

const SECRET = 'node-test-secret-0123456789';
const FID = '/dev1/0/000/000/0000000077.fid';

const now = () => Math.floor(Date.now() / 1000);
function sign(path: string, scope: 'r' | 'w', expiresAt = now() + 60, secret = SECRET): string {
  return `${path}?${signatureQuery(secret, path, scope, expiresAt)}`;
}

/** docs/security.md: a node with a secret refuses unsigned and expired writes with 403. */
describe('signed storage URLs', () => {
  let docroot: string;
  let node: NodeProcess;
  let strict: NodeProcess;

  beforeAll(async () => {
    docroot = makeDocroot([1]);
    writeFileSync(join(docroot, 'dev1', 'plain.txt'), 'readable');
    node = await startNode(docroot, ['--secret', SECRET]);
    strict = await startNode(docroot, ['--secret', SECRET, '--secret-applies-to-get']);
  });
  afterAll(async () => {
    await node.stop();
    await strict.stop();
    removeDocroot(docroot);
  });

  it('refuses unsigned, expired, read-scoped and foreign writes with 403, writing nothing', async () => {
    const refused = [
      FID,
      sign(FID, 'w', now() - 5),
      sign(FID, 'r'),
      sign(FID, 'w', now() + 60, 'another-secret-entirely'),
      sign('/dev1/0/000/000/0000000078.fid', 'w').replace('78.fid', '77.fid'),
      `${FID}?expires=9999999999&scope=w&signature=${'A'.repeat(43)}`,
    ];
    for (const target of refused) {
      for (const method of ['PUT', 'DELETE', 'MKCOL']) {
        const response = await rawRequest(node.http, http10(method, target, 'x'));
        expect(response.status, `${method} ${target}`).toBe(403);
      }
    }
    expect(readdirSync(join(docroot, 'dev1'))).not.toContain('0');
  });

  it('accepts signed writes; reads stay open unless the node says otherwise', async () => {
    const put = await rawRequest(node.http, http10('PUT', sign(FID, 'w'), 'signed body'));
    expect(put.status).toBe(200);
    // An absolute-URI target is checked on its path too.
    const absolute = await rawRequest(
      node.http,
      http10('PUT', `http://example.invalid${sign(FID, 'w')}`, 'signed body'),
    );
    expect(absolute.status).toBe(200);
    const read = await rawRequest(node.http, http10('GET', FID));
    expect(read.status).toBe(200);
    expect(read.body.toString()).toBe('signed body');

    expect((await rawRequest(strict.http, http10('GET', FID))).status).toBe(403);
    expect((await rawRequest(strict.http, http10('HEAD', FID))).status).toBe(403);
    expect((await rawRequest(strict.http, http10('GET', sign(FID, 'r', now() - 1)))).status).toBe(
      403,
    );
    const signedRead = await rawRequest(strict.http, http10('GET', sign(FID, 'r')));
    expect(signedRead.status).toBe(200);
    expect(signedRead.body.toString()).toBe('signed body');
    // Monitors and `mogadm check` read these unsigned; they hold no file data.
    expect((await rawRequest(strict.http, http10('GET', '/dev1/usage'))).status).toBe(200);
    expect((await rawRequest(strict.http, http10('GET', '/'))).status).toBe(200);
    expect((await rawRequest(strict.http, http10('GET', '/dev1/plain.txt'))).status).toBe(403);

    expect((await rawRequest(node.http, http10('DELETE', sign(FID, 'r')))).status).toBe(403);
    expect((await rawRequest(node.http, http10('DELETE', sign(FID, 'w')))).status).toBe(204);
  });

  it('still refuses traversal when the traversing path carries a valid signature', async () => {
    // A signature binds the path as sent, so an attacker who can get any path signed still
    // cannot leave the docroot: the path rules run after the signature check.
    const writes = [
      '/dev1/../dev1/0/x.fid',
      '/dev1/%2e%2e/x.fid',
      '/dev1/0/x..fid',
      '/dev1/..%2F..%2Fetc/written',
      '//dev1/0/x.fid',
      '/dev1/./x.fid',
      '/dev1/0/a%00b',
    ];
    for (const target of writes) {
      for (const method of ['PUT', 'DELETE', 'MKCOL']) {
        const response = await rawRequest(node.http, http10(method, sign(target, 'w'), 'x'));
        expect(response.status, `${method} ${target}`).toBe(400);
      }
    }
    const reads = [
      '/../../../../etc/hostname',
      '/dev1/0/../usage',
      '/%2e%2e/%2e%2e/etc/hostname',
      '/dev1/%2E%2E/%2E%2E/etc/hostname',
    ];
    for (const target of reads) {
      for (const method of ['GET', 'HEAD']) {
        const response = await rawRequest(strict.http, http10(method, sign(target, 'r')));
        expect(response.status, `${method} ${target}`).toBe(403);
        expect(response.body.toString()).not.toMatch(/root|localhost/);
      }
    }
    expect(readdirSync(join(docroot, 'dev1')).sort()).toEqual([
      '.mogile-tmp',
      '0',
      'plain.txt',
      'usage',
    ]);
  });

  it('refuses to start with a short secret', async () => {
    await expect(startNode(docroot, ['--secret', 'short'])).rejects.toThrow(/secret/);
  });
});
