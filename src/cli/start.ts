// `beanlab start` (what `npm start` runs): a first look at the whole tool with nothing to
// install. Three parts, all on the embedded server or the model: the conformance suite
// (--quick), the smoke scenario simulated, and the same scenario run for real. Each writes its
// report under reports/latest/, and index.html links the three.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { runLoad } from '../api/load.js';
import { startIndexHtml, type StartPart } from '../report/start-index.js';
import { loadStartSummary, simStartSummary } from '../report/start-summary.js';
import { runConform } from './conform.js';
import { exitCodes } from './errors.js';
import { readScenarioFile, writeLoadReport, writeSimReport } from './files.js';
import { simulateWithProgress } from './sim.js';

export const LATEST_REPORT_DIR = 'reports/latest';
const SMOKE_SCENARIO = fileURLToPath(new URL('../../scenarios/smoke.yaml', import.meta.url));
/** A fixed seed: `npm start` shows the same simulation every time. */
const SEED = 1;

export function register(program: Command): void {
  program
    .command('start')
    .description(
      'What `npm start` runs: `conform --quick` against the embedded server, the smoke scenario ' +
        `under \`sim\` and under \`load\` (on the embedded server), with reports under ${LATEST_REPORT_DIR}/ ` +
        'linked from index.html. Exit 0 when all three pass.',
    )
    .action(async () => {
      process.exitCode = await start();
    });
}

export async function start(log: (text: string) => void = (text) => process.stdout.write(text)): Promise<number> {
  const dir = LATEST_REPORT_DIR;
  const parts: StartPart[] = [];

  log('beanlab start 1/3: `beanlab conform --quick` against the embedded server\n\n');
  const conformCode = await runConform(
    { profile: '1.12', concurrency: 8, quick: true, report: join(dir, 'conform') },
    log,
  );
  parts.push({ title: 'Conformance (conform --quick, embedded server)', href: 'conform/report.html', pass: conformCode === exitCodes.ok });

  const scenario = await readScenarioFile(SMOKE_SCENARIO);
  // The sim and load parts print a few lines each; their full tables are in the reports.
  log(`\nbeanlab start 2/3: \`beanlab sim scenarios/smoke.yaml --seed ${SEED}\`\n`);
  const simResult = await simulateWithProgress(scenario, SEED);
  log(simStartSummary(simResult, join(dir, 'sim', 'report.md')));
  await writeSimReport(join(dir, 'sim'), simResult);
  parts.push({ title: 'Simulation (sim scenarios/smoke.yaml)', href: 'sim/report.html', pass: simResult.pass });

  log(`\nbeanlab start 3/3: \`beanlab load scenarios/smoke.yaml --seed ${SEED}\` on the embedded server (${scenario.durationSeconds ?? '?'} s)\n`);
  // Ctrl-C ends the load run early; its partial result is still written.
  const controller = new AbortController();
  const onSigint = (): void => controller.abort();
  process.on('SIGINT', onSigint);
  try {
    const loadResult = await runLoad(scenario, { seed: SEED, signal: controller.signal });
    log(loadStartSummary(loadResult, join(dir, 'load', 'report.md')));
    await writeLoadReport(join(dir, 'load'), loadResult);
    parts.push({ title: 'Load (load scenarios/smoke.yaml, embedded server)', href: 'load/report.html', pass: loadResult.pass && !controller.signal.aborted });
  } finally {
    process.off('SIGINT', onSigint);
  }

  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'index.html'), startIndexHtml(parts));
  log(`\n${parts.map((p) => `${p.pass ? 'PASS' : 'FAIL'}  ${p.title}`).join('\n')}\nreport: ${join(dir, 'index.html')}\n`);
  return parts.every((p) => p.pass) ? exitCodes.ok : exitCodes.failed;
}
