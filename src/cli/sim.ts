// `beanlab sim SCENARIO`: runs a scenario through the deterministic simulator and prints the
// summary; --sweep runs it once per value and answers the capacity question. Exit 0 when every
// SLO holds (for a sweep: when some value meets them all), 1 when not, 2 for bad input.
import { randomInt } from 'node:crypto';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { simulate, type SimulateProgress } from '../api/simulate.js';
import type { Result } from '../metrics/result.js';
import { terminalSummary } from '../report/terminal.js';
import { ScenarioError } from '../scenario/load.js';
import { parseSweep, type SweepSpec } from '../scenario/sweep.js';
import { MAX_SEED } from '../scenario/random.js';
import { SimulationError } from '../sim/engine.js';
import type { Scenario } from '../scenario/schema.js';
import { UsageError, exitCodes } from './errors.js';
import { readScenarioDocument, readScenarioFile, resultJson, writeMakingDirs, writeSimReport } from './files.js';

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
      // A sweep edits the document before validating each value; a single run validates it whole.
      const scenario = options.sweep ? await readScenarioDocument(file) : await readScenarioFile(file);
      const progress = progressBar(options.sweep?.key);
      let result: Result;
      try {
        result = await simulate(scenario as Scenario, {
          seed,
          sweep: options.sweep,
          paranoidEvery: options.paranoid,
          source: file,
          onProgress: progress.update,
        });
      } catch (error) {
        if (error instanceof ScenarioError) throw new UsageError(error.message);
        // A broken invariant is the simulator's bug, not bad input: say where, with the seed that
        // reproduces it, and exit 1 rather than with a stack trace.
        if (!(error instanceof SimulationError)) throw error;
        process.stderr.write(`beanlab sim: ${error.message}\nreproduce: beanlab sim ${file} --seed ${seed}${options.paranoid ? ` --paranoid=${options.paranoid}` : ''}\n`);
        process.exitCode = exitCodes.failed;
        return;
      } finally {
        progress.stop();
      }
      process.stdout.write(terminalSummary(result, { showSeed: false }));
      if (options.paranoid !== undefined) {
        process.stdout.write(`paranoid: invariants checked ${progress.invariantChecks()} times (every ${options.paranoid} events and at the end): all held\n`);
      }
      await writeOutputs(result, options);
      process.exitCode = result.pass ? exitCodes.ok : exitCodes.failed;
    });
}

/** Reads and validates a scenario file; bad input becomes a one-line UsageError. */
export const loadScenarioFile = readScenarioFile;

/** A simulation with a progress bar on a terminal when it runs longer than a second (`beanlab start`). */
export async function simulateWithProgress(scenario: Scenario, seed: number): Promise<Result> {
  const progress = progressBar();
  try {
    return await simulate(scenario, { seed, onProgress: progress.update });
  } finally {
    progress.stop();
  }
}

/**
 * A progress bar on stderr for runs long enough to want one (a terminal only): it appears after
 * PROGRESS_AFTER_MS, one bar per run of a sweep, labelled with the swept value.
 */
function progressBar(sweepKey?: string): { update(p: SimulateProgress): void; stop(): void; invariantChecks(): number } {
  const startedMs = performance.now();
  let bar: cliProgress.SingleBar | undefined;
  let run = 0;
  let checks = 0;
  const stop = () => {
    bar?.stop();
    bar = undefined;
  };
  return {
    update(p) {
      checks = p.invariantChecks;
      if (p.run !== run) {
        stop();
        run = p.run;
      }
      if (bar === undefined && p.fraction < 1 && process.stderr.isTTY && performance.now() - startedMs > PROGRESS_AFTER_MS) {
        const label = p.sweepValue === undefined ? '' : `${sweepKey}=${p.sweepValue} `;
        bar = new cliProgress.SingleBar(
          { stream: process.stderr, format: `${label}{bar} {percentage}% | {eta_formatted} left`, hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(1000, 0);
      }
      bar?.update(Math.round(p.fraction * 1000));
    },
    stop,
    invariantChecks: () => checks,
  };
}

async function writeOutputs(result: Result, options: SimOptions): Promise<void> {
  if (options.json) await writeMakingDirs(options.json, resultJson(result));
  if (options.report) {
    process.stderr.write(`report: ${await writeSimReport(options.report, result)}\n`);
  }
}
