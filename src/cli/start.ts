// `beanlab start` (what `npm start` runs): the conformance corpus against the embedded server
// on free loopback ports, the table, and the exit code. A first look at the whole tool with
// nothing to install. Each case gets its own embedded server, as `beanlab conform` does, so
// job ids start at 1 and global stats are clean in every case.
import type { Command } from 'commander';
import { runConform } from './conform.js';

export function register(program: Command): void {
  program
    .command('start')
    .description('Run the conformance corpus against the embedded server (what `npm start` runs).')
    .action(async () => {
      process.stdout.write('beanlab start: the conformance corpus against the embedded server (profile 1.12)\n\n');
      process.exitCode = await runConform({ profile: '1.12', concurrency: 4 });
    });
}
