import type { Command } from 'commander';
import { showStats } from '../stats-command.js';
import { adminCommand, runAdmin, usageExit, withAdminOptions } from './admin-runner.js';
import { registerCheckCommand } from './check-command.js';
import { registerClassCommands } from './class-commands.js';
import { registerDeviceCommands } from './device-commands.js';
import { registerDomainCommands } from './domain-commands.js';
import { registerFsckCommands } from './fsck-commands.js';
import { registerHostCommands } from './host-commands.js';
import { registerRebalanceCommands } from './rebalance-commands.js';
import { registerSettingsCommands } from './settings-commands.js';

/**
 * `mogile admin …`: everything mogadm does, with its subcommand names and options
 * (spec/client-expectations.md §6), over MogileAdmin. Text tables by default, `--json`
 * for scripts; one line on stderr and exit 1 when an operation fails, exit 2 for usage.
 */
export function registerAdminCommands(program: Command): void {
  const admin = usageExit(
    withAdminOptions(
      program
        .command('admin')
        .description('administer the cluster: hosts, devices, domains, classes, fsck, rebalance'),
    ),
  ).configureHelp({ showGlobalOptions: true });
  registerCheckCommand(admin);
  adminCommand(admin, 'stats', 'the same numbers as "mogile stats"').action(runAdmin(showStats));
  registerHostCommands(admin);
  registerDeviceCommands(admin);
  registerDomainCommands(admin);
  registerClassCommands(admin);
  registerFsckCommands(admin);
  registerRebalanceCommands(admin);
  registerSettingsCommands(admin);
}
