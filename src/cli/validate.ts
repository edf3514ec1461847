// `beanlab validate SCENARIO`: the simulator's prediction (a band per metric over many seeds) held
// against a real run of the same scenario for the same duration. Exit 0 when the measurement
// agrees, 1 when it does not (or the real run was interrupted or failed), 2 for bad input or an
// unreachable target. The bands and the verdict are src/validate (pure); the real run is
// measure(), the load runner's public entry point.
//
// The order: the target is opened once; the round trip to it is calibrated (src/load/calibrate.ts:
// the network and the load generator's own path, never the server's work per command, so that a
// slow server is caught rather than calibrated away); the real runs go; then the simulator runs
// with the calibrated round trip and with service times longer by the workers' timer lateness the
// real runs measured (the workload the load generator actually applied, not the server's doing).
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CalibrationError, PathCalibration, type Calibration, type PathProbe } from '../load/calibrate.js';
import { PlanError, TargetError, openTarget, planLoad, runLoad, targetLabel, type LoadProgress, type TargetSpec } from '../load/index.js';
import { formatAddress } from '../target/address.js';
import { formatUs, TERMINAL_COLUMNS, wrapText } from '../report/format.js';
import type { LoadResult } from '../metrics/load-result.js';
import { SERVICE_OVERRUN_WARNING } from '../metrics/load-harness.js';
import type { RunResult } from '../metrics/result.js';
import { validateHtmlReport } from '../report/validate-html.js';
import { validateMarkdown, validateTerminalReport } from '../report/validate-format.js';
import { MAX_SEED } from '../scenario/random.js';
import type { Scenario } from '../scenario/schema.js';
import {
  checkMeasurement,
  pathSlack,
  predictionBands,
  serviceLateUs,
  simulatedRuns,
  validation,
  withDuration,
  type BandOptions,
  type PathFigures,
  type PredictionPlan,
  type Validation,
} from '../validate/index.js';
import { UsageError, exitCodes } from './errors.js';
import { progressReporter } from './load.js';
import { loadScenarioFile } from './sim.js';

export const DEFAULT_SEEDS = 20;

interface ValidateOptions {
  target?: string;
  spawn?: string;
  seeds: number;
  repeat: number;
  duration?: number;
  seed: number;
  spread: number;
  tolerance: number;
  slack: number;
  json?: string;
  report?: string;
  calibrate: boolean;
}

export interface MeasureOptions {
  seed: number;
  signal?: AbortSignal;
  onProgress?(progress: LoadProgress): void;
}

/**
 * The real side: one run of the scenario against the target, by the load runner as it is today
 * (src/load's runLoad, its public entry point). The scenario already carries validate's duration.
 */
export async function measure(scenario: Scenario, target: TargetSpec | undefined, options: MeasureOptions): Promise<LoadResult> {
  return runLoad(scenario, { target, seed: options.seed, repeat: 1, signal: options.signal, onProgress: options.onProgress });
}

function count(name: string, min: number, max: number): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      throw new UsageError(`${name} must be a whole number from ${min} to ${max}, got '${value}'`);
    }
    return Number(value);
  };
}

function nonNegative(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`${name} must be a number, 0 or more, got '${value}'`);
    return n;
  };
}

function positive(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`${name} must be a positive number, got '${value}'`);
    return n;
  };
}

