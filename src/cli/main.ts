#!/usr/bin/env node
import { Command } from 'commander';

type Register = (program: Command) => void;

/**
 * Each command group in its own module, loaded only when its command runs: a tracker or a
 * storage node does not carry the admin CLI, the dashboard or the benchmark in memory, and
 * `mogile put` starts without loading the servers. Help and unknown commands load all.
 */
const GROUPS: readonly { commands: readonly string[]; load: () => Promise<Register> }[] = [
  {
    commands: ['tracker'],
    load: async () => (await import('./tracker-command.js')).registerTrackerCommand,
  },
  {
    commands: ['storage'],
    load: async () => (await import('./storage-command.js')).registerStorageCommand,
  },
  { commands: ['dev'], load: async () => (await import('./dev-command.js')).registerDevCommand },
  {
    commands: ['put', 'get', 'cat', 'rm', 'mv', 'ls', 'info', 'paths'],
    load: async () => (await import('./file-commands.js')).registerFileCommands,
  },
  {
    commands: ['setup-db'],
    load: async () => (await import('./setup-db-command.js')).registerSetupDbCommand,
  },
  {
    commands: ['admin'],
    load: async () => (await import('./admin/admin-command.js')).registerAdminCommands,
  },
  {
    commands: ['stats'],
    load: async () => (await import('./stats-command.js')).registerStatsCommand,
  },
  {
    commands: ['bench'],
    load: async () => (await import('./bench-command.js')).registerBenchCommand,
  },
];

const program = new Command()
  .name('mogile')
  .description('MogileFS-compatible distributed file store')
  .version('0.1.0');

const wanted = process.argv[2];
const groups = GROUPS.filter((group) => group.commands.includes(wanted ?? ''));
for (const group of groups.length > 0 ? groups : GROUPS) (await group.load())(program);

await program.parseAsync(process.argv);
