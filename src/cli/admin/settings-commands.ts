import type { Command } from 'commander';
import { adminCommand, runAdmin } from './admin-runner.js';

/** `mogile admin settings list|set` (mogadm's `settings`). */
export function registerSettingsCommands(admin: Command): void {
  const settings = admin.command('settings').description('server settings shared by all trackers');
  adminCommand(settings, 'list', 'show the settings (rebalance keys: "rebalance settings")').action(
    runAdmin(async (ctx) => {
      const all = await ctx.admin.serverSettings();
      // Like mogadm, leave the rebalance bookkeeping to `rebalance settings`.
      const shown = Object.fromEntries(
        Object.entries(all)
          .filter(([key]) => !key.startsWith('rebal'))
          .sort(([a], [b]) => a.localeCompare(b)),
      );
      await ctx.result(shown, () => renderSettings(shown));
    }),
  );
  adminCommand(settings, 'set <key> <value>', 'change a writable setting').action(
    runAdmin(
      async (ctx, key, value) => {
        await ctx.admin.setServerSetting(key!, value);
        await ctx.result({ key, value }, () => `Setting ${key} set to ${value}.\n`);
      },
      (args) => `setting ${JSON.stringify(args[0] ?? '')}`,
    ),
  );
}

/** `key = value`, keys right-aligned on the `=` as mogadm prints them. */
export function renderSettings(settings: Readonly<Record<string, string>>): string {
  const entries = Object.entries(settings);
  if (entries.length === 0) return 'No settings.\n';
  const width = Math.max(...entries.map(([key]) => key.length));
  return entries.map(([key, value]) => `${key.padStart(width)} = ${value}\n`).join('');
}
