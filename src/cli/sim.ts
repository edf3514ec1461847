// `beanlab sim SCENARIO`: runs a scenario through the deterministic simulator and prints the
// summary; --sweep runs it once per value and answers the capacity question. Exit 0 when every
// SLO holds (for a sweep: when some value meets them all), 1 when not, 2 for bad input.
import { randomInt } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import type { Result, RunResult } from '../metrics/result.js';
import { htmlReport } from '../report/html.js';
import { markdownReport } from '../report/markdown.js';
import { terminalSummary } from '../report/terminal.js';
import { parseScenarioYaml, ScenarioError, validateScenario } from '../scenario/load.js';
import { parseSweep, withSweepValue, type SweepSpec } from '../scenario/sweep.js';
import { MAX_SEED } from '../scenario/random.js';
import { combineSweep, createSimulation, defaultModelFactory, EVENTS_PER_SLICE } from '../sim/run.js';
import { SimulationError } from '../sim/engine.js';
import { readUplotAssets } from '../load/report-files.js';
import type { Scenario } from '../scenario/schema.js';
import { UsageError, exitCodes } from './errors.js';

interface SimOptions {
  seed?: number;
  sweep?: SweepSpec;
  json?: string;
  report?: string;
  paranoid?: number;
}

/** --paranoid without a value: every 1000 events (a full recount each time is O(jobs held)). */
export const DEFAULT_PARANOID_EVERY = 1000;

function paranoidOption(value: string | true): number {
  if (value === true) return DEFAULT_PARANOID_EVERY;
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`--paranoid takes a whole number of events, 1 or more (--paranoid=N), got '${value}'`);
  }
  return Number(value);
}

/** Runs shorter than this finish before a progress bar would be worth drawing. */
const PROGRESS_AFTER_MS = 1000;

function seedOption(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > MAX_SEED) {
    throw new UsageError(`--seed must be an integer from 0 to ${MAX_SEED}, got '${value}'`);
  }
  return Number(value);
}

function sweepOption(value: string): SweepSpec {
  try {
    return parseSweep(value);
  } catch (err) {
    throw err instanceof ScenarioError ? new UsageError(err.message) : err;
  }
}

export function register(program: Command): void {
  program
    .command('sim')
    .description('Simulate a scenario under a virtual clock: queue waits, backlogs and SLOs in seconds, reproducibly.')
    .argument('<scenario>', 'scenario YAML file (see scenarios/)')
    .option('--seed <n>', `random seed, 0..${MAX_SEED} (default: a random one, printed first)`, seedOption)
    .option('--sweep <KEY=A..B[:STEP]>', 'run once per value, e.g. workers=2..20, and report the smallest value meeting every SLO', sweepOption)
    .option('--json <file>', 'write the result as JSON')
    .option('--report <dir>', 'write report.md, report.html and result.json into this directory')
    .option(
      '--paranoid [events]',
      `check the model's and the simulator's invariants every N events (write --paranoid=N, or put a bare --paranoid after the scenario; default ${DEFAULT_PARANOID_EVERY}); slow, same result`,
    )
    .action(async (file: string, raw: Omit<SimOptions, 'paranoid'> & { paranoid?: string | true }) => {
      const options: SimOptions = { ...raw, paranoid: raw.paranoid === undefined ? undefined : paranoidOption(raw.paranoid) };
      const seed = options.seed ?? randomInt(0, MAX_SEED + 1);
      // Printed once, first (before a long run, and in the stdout a user saves), not in the table.
      process.stdout.write(`seed: ${seed}\n`);
      const document = await readScenarioDocument(file);
      const checks = { count: 0 };
      let result: Result;
      try {
        result = options.sweep
          ? await runSweep(document, file, options.sweep, seed, options.paranoid, checks)
          : await runWithProgress(asScenario(document, file), seed, '', options.paranoid, checks);
      } catch (error) {
        // A broken invariant is the simulator's bug, not bad input: say where, with the seed that
        // reproduces it, and exit 1 rather than with a stack trace.
        if (!(error instanceof SimulationError)) throw error;
        process.stderr.write(`beanlab sim: ${error.message}\nreproduce: beanlab sim ${file} --seed ${seed}${options.paranoid ? ` --paranoid=${options.paranoid}` : ''}\n`);
        process.exitCode = exitCodes.failed;
        return;
      }
      process.stdout.write(terminalSummary(result, { showSeed: false }));
      if (options.paranoid !== undefined) {
        process.stdout.write(`paranoid: invariants checked ${checks.count} times (every ${options.paranoid} events and at the end): all held\n`);
      }
      await writeOutputs(result, options);
      process.exitCode = result.pass ? exitCodes.ok : exitCodes.failed;
    });
}

