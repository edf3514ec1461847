// `beanlab load`: a scenario against a real server, with a progress bar, the autocannon-style
// table, JSON and reports. Ctrl-C stops the run cleanly and still writes the (partial) result.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { compareAb, DEFAULT_THRESHOLDS, parseThresholds, ThresholdError, type Threshold } from '../metrics/compare.js';
import type { LoadResult } from '../metrics/load-result.js';
import { compareMarkdown } from '../report/compare-markdown.js';
import { loadTerminalReport } from '../report/load-table.js';
import { parseScenario, ScenarioError } from '../scenario/load.js';
import type { Scenario } from '../scenario/schema.js';
import { PlanError, TargetError, planLoad, runLoad, writeLoadReport, type LoadOptions, type LoadProgress, type TargetSpec } from '../load/index.js';
import { descriptorsNeeded, readOpenFilesLimit } from '../load/fd-limit.js';
import { resultJson } from '../load/report-files.js';
import { UsageError, exitCodes } from './errors.js';

export interface LoadCliOptions {
  target?: string;
  spawn?: string;
  baselineTarget?: string;
  baselineSpawn?: string;
  duration?: number;
  rate?: number;
  connections?: number;
  pipeline?: number;
  repeat?: number;
  driver?: 'beanlab' | 'jackd';
  replyTimeout?: number;
  seed: number;
  threshold: string;
  json?: string;
  report?: string;
}

export function positiveNumber(name: string, integer: boolean): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
      throw new UsageError(`${name} must be a positive ${integer ? 'integer' : 'number'}, got '${value}'`);
    }
    return n;
  };
}

export function register(program: Command): void {
  program
    .command('load')
    .description(
      'Run a scenario against a real server: producers and workers as TCP connections, latency in HDR\n' +
        'histograms, server stats every second, every acknowledged job accounted for at the end.\n' +
        'Exit 0 when the run completes and its SLOs hold; 1 when an SLO fails, a job is lost,\n' +
        'duplicated, unverified or not deleted, an operation goes unanswered, the run is interrupted\n' +
        'or (A/B) a regression is found; 2 for bad input, an unreachable target or too few open files.',
    )
    .argument('<scenario>', 'scenario YAML file (the same format as beanlab sim)')
    .option('--target <host:port|unix:path>', 'a running server (default: the embedded server, started as its own process)')
    .option('--spawn <command>', "start this server for each run; {port} (or {socket}, a UNIX-socket path) is replaced, e.g. 'beanstalkd -l 127.0.0.1 -p {port}'")
    .option('--baseline-target <host:port|unix:path>', 'A/B mode: alternate runs against this baseline server')
    .option('--baseline-spawn <command>', 'A/B mode with a baseline started by a command with {port} or {socket}')
    .option('--duration <seconds>', 'how long producers put (overrides durationSeconds)', positiveNumber('--duration', false))
    .option('--rate <n>', 'open loop at n puts per second in total', positiveNumber('--rate', false))
    .option('--connections <n>', 'connections per producer', positiveNumber('--connections', true))
    .option('--pipeline <n>', 'closed loop: puts kept outstanding per connection', positiveNumber('--pipeline', true))
    .option(
      '--repeat <n>',
      'run n times; results merge and compare uses each run as a sample (default 1, and 5 in A/B mode: the fewest pairs that give a verdict)',
      positiveNumber('--repeat', true),
    )
    .option('--driver <name>', 'beanlab (default) or jackd', driverName)
    .option(
      '--reply-timeout <seconds>',
      'a request unanswered this long fails its connection; what it leaves unanswered is counted and timed at its age (default 10)',
      positiveNumber('--reply-timeout', false),
    )
    .option('--seed <n>', 'seed for arrivals, service times and priorities', seedNumber, 1)
    .option('--threshold <list>', 'A/B regression limits', DEFAULT_THRESHOLDS)
    .option('--json <file>', 'write the result as JSON')
    .option('--report <dir>', 'write result.json, report.md and report.html into this directory')
    .action(async (file: string, options: LoadCliOptions) => {
      const scenario = await readScenario(file);
      const thresholds = thresholdsOf(options.threshold);
      const run = runOptions(options);
      ensureDescriptors(scenario, run);
      const controller = new AbortController();
      let interruptedAtMs: number | undefined;
      const onSigint = (): void => {
        if (interruptedAtMs === undefined) {
          interruptedAtMs = Date.now();
          process.stderr.write('\nbeanlab load: stopping (Ctrl-C); the jobs are audited and the partial result is still written\n');
          controller.abort();
          return;
        }
        // One keypress can arrive twice (a terminal signals the group, and npm forwards it too).
        if (Date.now() - interruptedAtMs < SECOND_CTRL_C_AFTER_MS) return;
        process.stderr.write('beanlab load: Ctrl-C again: exiting without the final audit or a result\n');
        // The exit hooks stop any server this run started.
        process.exit(130);
      };
      process.on('SIGINT', onSigint);
      const progress = progressReporter();
      let result: LoadResult;
      try {
        result = await runLoad(scenario, { ...run, signal: controller.signal, onProgress: progress.update });
      } catch (error) {
        if (error instanceof TargetError || error instanceof PlanError) throw new UsageError(error.message);
        throw error;
      } finally {
        progress.stop();
        process.off('SIGINT', onSigint);
      }
      process.stdout.write(loadTerminalReport(result));
      let regression = false;
      if (result.load.ab) {
        const comparison = compareAb(result, thresholds);
        regression = comparison.regression;
        process.stdout.write('\n' + compareMarkdown(comparison, `A/B against ${result.load.ab.baselineTarget}`));
      }
      if (options.json) await writeMakingDirs(options.json, resultJson(result));
      if (options.report) process.stderr.write(`report: ${await writeLoadReport(options.report, result)}\n`);
      const ok = result.pass && !result.load.interrupted && !regression;
      process.exitCode = ok ? exitCodes.ok : exitCodes.failed;
    });
}

