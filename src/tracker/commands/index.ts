import type { CommandHandler, CommandRegistry } from '../command.js';
import { registerMiscCommands } from './misc.js';

/** Every tracker command by its lower-case wire name. */
export function buildCommandRegistry(): CommandRegistry {
  const commands = new Map<string, CommandHandler>();
  registerMiscCommands(commands);
  return commands;
}
