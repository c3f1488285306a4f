import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCommandRegistry } from '../../src/tracker/commands/index.js';
import { loadTrackerConfig, TrackerConfigError } from '../../src/tracker/config.js';
import { createDispatcher, type Dispatcher } from '../../src/tracker/dispatch.js';
import { QueryStats } from '../../src/tracker/query-stats.js';
import { createTrackerServices, type TrackerServicesHandle } from '../../src/tracker/services.js';

/** docs/security.md: `admin_networks` keeps cluster changes to the listed networks. */
describe('admin_networks', () => {
  let dir: string;
  let services: TrackerServicesHandle;
  let dispatcher: Dispatcher;
  const stats = new QueryStats();
  const signal = new AbortController().signal;
  const from = async (clientIp: string, line: string) =>
    (await dispatcher.handleLine(`${line}\r\n`, { clientIp, signal })) ?? '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mogile-admin-net-'));
    services = await createTrackerServices({
      dbUrl: `sqlite:${join(dir, 'm.db')}`,
      jobMaster: false,
    });
    dispatcher = createDispatcher(buildCommandRegistry(), services, {
      stats,
      admin: { handle: (request) => `ran ${request.command}\r\n.\r\n` },
      adminNetworks: ['127.0.0.0/8', '10.9.0.0/16'],
    });
  });
  afterAll(async () => {
    await services.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses every cluster-changing command from elsewhere with ERR forbidden', async () => {
    const lines = [
      'create_domain domain=outsider',
      'delete_domain domain=outsider',
      'create_class domain=outsider&class=c&mindevcount=2',
      'update_class domain=outsider&class=c&mindevcount=3',
      'delete_class domain=outsider&class=c',
      'create_host host=h&ip=192.0.2.1&port=7500',
      'update_host host=h&status=dead',
      'delete_host host=h',
      'create_device hostname=h&devid=9',
      'set_state host=h&device=9&state=dead',
      'set_weight host=h&device=9&weight=1',
      'set_server_setting key=enable_rebalance&value=1',
      'replicate_now',
      'fsck_start',
      'fsck_stop',
      'fsck_reset',
      'fsck_clearlog',
      'rebalance_set_policy policy=from_hosts=1',
      'rebalance_start',
      'rebalance_stop',
      'rebalance_reset',
    ];
    for (const line of lines) {
      expect(await from('192.0.2.50', `${line}&callid=7`), line).toMatch(
        /^ERR forbidden \S+ 7\r\n$/,
      );
    }
    expect(await from('::ffff:192.0.2.50', 'create_domain domain=outsider')).toMatch(
      /^ERR forbidden/,
    );
    expect(await from('192.0.2.50', '!shutdown')).toBe('ERROR: forbidden\r\n.\r\n');
    expect(stats.counters()).toContainEqual(['forbidden', lines.length + 2]);
    // Nothing changed.
    expect(await from('127.0.0.1', 'get_domains')).not.toContain('outsider');
  });

  it('lets listed networks change the cluster and everyone read', async () => {
    expect(await from('10.9.3.4', 'create_domain domain=insider')).toMatch(/^OK /);
    expect(
      await from('::ffff:127.0.0.1', 'create_class domain=insider&class=c&mindevcount=2'),
    ).toMatch(/^OK /);
    expect(await from('192.0.2.50', 'get_domains')).toContain('insider');
    expect(await from('127.0.0.1', '!shutdown')).toBe('ran shutdown\r\n.\r\n');
    expect(await from('192.0.2.50', '!stats')).toBe('ran stats\r\n.\r\n');
    expect(await from('192.0.2.50', 'get_hosts')).toMatch(/^OK /);
    expect(await from('192.0.2.50', 'file_info domain=insider&key=k')).toMatch(/^ERR unknown_key/);
  });

  it('is validated when the config is loaded', () => {
    const config = loadTrackerConfig({
      overrides: {
        admin_networks: ['10.0.0.0/8, ::1'],
        secret: 'sixteen-chars-long',
        secret_expiry: '60',
      },
    });
    expect(config.adminNetworks).toEqual(['10.0.0.0/8', '::1']);
    expect(config.secret).toBe('sixteen-chars-long');
    expect(config.secretExpirySeconds).toBe(60);
    expect(() => loadTrackerConfig({ overrides: { admin_networks: '10.0.0.0/40' } })).toThrow(
      /invalid admin_networks "10.0.0.0\/40"/,
    );
    expect(() => loadTrackerConfig({ overrides: { secret: 'short' } })).toThrow(TrackerConfigError);
    expect(() => loadTrackerConfig({ overrides: { secret_expiry: '0' } })).toThrow(/secret_expiry/);
  });
});
