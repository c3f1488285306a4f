import { MogileError } from '../../protocol/errors.js';
import type { CommandContext, CommandHandler, ReplyArgs, RequestArgs } from '../command.js';
import { isTruthy } from '../command.js';
import { isListedSetting, settingValidator } from '../server-settings.js';

/** `server_setting` (§6.16): any key, including hidden ones; empty value when unset. */
async function serverSetting(args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  const key = args.get('key');
  if (!isTruthy(key)) throw new MogileError('bad_params');
  return { key, value: (await ctx.services.meta.getSetting(key)) ?? '' };
}

/** `server_settings` (§6.17). Unlike the original, `key_count` is sent even when zero. */
async function serverSettings(_args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  const settings = await ctx.services.meta.listSettings();
  const keys = [...settings.keys()].filter(isListedSetting).sort();
  const reply: Record<string, string | number> = { key_count: keys.length };
  for (const [i, key] of keys.entries()) {
    reply[`key_${i + 1}`] = key;
    reply[`value_${i + 1}`] = settings.get(key) ?? '';
  }
  return reply;
}

/** `set_server_setting` (§6.18): whitelisted keys only, values normalised. */
async function setServerSetting(args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  const key = args.get('key');
  if (!isTruthy(key)) throw new MogileError('bad_params');
  const validate = settingValidator(key);
  if (!validate) throw new MogileError('not_writable');
  const value = validate(args.get('value'));
  const { meta } = ctx.services;
  await meta.setSetting(key, value);
  if (key.startsWith('slave_')) {
    const version = Number((await meta.getSetting('slave_version')) ?? 0) || 0;
    await meta.setSetting('slave_version', String(version + 1));
  }
  await ctx.services.cluster.refresh();
  return {};
}

export const settingCommands: Readonly<Record<string, CommandHandler>> = {
  server_setting: serverSetting,
  server_settings: serverSettings,
  set_server_setting: setServerSetting,
};