/**
 * Enough open files for the run, checked before any load starts: a one-line UsageError (exit 2)
 * when the limit is short. Node itself raises the soft limit to the hard one when it starts
 * (src/load/fd-limit.ts), so what is read here is already the most this process can have.
 */
function ensureDescriptors(scenario: Scenario, options: LoadOptions): void {
  let plan;
  try {
    plan = planLoad(scenario, options);
  } catch (error) {
    if (error instanceof PlanError) throw new UsageError(error.message);
    throw error;
  }
  const limit = readOpenFilesLimit();
  const needs = descriptorsNeeded(plan);
  if (limit === undefined || limit.soft >= needs.total) return;
  throw new UsageError(
    `this run needs about ${needs.total} open files (${needs.producerConnections} producer and ${needs.workerConnections} worker connections, ` +
      `plus its own) and the limit is ${limit.soft} (hard limit ${limit.hard === Infinity ? 'unlimited' : limit.hard}): ` +
      `raise it (ulimit -n ${needs.total}) or run fewer connections`,
  );
}

export function runOptions(options: LoadCliOptions): LoadOptions {
  if (options.target !== undefined && options.spawn !== undefined) throw new UsageError('--target and --spawn exclude each other');
  if (options.baselineTarget !== undefined && options.baselineSpawn !== undefined) {
    throw new UsageError('--baseline-target and --baseline-spawn exclude each other');
  }
  const target = targetOf(options.target, options.spawn);
  return {
    target,
    baselineTarget: targetOf(options.baselineTarget, options.baselineSpawn),
    durationSeconds: options.duration,
    ratePerSecond: options.rate,
    connections: options.connections,
    pipeline: options.pipeline,
    // A/B mode exists to tell a regression from noise; with fewer pairs than the verdict's
    // interval needs (5 for the default table) every change would be "inconclusive".
    repeat: options.repeat ?? (options.baselineTarget !== undefined || options.baselineSpawn !== undefined ? AB_DEFAULT_REPEAT : 1),
    driver: options.driver,
    seed: options.seed,
    requestTimeoutMs: options.replyTimeout === undefined ? undefined : Math.round(options.replyTimeout * 1000),
  };
}

const AB_DEFAULT_REPEAT = 5;
/** A second Ctrl-C this long after the first ends the run at once. */
const SECOND_CTRL_C_AFTER_MS = 1000;

function targetOf(address: string | undefined, command: string | undefined): TargetSpec | undefined {
  if (address !== undefined) return { kind: 'address', address };
  if (command !== undefined) {
    if (command.includes('{port}') === command.includes('{socket}')) {
      throw new UsageError(`the spawn command needs a {port} or a {socket} placeholder (one of them): '${command}'`);
    }
    return { kind: 'spawn', command };
  }
  return undefined;
}

function driverName(value: string): 'beanlab' | 'jackd' {
  if (value !== 'beanlab' && value !== 'jackd') throw new UsageError(`--driver must be beanlab or jackd, got '${value}'`);
  return value;
}

function seedNumber(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 2147483647) throw new UsageError(`--seed must be an integer from 0 to 2147483647, got '${value}'`);
  return Number(value);
}

export function thresholdsOf(text: string): Threshold[] {
  try {
    return parseThresholds(text);
  } catch (error) {
    throw error instanceof ThresholdError ? new UsageError(error.message) : error;
  }
}

async function readScenario(file: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read scenario ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    return parseScenario(text, file);
  } catch (error) {
    throw error instanceof ScenarioError ? new UsageError(error.message) : error;
  }
}

/** A progress bar on a terminal (stderr), nothing otherwise. */
function progressReporter(): { update(p: LoadProgress): void; stop(): void } {
  if (!process.stderr.isTTY) return { update: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, hideCursor: true, format: '{label} {bar} {elapsed}s | {puts} put, {completed} done, backlog {backlog}' },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(p) {
      const total = p.durationSeconds ?? 1;
      const value = p.phase === 'draining' ? total : Math.min(total, p.durationSeconds === undefined ? 0 : p.elapsedSeconds);
      const label = `${p.repeats > 1 ? `run ${p.repeat}/${p.repeats} ` : ''}${p.side === 'baseline' ? 'baseline ' : ''}${p.phase}`;
      const payload = { label, elapsed: p.elapsedSeconds.toFixed(1), puts: p.puts, completed: p.completed, backlog: p.backlog };
      if (!started) {
        bar.start(total, value, payload);
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(value, payload);
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

export async function writeMakingDirs(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
}