/** Reads and validates a scenario file; bad input becomes a one-line UsageError. */
export async function loadScenarioFile(file: string): Promise<Scenario> {
  return asScenario(await readScenarioDocument(file), file);
}

async function readScenarioDocument(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read scenario ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return parseScenarioYaml(text, file);
  } catch (err) {
    throw err instanceof ScenarioError ? new UsageError(err.message) : err;
  }
}

function asScenario(document: unknown, source: string): Scenario {
  try {
    return validateScenario(document, source);
  } catch (err) {
    throw err instanceof ScenarioError ? new UsageError(err.message) : err;
  }
}

async function runSweep(
  document: unknown,
  file: string,
  sweep: SweepSpec,
  seed: number,
  paranoidEvery?: number,
  checks?: { count: number },
): Promise<Result> {
  // Validate every variant before simulating any, so a bad range fails fast.
  const scenarios = sweep.values.map((value) => {
    try {
      return asScenario(withSweepValue(document, sweep.key, value), `${file} (${sweep.key}=${value})`);
    } catch (err) {
      throw err instanceof ScenarioError ? new UsageError(err.message) : err;
    }
  });
  const runs: Array<{ value: number; result: RunResult }> = [];
  for (const [i, scenario] of scenarios.entries()) {
    const label = `${sweep.key}=${sweep.values[i]} `;
    runs.push({ value: sweep.values[i], result: await runWithProgress(scenario, seed, label, paranoidEvery, checks) });
  }
  return combineSweep(sweep.key, runs);
}

/** Runs the simulation in slices, yielding to the event loop so a progress bar can draw. */
export async function runWithProgress(
  scenario: Scenario,
  seed: number,
  label: string,
  paranoidEvery = 0,
  checks?: { count: number },
): Promise<RunResult> {
  const simulation = createSimulation(scenario, seed, defaultModelFactory, { paranoidEvery });
  const startedMs = performance.now();
  let bar: cliProgress.SingleBar | undefined;
  while (!simulation.step(EVENTS_PER_SLICE)) {
    if (bar === undefined && process.stderr.isTTY && performance.now() - startedMs > PROGRESS_AFTER_MS) {
      bar = new cliProgress.SingleBar(
        { stream: process.stderr, format: `${label}{bar} {percentage}% | {eta_formatted} left`, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      bar.start(1000, 0);
    }
    bar?.update(Math.round(simulation.progress() * 1000));
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (bar) {
    bar.update(1000);
    bar.stop();
  }
  const result = simulation.result();
  if (checks) checks.count += simulation.checks;
  return result;
}

async function writeOutputs(result: Result, options: SimOptions): Promise<void> {
  if (options.json) await writeFileMakingDirs(options.json, resultJson(result));
  if (options.report) {
    process.stderr.write(`report: ${await writeSimReport(options.report, result)}\n`);
  }
}

function resultJson(result: Result): string {
  return JSON.stringify(result, null, 2) + '\n';
}

/** Writes DIR/result.json, DIR/report.md and a self-contained DIR/report.html; returns the HTML path. */
export async function writeSimReport(dir: string, result: Result): Promise<string> {
  const html = join(dir, 'report.html');
  await writeFileMakingDirs(join(dir, 'result.json'), resultJson(result));
  await writeFile(join(dir, 'report.md'), markdownReport(result));
  await writeFile(html, htmlReport(result, await readUplotAssets()));
  return html;
}

async function writeFileMakingDirs(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
}
