import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CommandHarness, commandHarness } from '../helpers/command-harness.js';
import { backends } from '../helpers/meta-backends.js';

for (const backend of backends()) {
  describe(`namespace commands on ${backend.name}`, () => {
    let t: CommandHarness;
    beforeEach(async () => {
      t = await commandHarness({}, backend);
    });
    afterEach(async () => {
      await t.close();
    });

    describe('domains', () => {
      it('creates, lists and deletes a domain, with the default class synthesized', async () => {
        expect(await t.ok('create_domain domain=photos')).toEqual({ domain: 'photos' });
        expect(await t.ok('get_domains')).toEqual({
          domains: '1',
          domain1: 'photos',
          domain1classes: '1',
          domain1class1name: 'default',
          domain1class1mindevcount: '2',
          domain1class1replpolicy: 'MultipleHosts()',
          domain1class1hashtype: 'NONE',
          domain1class1durability: 'async',
        });
        expect(await t.ok('delete_domain domain=photos')).toEqual({ domain: 'photos' });
        expect(await t.ok('get_domains')).toEqual({ domains: '0' });
      });

      it('refuses duplicates and missing names, and finds no unknown domain', async () => {
        await t.ok('create_domain domain=d');
        expect(await t.err('create_domain domain=d')).toEqual({
          code: 'domain_exists',
          text: 'That domain already exists',
        });
        expect((await t.err('create_domain')).code).toBe('no_domain');
        expect((await t.err('create_domain domain=')).code).toBe('no_domain');
        expect((await t.err('delete_domain domain=nope')).code).toBe('domain_not_found');
        expect((await t.err('delete_domain')).code).toBe('no_domain');
      });

      it('lets a domain be named 0, unlike the original', async () => {
        expect(await t.ok('create_domain domain=0')).toEqual({ domain: '0' });
        expect(await t.ok('create_class domain=0&class=0&mindevcount=1')).toMatchObject({
          class: '0',
        });
        expect(await t.ok('delete_class domain=0&class=0')).toEqual({ domain: '0', class: '0' });
        expect(await t.ok('delete_domain domain=0')).toEqual({ domain: '0' });
      });

      it('round-trips names with reserved and non-ASCII characters', async () => {
        expect(await t.send('create_domain domain=my+dom%2Bx%26y%E2%82%AC')).toBe(
          'OK domain=my+dom%2Bx%26y%E2%82%AC\r\n',
        );
        expect(await t.ok('get_domains')).toMatchObject({ domain1: 'my dom+x&y€' });
      });

      it('refuses to delete a domain that still has classes', async () => {
        await t.ok('create_domain domain=d');
        await t.ok('create_class domain=d&class=c&mindevcount=2');
        expect(await t.err('delete_domain domain=d')).toEqual({
          code: 'domain_has_classes',
          text: 'domain_has_classes',
        });
      });

      it('refuses names longer than the schema holds instead of truncating them', async () => {
        expect((await t.err(`create_domain domain=${'x'.repeat(256)}`)).code).toBe('bad_params');
        expect(await t.ok(`create_domain domain=${'x'.repeat(255)}`)).toBeTruthy();
      });
    });

    describe('classes', () => {
      beforeEach(async () => {
        await t.ok('create_domain domain=d');
      });

      it('creates, updates and deletes a class', async () => {
        expect(await t.ok('create_class domain=d&class=c&mindevcount=3')).toEqual({
          class: 'c',
          mindevcount: '3',
          domain: 'd',
        });
        await t.ok(
          'update_class domain=d&class=c&mindevcount=1&hashtype=SHA-1&replpolicy=MultipleDevices()',
        );
        const domains = await t.ok('get_domains');
        expect(domains).toMatchObject({
          domain1classes: '2',
          domain1class2name: 'c',
          domain1class2mindevcount: '1',
          domain1class2hashtype: 'SHA-1',
          domain1class2replpolicy: 'MultipleDevices()',
        });
        await t.ok('update_class domain=d&class=c&mindevcount=1&hashtype=NONE');
        expect(await t.ok('get_domains')).toMatchObject({ domain1class2hashtype: 'NONE' });
        expect(await t.ok('delete_class domain=d&class=c')).toEqual({ domain: 'd', class: 'c' });
      });

      it('keeps durability=sync|async per class and refuses other values', async () => {
        const durability = async (name: string) => {
          const domains = await t.ok('get_domains');
          const [key] = Object.entries(domains).find(
            ([k, v]) => /^domain\d+class\d+name$/.test(k) && v === name,
          )!;
          return domains[key.replace(/name$/, 'durability')];
        };
        await t.ok('create_domain domain=dur');
        await t.ok('create_class domain=dur&class=safe&mindevcount=2&durability=sync');
        await t.ok('create_class domain=dur&class=fast&mindevcount=2');
        expect(await durability('fast')).toBe('async');
        expect(await durability('safe')).toBe('sync');
        // Changing another field keeps it; naming it changes it.
        await t.ok('update_class domain=dur&class=safe&mindevcount=3');
        expect(await durability('safe')).toBe('sync');
        await t.ok('update_class domain=dur&class=safe&mindevcount=3&durability=async');
        expect(await durability('safe')).toBe('async');
        for (const bad of ['SYNC', 'yes', '1']) {
          expect(
            await t.err(`create_class domain=dur&class=x&mindevcount=2&durability=${bad}`),
          ).toEqual({
            code: 'bad_params',
            text: `durability must be async or sync, not "${bad}"`,
          });
        }
        // A class created again under a deleted one's id starts from the defaults.
        await t.ok('update_class domain=dur&class=fast&mindevcount=2&durability=sync');
        await t.ok('delete_class domain=dur&class=fast');
        await t.ok('create_class domain=dur&class=again&mindevcount=2');
        expect(await durability('again')).toBe('async');
      });

      it('validates in the original order', async () => {
        expect((await t.err('create_class class=c&mindevcount=1')).code).toBe('no_domain');
        expect((await t.err('create_class domain=d&mindevcount=1')).code).toBe('no_class');
        expect((await t.err('create_class domain=d&class=c')).code).toBe('invalid_mindevcount');
        expect((await t.err('create_class domain=d&class=c&mindevcount=0')).code).toBe(
          'invalid_mindevcount',
        );
        expect((await t.err('create_class domain=d&class=c&mindevcount=-1')).code).toBe(
          'invalid_mindevcount',
        );
        expect((await t.err('create_class domain=d&class=c&mindevcount=256')).code).toBe(
          'invalid_mindevcount',
        );
        expect(
          (await t.err('create_class domain=d&class=c&mindevcount=1&replpolicy=Bogus()')).code,
        ).toBe('invalid_replpolicy');
        expect(
          (await t.err('create_class domain=d&class=c&mindevcount=1&hashtype=CRC32')).code,
        ).toBe('invalid_hashtype');
        expect((await t.err('create_class domain=nope&class=c&mindevcount=1')).code).toBe(
          'domain_not_found',
        );
      });

      it('reads mindevcount like Perl reads a number', async () => {
        expect(await t.ok('create_class domain=d&class=c&mindevcount=3x')).toMatchObject({
          mindevcount: '3',
        });
      });

      it('refuses duplicates and updates of unknown classes, except default', async () => {
        await t.ok('create_class domain=d&class=c&mindevcount=1');
        expect((await t.err('create_class domain=d&class=c&mindevcount=1')).code).toBe(
          'class_exists',
        );
        expect((await t.err('update_class domain=d&class=nope&mindevcount=1')).code).toBe(
          'class_not_found',
        );
        await t.ok('update_class domain=d&class=default&mindevcount=4');
        expect(await t.ok('get_domains')).toMatchObject({
          domain1class1name: 'default',
          domain1class1mindevcount: '4',
        });
        expect((await t.err('create_class domain=d&class=default&mindevcount=1')).code).toBe(
          'class_exists',
        );
        expect(await t.ok('create_class domain=d&class=c&mindevcount=2&update=1')).toMatchObject({
          mindevcount: '2',
        });
      });

      it('guards deletion', async () => {
        expect((await t.err('delete_class domain=d&class=default')).code).toBe(
          'nodel_default_class',
        );
        expect((await t.err('delete_class domain=nope&class=c')).code).toBe('domain_not_found');
        expect((await t.err('delete_class domain=d&class=nope')).code).toBe('class_not_found');
        expect((await t.err('delete_class domain=d')).code).toBe('class_not_found');
        expect((await t.err('delete_class class=c')).code).toBe('no_domain');
      });

      it('uses default_mindevcount for a synthesized default class', async () => {
        const other = await commandHarness({ defaultMindevcount: 3 }, backend);
        try {
          await other.ok('create_domain domain=d');
          expect(await other.ok('get_domains')).toMatchObject({ domain1class1mindevcount: '3' });
        } finally {
          await other.close();
        }
      });
    });

    describe('hosts', () => {
      it('creates a host down, replies with it, and updates fields', async () => {
        expect(await t.ok('create_host host=h1&ip=10.0.0.1&port=7500')).toEqual({
          hostid: '1',
          hostname: 'h1',
          host: 'h1',
        });
        await t.ok(
          'update_host host=h1&status=alive&getport=7600&altip=10.1.0.1&altmask=10.1.0.0/16',
        );
        expect(await t.ok('get_hosts')).toEqual({
          hosts: '1',
          host1_hostid: '1',
          host1_status: 'alive',
          host1_hostname: 'h1',
          host1_hostip: '10.0.0.1',
          host1_http_port: '7500',
          host1_http_get_port: '7600',
          host1_altip: '10.1.0.1',
          host1_altmask: '10.1.0.0/16',
        });
        expect(await t.ok('get_hosts hostid=1')).toMatchObject({ hosts: '1' });
        expect(await t.ok('get_hosts hostid=99')).toEqual({ hosts: '0' });
      });

      it('answers each bad input with the spec error', async () => {
        await t.ok('create_host host=h1&ip=10.0.0.1&port=7500');
        expect((await t.err('create_host host=h1&ip=10.0.0.2&port=7500')).code).toBe('host_exists');
        expect((await t.err('create_host ip=10.0.0.2&port=7500')).code).toBe('no_host');
        expect((await t.err('create_host host=h2&port=7500')).code).toBe('no_ip');
        expect((await t.err('create_host host=h2&ip=10.0.0.2')).code).toBe('no_port');
        expect((await t.err('create_host host=h2&ip=10.0.0.2&port=7500&status=sleepy')).code).toBe(
          'unknown_state',
        );
        expect((await t.err('update_host host=nope&status=dead')).code).toBe('host_not_found');
        expect((await t.err('update_host host=h1&status=sleepy')).code).toBe('unknown_state');
        expect((await t.err('create_host host=h2&ip=10.0.0.999&port=7500')).code).toBe(
          'bad_params',
        );
        expect((await t.err('create_host host=h2&ip=10.0.0.2&port=70000')).code).toBe('bad_params');
        expect((await t.err('update_host host=h1&altmask=bogus')).code).toBe('bad_params');
      });

      it('deletes only hosts without devices', async () => {
        await t.ok('create_host host=h1&ip=10.0.0.1&port=7500');
        await t.ok('create_device hostname=h1&devid=1');
        expect(await t.err('delete_host host=h1')).toEqual({
          code: 'host_not_empty',
          text: 'Unable to delete host; it contains devices still',
        });
        expect((await t.err('delete_host host=nope')).code).toBe('unknown_host');
        expect((await t.err('delete_host')).code).toBe('unknown_host');
        await t.ok('create_host host=h2&ip=10.0.0.2&port=7500');
        expect(await t.send('delete_host host=h2')).toBe('OK \r\n');
      });
    });

    describe('devices', () => {
      beforeEach(async () => {
        await t.ok('create_host host=h1&ip=10.0.0.1&port=7500');
        await t.ok('create_host host=h2&ip=10.0.0.2&port=7500');
      });

      it('registers devices by host name or id and lists them', async () => {
        expect(await t.send('create_device hostname=h1&devid=1&state=alive')).toBe('OK \r\n');
        await t.ok('create_device hostid=2&devid=2&state=dead');
        await t.ok('create_device hostname=h1&devid=dev3');
        const devices = await t.ok('get_devices');
        expect(devices).toMatchObject({
          devices: '3',
          dev1_devid: '1',
          dev1_hostid: '1',
          dev1_status: 'alive',
          dev1_weight: '100',
          dev2_status: 'dead',
          dev3_devid: '3',
          dev1_observed_state: '',
          dev1_mb_free: '',
        });
        expect(await t.ok('get_devices devid=2')).toMatchObject({ devices: '1', dev1_devid: '2' });
        expect(await t.ok('get_devices devid=99')).toEqual({ devices: '0' });
      });

      it('answers each bad input with the spec error', async () => {
        await t.ok('create_device hostname=h1&devid=1');
        expect((await t.err('create_device hostname=h1&devid=1')).code).toBe('existing_devid');
        expect((await t.err('create_device hostname=h1&devid=abc')).code).toBe('invalid_devid');
        expect((await t.err('create_device hostname=h1&devid=0')).code).toBe('invalid_devid');
        expect((await t.err('create_device hostname=h1&devid=5&state=sleepy')).code).toBe(
          'invalid_state',
        );
        expect((await t.err('create_device hostid=99&devid=5')).code).toBe('unknown_hostid');
        expect((await t.err('create_device hostname=nope&devid=5')).code).toBe('unknown_host');
        expect(await t.err('create_device devid=5&status=alive')).toEqual({
          code: 'bad_args',
          text: 'No hostid/hostname parameter',
        });
      });

      it('changes state, refusing dead to alive but allowing it through down', async () => {
        await t.ok('create_device hostname=h1&devid=1');
        await t.ok('set_state host=h1&device=1&state=drain');
        expect(await t.ok('get_devices devid=1')).toMatchObject({ dev1_status: 'drain' });
        await t.ok('set_state host=h1&device=1&state=dead');
        expect((await t.err('set_state host=h1&device=1&state=alive')).code).toBe('state_too_high');
        await t.ok('set_state host=h1&device=1&state=down');
        await t.ok('set_state host=h1&device=1&state=alive');
        expect(await t.ok('get_devices devid=1')).toMatchObject({ dev1_status: 'alive' });
      });

      it('validates set_state and set_weight arguments', async () => {
        await t.ok('create_device hostname=h1&devid=1');
        for (const line of [
          'set_state device=1&state=down',
          'set_state host=h1&device=0&state=down',
          'set_state host=h1&device=1&state=sleepy',
          'set_weight host=h1&device=1&weight=-5',
          'set_weight host=h1&device=1&weight=heavy',
        ]) {
          expect((await t.err(line)).code).toBe('bad_params');
        }
        expect((await t.err('set_state host=h1&device=99&state=down')).code).toBe('no_device');
        expect((await t.err('set_state host=h2&device=1&state=down')).code).toBe('host_mismatch');
        expect((await t.err('set_weight host=h2&device=1&weight=5')).code).toBe('host_mismatch');
        await t.ok('set_weight host=h1&device=1&weight=50');
        expect(await t.ok('get_devices devid=1')).toMatchObject({ dev1_weight: '50' });
      });
    });

    describe('server settings', () => {
      it('reads, writes, normalises and lists settings', async () => {
        expect(await t.ok('server_setting key=schema_version')).toEqual({
          key: 'schema_version',
          value: '17',
        });
        expect(await t.ok('server_setting key=nosuchkey')).toEqual({ key: 'nosuchkey', value: '' });
        await t.ok('set_server_setting key=skip_devcount&value=off');
        await t.ok('set_server_setting key=memcache_ttl&value=600');
        await t.ok('set_server_setting key=fsck_checksum&value=MD5');
        expect(await t.ok('server_settings')).toEqual({
          key_count: '4',
          key_1: 'fsck_checksum',
          value_1: 'MD5',
          key_2: 'memcache_ttl',
          value_2: '600',
          key_3: 'schema_version',
          value_3: '17',
          key_4: 'skip_devcount',
          value_4: '0',
        });
        await t.ok('set_server_setting key=fsck_checksum&value=class');
        expect(await t.ok('server_setting key=fsck_checksum')).toEqual({
          key: 'fsck_checksum',
          value: '',
        });
      });

      it('refuses unknown keys and bad values with the spec errors', async () => {
        expect((await t.err('server_setting')).code).toBe('bad_params');
        expect((await t.err('set_server_setting value=1')).code).toBe('bad_params');
        expect((await t.err('set_server_setting key=schema_version&value=99')).code).toBe(
          'not_writable',
        );
        expect(await t.err('set_server_setting key=skip_devcount&value=maybe')).toEqual({
          code: 'invalid_format',
          text: 'Unknown format',
        });
        expect(await t.err('set_server_setting key=memcache_ttl&value=1h')).toEqual({
          code: 'invalid_format',
          text: 'Must be numeric',
        });
        expect(await t.err('set_server_setting key=fsck_checksum&value=CRC')).toEqual({
          code: 'invalid_format',
          text: 'Not a valid checksum algorithm',
        });
        expect((await t.err('set_server_setting key=zone_a&value=10.0.0.0/99')).code).toBe(
          'invalid_format',
        );
      });

      it('counts writes of slave settings in slave_version', async () => {
        await t.ok('set_server_setting key=slave_keys&value=s1');
        await t.ok('set_server_setting key=slave_s1&value=dsn|user|pass');
        expect(await t.ok('server_setting key=slave_version')).toEqual({
          key: 'slave_version',
          value: '2',
        });
        await t.ok('set_server_setting key=slave_keys&value=');
        expect(await t.ok('server_setting key=slave_keys')).toEqual({
          key: 'slave_keys',
          value: '',
        });
      });
    });

    describe('cluster commands', () => {
      it('clear_cache echoes its arguments and sees writes made behind its back', async () => {
        expect(await t.send('clear_cache all=1')).toBe('OK all=1\r\n');
        await t.services.meta.createDomain('behind');
        expect(await t.ok('get_domains')).toEqual({ domains: '0' });
        await t.ok('clear_cache');
        expect(await t.ok('get_domains')).toMatchObject({ domains: '1', domain1: 'behind' });
      });

      it('replicate_now counts the rows it made due', async () => {
        expect(await t.send('replicate_now')).toBe('OK count=0\r\n');
      });
    });
  });
}
