import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { http10, rawRequest } from '../storage/node-harness.js';

// A private mount namespace lets a test mount a tiny tmpfs or a read-only bind mount
// without touching the machine; where it is unavailable the tests say so and skip.
const canMount =
  process.platform === 'linux' &&
  spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs -o size=1m none /mnt'], {
    stdio: 'ignore',
  }).status === 0;

/** Runs node 0 in its own mount namespace after `setup` (shell) has prepared its docroot. */
function firstNodeAfter(setup: (docroot: string) => string) {
  return (index: number, docroot: string) =>
    index === 0
      ? ['unshare', '-m', 'sh', '-c', `${setup(docroot)} && exec "$0" "$@"`, process.execPath]
      : undefined;
}

/** docs/faults.md: disks that fill up or turn read-only. */
describe.skipIf(!canMount)('disk faults (need unshare -m)', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('a full disk: new files go to the other device; a PUT that does not fit leaves nothing', async () => {
    cluster = await startCluster({
      nodes: 2,
      devicesPerNode: 1,
      classes: { one: 1 },
      // dev1 is a 1 MiB tmpfs: below min_free_space (100 MiB), so it must get no new files.
      nodeCommand: firstNodeAfter(
        (docroot) => `mount -t tmpfs -o size=1m none "${docroot}" && mkdir "${docroot}/dev1"`,
      ),
    });
    for (let i = 0; i < 20; i++) {
      expect((await cluster.ok(`create_open domain=d&class=one&key=full-${i}`))['devid']).toBe('2');
    }
    const node = cluster.deviceNode.get(1)!;
    const path = '/dev1/0/000/000/0000009999.fid';
    const tooBig = await rawRequest(node.http, http10('PUT', path, Buffer.alloc(2 * 1024 * 1024)));
    expect(tooBig.status).toBe(507);
    expect((await rawRequest(node.http, http10('GET', path))).status).toBe(404);
  });

  it('a read-only device: writes refused, reads served, new files go elsewhere', async () => {
    cluster = await startCluster({
      nodes: 2,
      devicesPerNode: 1,
      classes: { one: 1 },
      writeableDevices: 1,
      nodeCommand: firstNodeAfter((docroot) => {
        // A file that was there before the disk turned read-only.
        mkdirSync(join(docroot, 'dev1', 'old'), { recursive: true });
        writeFileSync(join(docroot, 'dev1', 'old', 'kept.fid'), 'still readable');
        const dev = `"${docroot}/dev1"`;
        return `mount --bind ${dev} ${dev} && mount -o remount,ro,bind ${dev}`;
      }),
    });
    for (let i = 0; i < 20; i++) {
      expect((await cluster.ok(`create_open domain=d&class=one&key=ro-${i}`))['devid']).toBe('2');
    }
    const devices = await cluster.ok('get_devices');
    const dev1 = Object.keys(devices).find(
      (name) => /^dev\d+_devid$/.test(name) && devices[name] === '1',
    );
    expect(devices[dev1!.replace('_devid', '_observed_state')]).not.toBe('writeable');
    const node = cluster.deviceNode.get(1)!;
    const put = await rawRequest(node.http, http10('PUT', '/dev1/0/000/000/0000009998.fid', 'x'));
    expect([403, 500, 507]).toContain(put.status);
    const read = await rawRequest(node.http, http10('GET', '/dev1/old/kept.fid'));
    expect(read.status).toBe(200);
    expect(read.body.toString()).toBe('still readable');
  });
});
