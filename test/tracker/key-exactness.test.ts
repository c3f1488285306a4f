import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { backends } from '../helpers/meta-backends.js';
import { TrackerConnection } from '../helpers/tracker-connection.js';

/*
 * Keys are compared byte for byte (behaviour.md §15): `pad`, `pad ` and `PAD` are three
 * keys. MySQL and MariaDB compare by the column's collation instead, which ignores trailing
 * spaces (`utf8mb4_bin`) and, in databases made by the original, case. There a request for
 * one key must still never read, rename, delete or replace the file of another.
 */

async function body(url: string): Promise<string> {
  const response = await request(url);
  return response.body.text();
}

function keyArg(key: string): string {
  return encodeURIComponent(key);
}

async function store(cluster: TestCluster, key: string, content: string): Promise<string> {
  const open = await cluster.ok(`create_open domain=d&class=one&key=${keyArg(key)}`);
  const put = await request(open['path']!, { method: 'PUT', body: content });
  await put.body.dump();
  expect(put.statusCode).toBe(200);
  return cluster.request(
    `create_close domain=d&fid=${open['fid']}&devid=${open['devid']}&path=${open['path']}` +
      `&key=${keyArg(key)}&size=${Buffer.byteLength(content)}`,
  );
}

async function read(cluster: TestCluster, key: string): Promise<string> {
  const paths = await cluster.ok(`get_paths domain=d&key=${keyArg(key)}`);
  expect(paths['key']).toBe(key);
  return body(paths['path1']!);
}

async function invariantViolations(cluster: TestCluster): Promise<number> {
  const admin = await TrackerConnection.open(cluster.tracker.port);
  try {
    const stats = await admin.admin('!stats');
    return Number(/^invariant_violations (\d+)/m.exec(stats)?.[1] ?? 0);
  } finally {
    admin.close();
  }
}

for (const backend of backends()) {
  describe(`keys on ${backend.name}`, () => {
    let cluster: TestCluster;
    beforeAll(async () => {
      cluster = await startCluster({ nodes: 1, devicesPerNode: 1, classes: { one: 1 }, backend });
    }, 60_000);
    afterAll(async () => {
      await cluster?.stop();
    });

    it('keeps keys that differ in a trailing space or in case apart', async () => {
      for (const key of ['pad', 'pad ', 'PAD']) {
        expect(await store(cluster, key, `bytes of [${key}]`)).toMatch(/^OK/);
      }
      for (const key of ['pad', 'pad ', 'PAD']) {
        expect(await read(cluster, key)).toBe(`bytes of [${key}]`);
      }
      await cluster.ok(`rename domain=d&from_key=${keyArg('pad ')}&to_key=moved`);
      await cluster.ok(`delete domain=d&key=PAD`);
      expect(await read(cluster, 'pad')).toBe('bytes of [pad]');
      expect(await read(cluster, 'moved')).toBe('bytes of [pad ]');
      expect(await cluster.request(`get_paths domain=d&key=${keyArg('pad ')}`)).toMatch(
        /^ERR unknown_key /,
      );
      expect(await invariantViolations(cluster)).toBe(0);
    });
  });
}

const mysql = backends().find((backend) => backend.name === 'mysql');

describe.runIf(mysql)(
  'keys on a MySQL database whose key column ignores case and trailing spaces',
  () => {
    let cluster: TestCluster;
    beforeAll(async () => {
      cluster = await startCluster({
        nodes: 1,
        devicesPerNode: 1,
        classes: { one: 1 },
        backend: mysql!,
      });
      // As in a database made by the original: MySQL's default, case-insensitive collation.
      await mysql!.exec(cluster.databaseUrl!, [
        'ALTER TABLE file MODIFY dkey VARCHAR(255) COLLATE utf8mb4_general_ci',
        'ALTER TABLE tempfile MODIFY dkey VARCHAR(255) COLLATE utf8mb4_general_ci',
      ]);
      expect(await store(cluster, 'foo', 'the bytes of foo')).toMatch(/^OK/);
    }, 60_000);
    afterAll(async () => {
      await cluster?.stop();
    });

    it('answers unknown_key for another spelling of a stored key', async () => {
      for (const key of ['foo ', 'FOO', 'Foo  ']) {
        for (const command of ['get_paths', 'file_info', 'delete']) {
          expect(await cluster.request(`${command} domain=d&key=${keyArg(key)}`)).toMatch(
            /^ERR unknown_key /,
          );
        }
        expect(
          await cluster.request(`rename domain=d&from_key=${keyArg(key)}&to_key=elsewhere`),
        ).toMatch(/^ERR unknown_key /);
      }
      expect(await read(cluster, 'foo')).toBe('the bytes of foo');
      expect(await invariantViolations(cluster)).toBe(0);
    });

    it('refuses to store a key the database takes for another, and keeps the other', async () => {
      const reply = await store(cluster, 'FOO ', 'would replace foo');
      expect(reply).toMatch(/^ERR key_exists /);
      expect(decodeURIComponent(reply.replaceAll('+', ' '))).toContain('existing key foo');
      expect(await read(cluster, 'foo')).toBe('the bytes of foo');
      // The refused upload is not left behind: its fid waits for deletion, not in tempfile.
      expect(await cluster.request(`file_info domain=d&key=${keyArg('FOO ')}`)).toMatch(
        /^ERR unknown_key /,
      );
    });
  },
);
