import { createHash } from 'node:crypto';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fidPath } from '../../src/protocol/fid-path.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { backends } from '../helpers/meta-backends.js';
import { waitFor } from '../helpers/wait-for.js';

for (const backend of backends()) {
  describe(`file commands on ${backend.name}`, () => {
    let cluster: TestCluster;
    beforeAll(async () => {
      cluster = await startCluster({
        nodes: 3,
        devicesPerNode: 2,
        classes: { two: 2, one: 1 },
        backend,
      });
    }, 60_000);
    afterAll(async () => {
      await cluster?.stop();
    });

    const md5 = (data: string | Buffer) => createHash('md5').update(data).digest('hex');

    async function put(url: string, body: string | Buffer): Promise<number> {
      const response = await request(url, { method: 'PUT', body });
      await response.body.dump();
      return response.statusCode;
    }

    async function err(line: string): Promise<{ code: string; text: string }> {
      const reply = await cluster.request(line);
      const match = /^ERR (\w+) (\S*)/.exec(reply);
      if (!match) throw new Error(`expected ERR for ${line}, got ${reply}`);
      return { code: match[1]!, text: decodeURIComponent(match[2]!.replaceAll('+', ' ')) };
    }

    /** create_open + PUT + create_close; returns the fid. */
    async function store(key: string, body: string, extra = ''): Promise<number> {
      const open = await cluster.ok(
        `create_open domain=d&class=two&key=${encodeURIComponent(key)}&multi_dest=1`,
      );
      expect(await put(open['path_1']!, body)).toBe(200);
      await cluster.ok(
        `create_close domain=d&fid=${open['fid']}&devid=${open['devid_1']}&path=${open['path_1']}` +
          `&key=${encodeURIComponent(key)}&size=${Buffer.byteLength(body)}${extra}`,
      );
      return Number(open['fid']);
    }

    describe('a file through its life', () => {
      it('stores, reads, renames, reclasses and deletes', async () => {
        const open = await cluster.ok('create_open domain=d&class=two&key=life&multi_dest=1');
        expect(Number(open['dev_count'])).toBe(3);
        const hosts = [1, 2, 3].map(
          (i) => cluster.deviceNode.get(Number(open[`devid_${i}`]))!.http.port,
        );
        expect(new Set(hosts).size).toBe(3);
        expect(await put(open['path_1']!, 'hello world')).toBe(200);
        await cluster.ok(
          `create_close domain=d&fid=${open['fid']}&devid=${open['devid_1']}&path=${open['path_1']}` +
            `&key=life&size=11&checksum=MD5:${md5('hello world')}`,
        );

        const paths = await cluster.ok('get_paths domain=d&key=life');
        expect(paths).toMatchObject({ paths: '1', domain: 'd', key: 'life', fid: open['fid'] });
        const body = await (await request(paths['path1']!)).body.text();
        expect(body).toBe('hello world');

        // create_close queued the fid and woke the replicator: the class's second copy follows.
        const info = await waitFor('the second copy', async () => {
          const reply = await cluster.ok('file_info domain=d&key=life&devices=1');
          return reply['devcount'] === '2' ? reply : undefined;
        });
        expect(info).toMatchObject({
          fid: open['fid'],
          domain: 'd',
          class: 'two',
          key: 'life',
          length: '11',
        });
        const devids = info['devids']!.split(',').sort();
        expect(devids).toContain(open['devid_1']);
        const debug = await cluster.ok('file_debug domain=d&key=life');
        expect(debug).toMatchObject({
          fid_fid: open['fid'],
          fid_dkey: 'life',
          fid_class: 'two',
          checksum: `MD5:${md5('hello world')}`,
        });
        expect(debug['devids']!.split(',').sort()).toEqual(devids);

        expect(await cluster.request('rename domain=d&from_key=life&to_key=life2')).toBe('OK \r\n');
        expect((await err('get_paths domain=d&key=life')).code).toBe('unknown_key');
        expect(await cluster.request('updateclass domain=d&key=life2&class=one')).toBe('OK \r\n');
        expect(await cluster.ok('file_info domain=d&key=life2')).toMatchObject({ class: 'one' });
        expect(await cluster.request('delete domain=d&key=life2')).toBe('OK \r\n');
        expect((await err('delete domain=d&key=life2')).code).toBe('unknown_key');
        // The delete worker removes the copies, then the queue row.
        await waitFor('the copies deleted', async () => {
          const debug = await cluster.ok(`file_debug fid=${open['fid']}`);
          const gone = debug['devids'] === undefined && debug['delqueue_fid'] === undefined;
          return gone ? true : undefined;
        });
        for (const devid of devids) {
          const node = cluster.deviceNode.get(Number(devid))!;
          const url = `http://127.0.0.1:${node.http.port}${fidPath(Number(devid), Number(open['fid']))}`;
          expect((await request(url, { method: 'HEAD' })).statusCode).toBe(404);
        }
      });

      it('gives the single-destination reply without multi_dest', async () => {
        const open = await cluster.ok('create_open domain=d&key=single');
        expect(Object.keys(open).sort()).toEqual(['devid', 'fid', 'path']);
        expect(open['path']).toMatch(new RegExp(`/dev${open['devid']}/0/000/000/\\d{10}\\.fid$`));
      });

      it('overwriting a key queues the old fid for deletion', async () => {
        const first = await store('over', 'one');
        const second = await store('over', 'two!');
        expect(second).toBeGreaterThan(first);
        expect(await cluster.ok('file_info domain=d&key=over')).toMatchObject({
          fid: String(second),
          length: '4',
        });
        expect(await cluster.ok(`file_debug fid=${first}`)).toMatchObject({
          delqueue_fid: String(first),
        });
      });

      it('file_debug explains the replication policy and what it asks for', async () => {
        const fid = await store('explained', 'why');
        const debug = await cluster.ok(`file_debug fid=${fid}`);
        expect(debug['repl_policy']).toBe('MultipleHosts()');
        expect(['all_good', 'request']).toContain(debug['repl_verdict']);
        if (debug['repl_verdict'] === 'request') {
          // One copy so far: the ideal destinations are devices on the other hosts.
          const holder = cluster.deviceNode.get(Number(debug['devids']));
          const ideal = debug['repl_ideal']!.split(',').map(Number);
          expect(ideal.length).toBeGreaterThan(0);
          for (const devid of ideal) expect(cluster.deviceNode.get(devid)).not.toBe(holder);
        }
      });

      it('records an MD5 for every file, whatever its class', async () => {
        const fid = await store('summed', 'abc');
        expect(await cluster.ok(`file_debug fid=${fid}`)).toMatchObject({
          checksum: `MD5:${md5('abc')}`,
        });
      });
    });

    describe('edit_file', () => {
      it('hands out a new fid on a device holding a copy, and the close replaces the old fid', async () => {
        const oldFid = await store('editme', 'version one');
        const edit = await cluster.ok('edit_file domain=d&key=editme');
        const devid = edit['devid']!;
        expect(Number(edit['fid'])).toBeGreaterThan(oldFid);
        expect(edit['class']).toBe('1');
        expect(edit['oldpath']).toMatch(
          new RegExp(`/dev${devid}/.*/${String(oldFid).padStart(10, '0')}\\.fid$`),
        );
        expect(edit['newpath']).toMatch(
          new RegExp(`/dev${devid}/.*/${edit['fid']!.padStart(10, '0')}\\.fid$`),
        );
        // The copy's row followed it to the new fid.
        expect(await cluster.ok(`file_debug fid=${edit['fid']}`)).toMatchObject({
          devids: devid,
        });
        expect(await put(edit['newpath']!, 'version two')).toBe(200);
        await cluster.ok(
          `create_close domain=d&fid=${edit['fid']}&devid=${edit['devid']}&path=${edit['newpath']}&key=editme&size=11`,
        );
        expect(await cluster.ok('file_info domain=d&key=editme')).toMatchObject({
          fid: edit['fid'],
        });
        // The old fid's row is gone and it was queued for deletion; the delete worker may
        // already have run (nothing to delete: its copy row moved to the new fid).
        const old = await cluster.ok(`file_debug fid=${oldFid}`);
        expect(old['fid_fid']).toBeUndefined();
        if (old['delqueue_fid'] !== undefined) expect(old['delqueue_fid']).toBe(String(oldFid));
        // A second copy the replicator made of the old fid waits for the delete worker.
        if (old['devids'] !== undefined) {
          expect(old['devids'].split(',')).not.toContain(devid);
          expect(old['delqueue_fid']).toBe(String(oldFid));
        }
        expect((await err('edit_file domain=d&key=nope')).code).toBe('unknown_key');
      });
    });

    describe('create_open and create_close refuse bad input', () => {
      it('unknown domain, class, missing domain and over-long keys', async () => {
        expect((await err('create_open key=k')).code).toBe('no_domain');
        expect((await err('create_open domain=nope&key=k')).code).toBe('unreg_domain');
        expect((await err('create_open domain=d&class=nope&key=k')).code).toBe('unreg_class');
        expect((await err(`create_open domain=d&key=${'k'.repeat(256)}`)).code).toBe(
          'key_too_long',
        );
        expect((await err('create_open domain=d&key=k&size=999999999999999')).code).toBe(
          'no_devices',
        );
      });

      it('explicit fids: a fresh one is used, a taken one is refused', async () => {
        const open = await cluster.ok('create_open domain=d&key=kf&fid=900000');
        expect(open['fid']).toBe('900000');
        expect((await err('create_open domain=d&key=kf&fid=900000')).code).toBe('fid_in_use');
      });

      it('checks arguments in the original order', async () => {
        const open = await cluster.ok('create_open domain=d&key=args');
        const path = open['path'];
        expect((await err(`create_close fid=1&devid=1&path=${path}&key=k`)).code).toBe('no_domain');
        expect((await err(`create_close domain=d&devid=1&path=${path}&key=k`)).code).toBe('no_fid');
        expect((await err(`create_close domain=d&fid=1&path=${path}&key=k`)).code).toBe('no_devid');
        expect((await err('create_close domain=d&fid=1&devid=1&key=k')).code).toBe('no_path');
        expect(
          (await err(`create_close domain=d&fid=1&devid=1&path=${path}&checksum=MD5:xyz`)).code,
        ).toBe('invalid_checksum_format');
        expect(
          (
            await err(
              `create_close domain=d&fid=${open['fid']}&devid=${open['devid']}&path=http://x/y&key=k`,
            )
          ).code,
        ).toBe('bogus_args');
        expect(
          (
            await err(
              'create_close domain=d&fid=12345678&devid=1&path=http://127.0.0.1:1/x.fid&key=k',
            )
          ).code,
        ).toBe('bogus_args');
      });

      it('a fid never opened, or closed twice, has no tempfile', async () => {
        const open = await cluster.ok('create_open domain=d&key=twice');
        await put(open['path']!, 'x');
        const close = `create_close domain=d&fid=${open['fid']}&devid=${open['devid']}&path=${open['path']}&key=twice`;
        expect(await cluster.request(close)).toBe('OK \r\n');
        expect(await err(close)).toEqual({
          code: 'no_temp_file',
          text: 'No tempfile or file already closed',
        });
      });

      it('a size mismatch abandons the upload and binds nothing', async () => {
        const open = await cluster.ok('create_open domain=d&key=short');
        await put(open['path']!, 'abc');
        const reply = await err(
          `create_close domain=d&fid=${open['fid']}&devid=${open['devid']}&path=${open['path']}&key=short&size=5`,
        );
        expect(reply).toEqual({
          code: 'size_mismatch',
          text: `Expected: 5; actual: 3; path: ${open['path']}`,
        });
        expect((await err('get_paths domain=d&key=short')).code).toBe('unknown_key');
        expect(await cluster.ok(`file_debug fid=${open['fid']}`)).toMatchObject({
          delqueue_fid: open['fid'],
          devids: open['devid'],
        });
      });

      it('a missing upload, a wrong device and a wrong checksum are refused', async () => {
        const missing = await cluster.ok('create_open domain=d&key=missing');
        const reply = await err(
          `create_close domain=d&fid=${missing['fid']}&devid=${missing['devid']}&path=${missing['path']}&key=missing&size=3`,
        );
        expect(reply.code).toBe('size_verify_error');
        expect(reply.text).toContain(`Expected: 3; actual: 0 (missing); path: ${missing['path']}`);

        const open = await cluster.ok('create_open domain=d&key=dest');
        const other = [...cluster.deviceNode.keys()].find(
          (devid) => String(devid) !== open['devid'],
        )!;
        const otherPath = open['path']!.replace(`/dev${open['devid']}/`, `/dev${other}/`).replace(
          /:\d+\//,
          `:${cluster.deviceNode.get(other)!.http.port}/`,
        );
        expect(
          await err(
            `create_close domain=d&fid=${open['fid']}&devid=${other}&path=${otherPath}&key=dest`,
          ),
        ).toEqual({
          code: 'invalid_destdev',
          text: `File uploaded to invalid dest ${other}. Valid devices were: ${open['devid']}`,
        });

        const summed = await cluster.ok('create_open domain=d&key=badsum');
        await put(summed['path']!, 'hello');
        const wrong = '0'.repeat(32);
        const mismatch = await err(
          `create_close domain=d&fid=${summed['fid']}&devid=${summed['devid']}&path=${summed['path']}&key=badsum&checksum=MD5:${wrong}`,
        );
        expect(mismatch).toEqual({
          code: 'checksum_mismatch',
          text: `Expected: Checksum[f=${summed['fid']};MD5=${wrong}]; actual: MD5:${md5('hello')}; path: ${summed['path']}`,
        });
        expect((await err('get_paths domain=d&key=badsum')).code).toBe('unknown_key');
      });

      it('no key cancels the upload and succeeds', async () => {
        const open = await cluster.ok('create_open domain=d&key=cancel');
        await put(open['path']!, 'bytes');
        expect(
          await cluster.request(
            `create_close domain=d&fid=${open['fid']}&devid=${open['devid']}&path=${open['path']}`,
          ),
        ).toBe('OK \r\n');
        expect(await cluster.ok(`file_debug fid=${open['fid']}`)).toMatchObject({
          delqueue_fid: open['fid'],
        });
      });
    });

    describe('listing', () => {
      it('pages through keys in byte order with a literal prefix', async () => {
        for (const key of ['p/a', 'p/b', 'p/c', 'p/d', 'p.x', 'p%', 'p_y', 'P/upper', 'p/é'])
          await store(key, 'x');
        const all = await cluster.ok('list_keys domain=d&prefix=p/');
        expect(all).toEqual({
          key_count: '5',
          key_1: 'p/a',
          key_2: 'p/b',
          key_3: 'p/c',
          key_4: 'p/d',
          key_5: 'p/é',
          next_after: 'p/é',
        });
        expect(await cluster.ok('list_keys domain=d&prefix=p/&after=&limit=2')).toEqual({
          key_count: '2',
          key_1: 'p/a',
          key_2: 'p/b',
          next_after: 'p/b',
        });
        expect(await cluster.ok('list_keys domain=d&prefix=p/&after=p/b&limit=2')).toMatchObject({
          key_1: 'p/c',
          key_2: 'p/d',
        });
        expect((await err('list_keys domain=d&prefix=p/&after=p/é')).code).toBe('none_match');
        expect(await cluster.ok('list_keys domain=d&prefix=p%25')).toMatchObject({
          key_count: '1',
          key_1: 'p%',
        });
        expect(await cluster.ok('list_keys domain=d&prefix=p_')).toMatchObject({
          key_count: '1',
          key_1: 'p_y',
        });
        expect((await err('list_keys domain=d&prefix=p/&after=q')).code).toBe('after_mismatch');
        expect((await err('list_keys domain=d&prefix=zzz')).code).toBe('none_match');
        expect((await err('list_keys')).code).toBe('no_domain');
        expect((await err('list_keys domain=nope')).code).toBe('unreg_domain');
      });

      it('lists fids in order with the spec counts', async () => {
        const fids = await cluster.ok('list_fids from=0&to=2');
        expect(fids['fid_count']).toBe('2');
        expect(Number(fids['fid_2_fid'])).toBeGreaterThan(Number(fids['fid_1_fid']));
        expect(fids['fid_1_domain']).toBe('d');
        expect(await cluster.ok('list_fids from=999999999')).toEqual({ fid_count: '0' });
      });
    });

    describe('the other file commands refuse bad input', () => {
      it('answers with the spec codes', async () => {
        await store('k0', 'zero');
        expect((await err('get_paths domain=d')).code).toBe('no_key');
        expect((await err('get_paths key=k0')).code).toBe('no_domain');
        expect((await err('get_paths domain=nope&key=k0')).code).toBe('unreg_domain');
        expect(await err('get_paths domain=d&key=nope&callid=18')).toEqual({
          code: 'unknown_key',
          text: 'unknown_key',
        });
        expect((await err('file_info domain=d&key=nope')).code).toBe('unknown_key');
        expect((await err('file_debug domain=d&key=nope')).code).toBe('unknown_key');
        expect((await err('file_debug')).code).toBe('no_domain');
        expect(await cluster.ok('file_debug fid=987654321')).toEqual({ checksum: 'NONE' });
        expect((await err('rename domain=d&from_key=nope&to_key=x')).code).toBe('unknown_key');
        expect((await err('rename domain=d&from_key=k0')).code).toBe('no_key');
        await store('k1', 'one');
        expect((await err('rename domain=d&from_key=k0&to_key=k1')).code).toBe('key_exists');
        expect(await cluster.request('rename domain=d&from_key=k0&to_key=k0')).toBe('OK \r\n');
        expect((await err('updateclass domain=d&key=k0')).code).toBe('no_class');
        expect((await err('updateclass domain=d&key=k0&class=nope')).code).toBe('class_not_found');
        expect((await err('updateclass domain=d&key=nope&class=two')).code).toBe('invalid_key');
        expect((await err(`get_paths domain=d&key=${'k'.repeat(256)}`)).code).toBe('key_too_long');
      });

      it('serves the key 0 like any other', async () => {
        await store('0', 'zero');
        expect(await cluster.ok('get_paths domain=d&key=0&noverify=1')).toMatchObject({
          paths: '1',
          key: '0',
        });
      });
    });
  });
}