export function register(program: Command): void {
  program
    .command('validate')
    .description(
      'Does a real server do what the simulator predicts? Simulates the scenario over many seeds for a\n' +
        'band per metric (queue wait and end to end mean/p50/p90/p99 overall, per tube and per priority\n' +
        'class; throughput; completed jobs), runs it against the server for the same duration, and says\n' +
        "per metric whether the measurement lies in the band: the seeds' range widened by its own width\n" +
        "(--spread), by --tolerance and, for latencies, by --slack. Exit 0 when it agrees, 1 when it\n" +
        'does not, 2 for bad input.\n' +
        'Before the real run the round trip to the server is calibrated: TCP handshakes to it plus the\n' +
        "load generator's own request/reply path against an echo server beanlab starts, never the\n" +
        "server's own work per command (that is reported, and left to the scenario's commandCostUs), so\n" +
        'a slow server disagrees. The simulation runs after the real run, with the calibrated round\n' +
        "trip and its service times longer by how late the real workers' timers fired.",
    )
    .argument('<scenario>', 'scenario YAML file (the same format as beanlab sim and load)')
    .option('--target <host:port|unix:path>', 'a running server (default: the embedded server, started as its own process)')
    .option('--spawn <command>', "start this server for the run; {port} or {socket} is replaced, e.g. 'beanstalkd -l 127.0.0.1 -p {port}'")
    .option('--seeds <n>', `simulated values per band (default ${DEFAULT_SEEDS})`, count('--seeds', 2, 10_000), DEFAULT_SEEDS)
    .option('--repeat <n>', 'real runs; the measurement is their median, each band value the median of as many simulated runs (default 1)', count('--repeat', 1, 100), 1)
    .option('--duration <seconds>', 'how long producers put, on both sides (overrides durationSeconds)', positive('--duration'))
    .option('--seed <n>', 'real runs use seeds n, n+1, ...; the simulations the seeds after them (default 1)', count('--seed', 0, MAX_SEED), 1)
    .option('--spread <k>', "widen the seeds' range on each side by k times its width (default 1)", nonNegative('--spread'), 1)
    .option('--tolerance <percent>', "and by this percentage of the edge's value (default 5)", nonNegative('--tolerance'), 5)
    .option('--slack <ms>', 'widen latency bands by at least this much more on each side (default 2)', nonNegative('--slack'), 2)
    .option('--no-calibrate', "use the scenario's server setting as it is, and simulated service times as configured")
    .option('--json <file>', 'write the validation as JSON')
    .option('--report <dir>', 'write validation.json, report.md and report.html into this directory')
    .action(async (file: string, options: ValidateOptions) => {
      const outcome = await runValidate(file, options);
      process.stdout.write(validateTerminalReport(outcome));
      if (options.json) await writeMakingDirs(options.json, JSON.stringify(outcome, null, 2) + '\n');
      if (options.report) process.stderr.write(`report: ${await writeValidateReport(options.report, outcome)}\n`);
      process.exitCode = outcome.agree ? exitCodes.ok : exitCodes.failed;
    });
}

