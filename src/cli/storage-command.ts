import type { Command } from 'commander';

export function registerStorageCommand(program: Command): void {
  program
    .command('storage')
    .description('run a storage node')
    .action(() => {
      throw new Error('not built yet');
    });
}
