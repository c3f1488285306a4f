import type { CommandHandler, CommandRegistry } from '../command.js';
import { classCommands } from './classes.js';
import { clusterCommands } from './cluster.js';
import { createCloseCommand } from './create-close.js';
import { createOpenCommand } from './create-open.js';
import { deviceCommands } from './devices.js';
import { domainCommands } from './domains.js';
import { editFileCommand } from './edit-file.js';
import { fileChangeCommands } from './file-changes.js';
import { fileDebugCommand } from './file-debug.js';
import { fileReadCommands } from './file-reads.js';
import { fsckCommands } from './fsck.js';
import { hostCommands } from './hosts.js';
import { registerMiscCommands } from './misc.js';
import { rebalanceCommands } from './rebalance.js';
import { settingCommands } from './settings.js';
import { statsCommands } from './stats.js';

/** Every tracker command by its lower-case wire name. */
export function buildCommandRegistry(): CommandRegistry {
  const commands = new Map<string, CommandHandler>();
  registerMiscCommands(commands);
  for (const group of [
    domainCommands,
    classCommands,
    hostCommands,
    deviceCommands,
    settingCommands,
    clusterCommands,
    createOpenCommand,
    createCloseCommand,
    fileReadCommands,
    fileChangeCommands,
    fileDebugCommand,
    editFileCommand,
    // Fsck and rebalance (tracker-protocol.md §6.19–6.20).
    fsckCommands,
    rebalanceCommands,
    statsCommands,
  ]) {
    for (const [name, handler] of Object.entries(group)) commands.set(name, handler);
  }
  return commands;
}