async function runValidate(file: string, options: ValidateOptions): Promise<Validation> {
  if (options.target !== undefined && options.spawn !== undefined) throw new UsageError('--target and --spawn exclude each other');
  if (options.spawn !== undefined && options.spawn.includes('{port}') === options.spawn.includes('{socket}')) {
    throw new UsageError(`the spawn command needs a {port} or a {socket} placeholder (one of them): '${options.spawn}'`);
  }
  const target: TargetSpec | undefined =
    options.target !== undefined ? { kind: 'address', address: options.target } : options.spawn !== undefined ? { kind: 'spawn', command: options.spawn } : undefined;
  const scenario = withDuration(await loadScenarioFile(file), options.duration);
  if (scenario.durationSeconds === undefined) {
    // A job count alone says nothing of how long the real run takes (mmc: a million jobs is 35 h).
    throw new UsageError(`${file}: no durationSeconds; give the real run's length with --duration SECONDS`);
  }
  try {
    // The load runner's own check of the scenario (a bound, HTTP producers), before any simulating.
    if (planLoad(scenario).mode === 'closed') {
      // A closed loop puts as fast as the server answers: its rate is the server's, which the
      // simulator (open loop, the scenario's arrival processes) cannot predict.
      throw new UsageError(`${file}: validate compares open-loop runs, and load.mode is closed (the put rate would be the server's, not the scenario's)`);
    }
    if (scenario.load.http !== undefined) {
      // autocannon sends each second's requests in a burst and waits for answers: the puts' timing
      // is autocannon's, which the simulator (the scenario's arrival process) does not model.
      throw new UsageError(`${file}: validate compares runs whose puts follow the scenario's arrivals, and load.http paces them with autocannon`);
    }
  } catch (error) {
    if (error instanceof PlanError) throw new UsageError(`${file}: ${error.message}`);
    throw error;
  }
  const realSeeds = Array.from({ length: options.repeat }, (_, i) => options.seed + i);
  const firstSeed = options.seed + options.repeat;
  if (firstSeed + options.seeds * options.repeat - 1 > MAX_SEED) throw new UsageError(`--seed ${options.seed} leaves too few seeds below ${MAX_SEED}`);
  const bandOptions: BandOptions = { spread: options.spread, tolerance: options.tolerance / 100, slackUs: options.slack * 1000 };

  // A first Ctrl-C stops the real run (what it measured is still judged); a second, the simulation.
  const realRun = new AbortController();
  const simulation = new AbortController();
  const onSigint = (): void => {
    if (!realRun.signal.aborted) {
      process.stderr.write('\nbeanlab validate: stopping (Ctrl-C); what was measured is still reported\n');
      realRun.abort();
    } else simulation.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const spec = target ?? { kind: 'embedded' };
    const label = targetLabel(spec);
    const opened = await openTarget(spec).catch((error: unknown) => {
      throw error instanceof TargetError ? new UsageError(error.message) : error;
    });
    let calibration: Calibration | undefined;
    let session: PathCalibration | undefined;
    const measured: LoadResult[] = [];
    const path: PathFigures[] = [];
    try {
      if (options.calibrate) {
        process.stderr.write(`calibrating: the round trip to ${label}\n`);
        try {
          session = await PathCalibration.start(opened.address);
          calibration = await session.measure();
        } catch (error) {
          if (error instanceof CalibrationError) throw new UsageError(`calibrating against ${label}: ${error.message}`);
          throw error;
        }
        process.stderr.write(`${wrapText(calibrationLine(calibration), TERMINAL_COLUMNS, '  ').join('\n')}\n`);
      }
      // Every real run against the server opened (and calibrated) above.
      const runTarget: TargetSpec = { kind: 'address', address: formatAddress(opened.address), ours: opened.ours };
      for (const seed of realSeeds) {
        if (realRun.signal.aborted) break;
        process.stderr.write(`measuring: real run ${measured.length + 1} of ${realSeeds.length} (seed ${seed}) against ${label}\n`);
        const progress = progressReporter(`real run ${measured.length + 1}/${realSeeds.length}`);
        // Alongside the run: how much the path and the load generator add to a reply, no server involved.
        const probe: PathProbe | undefined = await session?.probe();
        try {
          const result = await measure(scenario, runTarget, { seed, signal: realRun.signal, onProgress: progress.update });
          measured.push(result);
          const probeUs = probe?.stop();
          const harness = result.load.harness;
          if (probeUs !== undefined && probeUs.count > 0 && harness !== undefined) {
            path.push({ sendLagUs: statsOf(harness.sendLagUs), probeUs: statsOf(probeUs), loopLagUs: statsOf(harness.eventLoopLagUs) });
          }
        } catch (error) {
          probe?.stop();
          if (error instanceof TargetError) throw new UsageError(error.message);
          throw error;
        } finally {
          progress.stop();
        }
      }
    } finally {
      await session?.close();
      await opened.stop();
    }
    if (measured.length === 0) throw new UsageError('interrupted before the real run began: nothing measured');
    const lateUs = options.calibrate ? serviceLateUs(measured.map((m) => m.load.harness)) : 0;
    const server = calibration === undefined ? { ...scenario.server } : { roundTripUs: calibration.roundTripUs, commandCostUs: scenario.server.commandCostUs };
    if (calibration !== undefined) {
      const line = `workers' timers fired ${formatUs(lateUs)} late on average: simulated service times are that much longer`;
      process.stderr.write(`${wrapText(line, TERMINAL_COLUMNS, '  ').join('\n')}\n`);
    }
    const plan: PredictionPlan = { firstSeed, groups: options.seeds, repeat: options.repeat, serviceLateUs: lateUs };
    const groups = await simulate({ ...scenario, server }, plan, simulation.signal);
    const judged: BandOptions = calibration === undefined || path.length === 0 ? bandOptions : { ...bandOptions, measuredSlackUs: pathSlack(path, server.roundTripUs) };
    const bands = predictionBands(groups, judged);
    return validation(
      {
        scenario: scenario.name,
        durationSeconds: scenario.durationSeconds ?? null,
        simulated: { firstSeed, groups: options.seeds, repeat: options.repeat },
        measured: {
          seeds: realSeeds.slice(0, measured.length),
          target: label,
          interrupted: realRun.signal.aborted || measured.some((m) => m.load.interrupted) || measured.length < realSeeds.length,
          errors: measured.flatMap((m) => m.load.errors),
          // Timers running late are accounted for when calibrated (the simulated service is longer).
          warnings: [...new Set(measured.flatMap((m) => m.load.harness?.warnings ?? []))].filter(
            (w) => calibration === undefined || !w.startsWith(SERVICE_OVERRUN_WARNING),
          ),
        },
        options: judged,
        server,
        calibration: calibration === undefined ? null : { ...calibration, serviceLateUs: lateUs, path },
      },
      checkMeasurement(bands, measured),
    );
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** The statistics validate judges, from a histogram summary. */
function statsOf(h: { mean: number; p50: number; p90: number; p99: number }): PathFigures['sendLagUs'] {
  return { mean: Math.round(h.mean), p50: h.p50, p90: h.p90, p99: h.p99 };
}

/** The calibration in one line for the progress log. */
function calibrationLine(c: Calibration): string {
  const cost = c.serverCostUs > 0 ? formatUs(c.serverCostUs) : `nil (${formatUs(-c.serverCostUs)} faster than the echo server)`;
  return (
    `calibrated: round trip ${formatUs(c.roundTripUs)} (handshake ${formatUs(c.handshakeUs)} − echo server handshake ` +
    `${formatUs(c.echoHandshakeUs)} + echo server command ${formatUs(c.echoCommandUs)}); a command took ` +
    `${formatUs(c.targetCommandUs)} against the server: its own cost per command appears to be ${cost}`
  );
}

/** The simulator's runs, grouped, with a progress bar on a terminal and a yield between runs. */
async function simulate(scenario: Scenario, plan: PredictionPlan, signal: AbortSignal): Promise<RunResult[][]> {
  const total = plan.groups * plan.repeat;
  process.stderr.write(`simulating: ${total} seeds (${plan.firstSeed}..${plan.firstSeed + total - 1})\n`);
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar({ stream: process.stderr, hideCursor: true, format: 'simulating {bar} {value}/{total} seeds' }, cliProgress.Presets.shades_classic)
    : undefined;
  bar?.start(total, 0);
  const groups: RunResult[][] = Array.from({ length: plan.groups }, () => []);
  try {
    let done = 0;
    for (const run of simulatedRuns(scenario, plan)) {
      groups[run.group].push(run.result);
      bar?.update(++done);
      await new Promise((resolve) => setImmediate(resolve));
      if (signal.aborted) throw new UsageError('interrupted while simulating: no prediction to judge the measurement by');
    }
  } finally {
    bar?.stop();
  }
  return groups;
}

/** Writes DIR/validation.json, DIR/report.md and DIR/report.html; returns the HTML path. */
export async function writeValidateReport(dir: string, outcome: Validation): Promise<string> {
  const html = join(dir, 'report.html');
  await writeMakingDirs(join(dir, 'validation.json'), JSON.stringify(outcome, null, 2) + '\n');
  await writeFile(join(dir, 'report.md'), validateMarkdown(outcome));
  await writeFile(html, validateHtmlReport(outcome));
  return html;
}

async function writeMakingDirs(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
}
