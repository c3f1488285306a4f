#!/usr/bin/env node
import { Command } from 'commander';
import { registerAdminCommands } from './admin/admin-command.js';
import { registerBenchCommand } from './bench-command.js';
import { registerDevCommand } from './dev-command.js';
import { registerFileCommands } from './file-commands.js';
import { registerSetupDbCommand } from './setup-db-command.js';
import { registerStatsCommand } from './stats-command.js';
import { registerStorageCommand } from './storage-command.js';
import { registerTrackerCommand } from './tracker-command.js';

const program = new Command()
  .name('mogile')
  .description('MogileFS-compatible distributed file store')
  .version('0.1.0');

registerTrackerCommand(program);
registerStorageCommand(program);
registerDevCommand(program);
registerFileCommands(program);
registerSetupDbCommand(program);
registerAdminCommands(program);
registerStatsCommand(program);
registerBenchCommand(program);

await program.parseAsync(process.argv);
