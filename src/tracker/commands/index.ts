import type { CommandHandler, CommandRegistry } from '../command.js';

/** Every tracker command by its lower-case wire name. */
export function buildCommandRegistry(): CommandRegistry {
  const commands = new Map<string, CommandHandler>();
  commands.set('noop', async () => ({}));
  return commands;
}
