import type { Command } from 'commander';

export function registerTrackerCommand(program: Command): void {
  program
    .command('tracker')
    .description('run a tracker')
    .action(() => {
      throw new Error('not built yet');
    });
}
