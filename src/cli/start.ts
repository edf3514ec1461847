// `beanlab start` (what `npm start` runs): a first look at the whole tool with nothing to
// install. Each part is one call here, so later parts (sim, load) can be added the same way.
import type { Command } from 'commander';
import { runConform } from './conform.js';

export const LATEST_REPORT_DIR = 'reports/latest';

export function register(program: Command): void {
  program
    .command('start')
    .description(`Run \`beanlab conform --quick\` against the embedded server and write its report under ${LATEST_REPORT_DIR}/ (what \`npm start\` runs).`)
    .action(async () => {
      process.exitCode = await start();
    });
}

export async function start(log: (text: string) => void = (text) => process.stdout.write(text)): Promise<number> {
  log('beanlab start: `beanlab conform --quick` against the embedded server\n\n');
  const code = await runConform({ profile: '1.12', concurrency: 8, quick: true, report: LATEST_REPORT_DIR }, log);
  log(`\nreport: ${LATEST_REPORT_DIR}/report.html, ${LATEST_REPORT_DIR}/report.md, ${LATEST_REPORT_DIR}/result.json\n`);
  return code;
}
