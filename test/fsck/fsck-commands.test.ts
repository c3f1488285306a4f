import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CommandHarness, commandHarness } from '../helpers/command-harness.js';
import { okPairs, transcriptRecord } from '../helpers/transcripts.js';

/**
 * The fsck commands (tracker-protocol.md §6.19) driven through the dispatcher, with the
 * job master off so a run stays "running" until the test stops it.
 */
let t: CommandHarness;
beforeAll(async () => {
  t = await commandHarness({ jobMaster: false });
  await t.ok('create_domain domain=fd');
  await t.ok('create_class domain=fd&class=two&mindevcount=2');
});
afterAll(async () => {
  await t?.close();
});

/** Times and hosts vary between runs (transcripts README, rule 2). */
function normalised(pairs: Record<string, string>): Record<string, string> {
  const copy = { ...pairs };
  for (const key of ['current_time', 'start_time', 'host', 'end_fid']) {
    if (key in copy) copy[key] = copy[key] === '0' || copy[key] === '' ? copy[key]! : '*';
  }
  return copy;
}

describe('fsck commands', () => {
  it('fsck_status and fsck_getlog start empty, as recorded', async () => {
    const status = await t.ok('fsck_status');
    const recorded = transcriptRecord('fsck.status').reply_args!;
    expect(normalised(status)).toEqual(normalised(recorded));
    expect(await t.ok('fsck_getlog')).toEqual(transcriptRecord('fsck.getlog').reply_args);
  });

  it('fsck_start runs once; a second start is refused with the recorded error', async () => {
    await t.send('fsck_stop');
    expect(await t.send('fsck_start')).toBe(transcriptRecord('fsck.start').reply);
    expect(await t.send('fsck_start')).toBe(transcriptRecord('fsck.start_again').reply);
    const status = await t.ok('fsck_status');
    const recorded = transcriptRecord('fsck.status_running').reply_args!;
    expect(Object.keys(status).sort()).toEqual(Object.keys(recorded).sort());
    expect(status).toMatchObject({ running: '1', host: 'test-tracker', stop_time: '0' });
    expect(Number(status.start_time)).toBeGreaterThan(0);
    expect(await t.send('fsck_stop')).toBe(transcriptRecord('fsck.stop').reply);
    expect(await t.send('fsck_stop')).toBe(transcriptRecord('fsck.stop_again').reply);
    const stopped = await t.ok('fsck_status');
    expect(stopped).toMatchObject({ running: '0', host: '' });
    expect(Number(stopped.stop_time)).toBeGreaterThan(0);
  });

  it('fsck_reset stores policy_only and startpos and clears the counters', async () => {
    await t.services.meta.setSetting('fsck_sum_evcount_MISS', '4');
    expect(await t.send('fsck_reset policy_only=1&startpos=5')).toBe(
      transcriptRecord('fsck.reset_args').reply,
    );
    const status = await t.ok('fsck_status');
    expect(status).toMatchObject({ policy_only: '1', max_fid_checked: '5', start_time: '0' });
    expect(status.num_MISS).toBeUndefined();
    expect(await t.send('fsck_reset')).toBe(transcriptRecord('fsck.reset').reply);
    expect(await t.ok('fsck_status')).toMatchObject({ policy_only: '0', max_fid_checked: '0' });
  });

  it('fsck_getlog pages after a logid and omits NULL columns; fsck_clearlog empties it', async () => {
    const { meta } = t.services;
    await meta.appendFsckLog({ utimeSeconds: 100, fid: 7, evcode: 'MISS', devid: 3 });
    await meta.appendFsckLog({ utimeSeconds: 101, fid: 7, evcode: 'REPL' });
    const all = await t.ok('fsck_getlog');
    expect(all.row_count).toBe('2');
    expect(all).toMatchObject({ row_1_fid: '7', row_1_evcode: 'MISS', row_1_devid: '3' });
    expect(all.row_2_devid).toBeUndefined();
    const later = await t.ok(`fsck_getlog after_logid=${all.row_1_logid}`);
    expect(later).toMatchObject({ row_count: '1', row_1_evcode: 'REPL' });
    // fsck_status folds the new rows into num_<CODE> counters.
    expect(await t.ok('fsck_status')).toMatchObject({ num_MISS: '1', num_REPL: '1' });
    expect(await t.ok('fsck_status')).toMatchObject({ num_MISS: '1', num_REPL: '1' });
    expect(await t.send('fsck_clearlog')).toBe(transcriptRecord('fsck.clearlog').reply);
    expect(okPairs(await t.send('fsck_getlog after_logid=0'))).toEqual(
      transcriptRecord('fsck.getlog_after').reply_args,
    );
  });

  it('fsck_start takes targets, stores them hidden from server_settings', async () => {
    await t.send('fsck_stop');
    await t.ok('fsck_reset');
    expect(await t.err('fsck_start domain=nope')).toMatchObject({ code: 'domain_not_found' });
    expect(await t.err('fsck_start class=two')).toMatchObject({ code: 'no_domain' });
    expect(await t.err('fsck_start domain=fd&class=nope')).toMatchObject({
      code: 'class_not_found',
    });
    expect(await t.err('fsck_start devid=x')).toMatchObject({ code: 'invalid_devid' });
    await t.ok('fsck_start domain=fd&class=two&prefix=a/&devid=4');
    const status = await t.ok('fsck_status');
    expect(status).toMatchObject({ target_classid: '1', target_prefix: 'a/', target_devid: '4' });
    const listed = Object.values(await t.ok('server_settings'));
    expect(listed.some((value) => value.startsWith('fsck_'))).toBe(false);
    await t.ok('fsck_stop');
    // A start without targets checks everything again.
    await t.ok('fsck_start');
    expect((await t.ok('fsck_status')).target_devid).toBeUndefined();
    await t.ok('fsck_stop');
  });
});
