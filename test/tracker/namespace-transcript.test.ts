import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CommandHarness, commandHarness } from '../helpers/command-harness.js';
import { okPairs, type TrackerRecord, trackerTranscript } from '../helpers/transcripts.js';

/**
 * Replays the original server's recorded admin requests (domains, classes, hosts, devices,
 * settings) in order and compares mogile's replies by the transcript README's rules.
 */
const PREFIXES = ['domain.', 'class.', 'host.', 'dev.', 'set.'];

/** Records whose outcome depends on files or rebalance state, tested elsewhere. */
const SKIPPED = new Set([
  'domain.delete_has_files',
  'class.delete_has_files',
  'set.server_settings_end',
]);

/** Where mogile deliberately differs (docs/protocol-extensions.md). */
const DIFFERENT: Record<string, (reply: string) => void | Promise<void>> = {
  'domain.create_zero': async (reply) => {
    expect(reply).toBe('OK domain=0\r\n');
    // Back to the recorded state, where the domain was never created.
    await t.ok('delete_domain domain=0');
  },
  'dev.set_weight_nonnum': (reply) => expect(reply).toMatch(/^ERR bad_params /),
  'dev.set_weight_missing': (reply) => expect(reply).toMatch(/^ERR bad_params /),
};

/** Lists whose order and monitor figures vary: compare their counts only. */
const LIST_COUNTS: Record<string, string> = {
  get_domains: 'domains',
  get_hosts: 'hosts',
  get_devices: 'devices',
};

let t: CommandHarness;
beforeAll(async () => {
  t = await commandHarness();
  // The capture's starting state (transcripts README).
  await t.ok('create_domain domain=bench');
  await t.ok('create_class domain=bench&class=two&mindevcount=2');
  for (const [n, port] of [7500, 7600, 7700].entries()) {
    await t.ok(`create_host host=s${n + 1}&ip=127.0.0.1&port=${port}&status=alive`);
    await t.ok(`create_device hostname=s${n + 1}&devid=${2 * n + 1}`);
    await t.ok(`create_device hostname=s${n + 1}&devid=${2 * n + 2}`);
  }
});
afterAll(async () => {
  await t?.close();
});

function records(): TrackerRecord[] {
  return trackerTranscript().filter(
    (record) => PREFIXES.some((prefix) => record.id.startsWith(prefix)) && !SKIPPED.has(record.id),
  );
}

/** `server_settings` pairs as key → value (the original lists them in hash order). */
function settingsMap(pairs: Record<string, string>): Record<string, string> {
  const map: Record<string, string> = {};
  for (const [name, value] of Object.entries(pairs)) {
    const index = /^key_(\d+)$/.exec(name)?.[1];
    if (index) map[value] = pairs[`value_${index}`] ?? '';
  }
  return map;
}

/** The message before the original's Perl source location (README, item 7). */
function leadingMessage(text: string): string {
  return text.replace(/ at MOGSRC\/.*$/s, '').replace(/\n$/, '');
}

describe('admin commands against the original transcript', () => {
  for (const record of records()) {
    it(record.id, async () => {
      const reply = await t.send(record.request.replace(/\r\n$/, ''));
      const different = DIFFERENT[record.id];
      if (different) return different(reply);
      if (record.error) {
        const match = /^ERR (\w+) (\S*)/.exec(reply);
        expect(match?.[1], reply).toBe(record.error.code);
        const text = decodeURIComponent(match![2]!.replaceAll('+', ' '));
        if (record.error.code === 'invalid_replpolicy') {
          expect(text).toMatch(/^Failed to load replication policy class Bogus/);
        } else {
          expect(text).toBe(leadingMessage(record.error.text));
        }
        return;
      }
      const pairs = okPairs(reply);
      expect(pairs, reply).not.toBeNull();
      const command = record.request.split(' ')[0]!.trim();
      const countKey = LIST_COUNTS[command];
      if (countKey) {
        expect(pairs![countKey]).toBe(record.reply_args![countKey]);
      } else if (command === 'server_settings') {
        expect(settingsMap(pairs!)).toEqual(settingsMap(record.reply_args!));
      } else if (command === 'create_host' || command === 'update_host') {
        expect(pairs).toEqual({ ...record.reply_args, host: record.reply_args!['hostname'] });
      } else {
        expect(pairs).toEqual(record.reply_args);
      }
    });
  }
});
