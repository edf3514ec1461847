// `beanlab load`: a scenario against a real server, with a progress bar, the autocannon-style
// table, JSON and reports. Ctrl-C stops the run cleanly and still writes the (partial) result.
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { compareAb, DEFAULT_THRESHOLDS, parseThresholds, runsNeeded, ThresholdError, type Threshold } from '../metrics/compare.js';
import type { LoadResult } from '../metrics/load-result.js';
import { compareMarkdown } from '../report/compare-markdown.js';
import { loadTerminalReport } from '../report/load-table.js';
import type { Scenario } from '../scenario/schema.js';
import { runLoad } from '../api/load.js';
import { PlanError, TargetError, planLoad, type LoadOptions, type LoadProgress, type TargetSpec } from '../load/index.js';
import { NotStartedError } from '../load/run.js';
import { BarrierTimeout } from '../load/rendezvous.js';
import { checkRunId, deriveRunId, MAX_SHARDS, parseShard, shardPlan, type ShardSpec } from '../load/shard.js';
import { runProcesses, type ChildMessage } from '../load/processes.js';
import { descriptorsNeeded, readOpenFilesLimit } from '../load/fd-limit.js';
import { checkSpawnCommand } from '../target/spec.js';
import { UsageError, exitCodes } from './errors.js';
import { readScenarioFile, resultJson, writeLoadReport, writeMakingDirs } from './files.js';

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
  orderSeed?: number;
  confidence?: number;
  threshold: string;
  json?: string;
  report?: string;
  shard?: string;
  runId?: string;
  barrier?: boolean;
  barrierTimeout?: number;
  startAt?: number;
  processes?: number | true;
  /** Internal: a shard started by --processes (IPC progress, nothing on stdout). */
  child?: boolean;
  /** Internal: the parent started the server the child's --target points at. */
  childServerOurs?: boolean;
}

/** The start barrier's default bound: pods may take minutes to be scheduled and pull an image. */
const BARRIER_TIMEOUT_SECONDS = 300;
/** --processes: children start within seconds on one machine. */
const PROCESSES_BARRIER_TIMEOUT_SECONDS = 60;
/** --start-at this far ahead is a typo, not a plan. */
const MAX_START_AHEAD_MS = 24 * 3600 * 1000;

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
        'or (A/B) a regression is found; 2 for bad input, an unreachable target or too few open files.\n' +
        'A shard (--shard I/N) calls a job it did not finish and the server no longer has gone, not\n' +
        'lost: a sibling may have completed it; beanlab merge of every shard decides (docs/kubernetes.md).',
    )
    .argument('<scenario>', 'scenario YAML file (the same format as beanlab sim)')
    .option('--target <host:port|unix:path>', 'a running server (default: the embedded server, started as its own process)')
    .option('--spawn <command>', "start this server for each run; {port} (or {socket}, a UNIX-socket path) is replaced, e.g. 'beanstalkd -l 127.0.0.1 -p {port}'")
    .option('--baseline-target <host:port|unix:path>', 'A/B mode: as many runs against this baseline server, the runs of both in a random order')
    .option('--baseline-spawn <command>', 'A/B mode with a baseline started by a command with {port} or {socket}')
    .option('--duration <seconds>', 'how long producers put (overrides durationSeconds)', positiveNumber('--duration', false))
    .option('--rate <n>', 'open loop at n puts per second in total', positiveNumber('--rate', false))
    .option('--connections <n>', 'connections per producer', positiveNumber('--connections', true))
    .option('--pipeline <n>', 'closed loop: puts kept outstanding per connection', positiveNumber('--pipeline', true))
    .option(
      '--repeat <n>',
      'run n times; results merge and compare uses each run as a sample (default 1; in A/B mode the fewest pairs that give a verdict: 5 for the default table)',
      positiveNumber('--repeat', true),
    )
    .option('--driver <name>', 'beanlab (default) or jackd', driverName)
    .option(
      '--reply-timeout <seconds>',
      'a request unanswered this long fails its connection; what it leaves unanswered is counted and timed at its age (default 10)',
      positiveNumber('--reply-timeout', false),
    )
    .option('--seed <n>', 'seed for arrivals, service times and priorities', seedIn('--seed'), 1)
    .option('--order-seed <n>', 'A/B mode: seed of the random order of the runs (default: a fresh one, printed)', seedIn('--order-seed'))
    .option('--threshold <list>', 'A/B regression limits', DEFAULT_THRESHOLDS)
    .option('--confidence <level>', "A/B: the comparison's confidence (default 0.95; 0.99 runs 7 pairs unless --repeat says otherwise)", confidenceLevel)
    .option('--json <file>', "write the result as JSON ('-': on stdout, one line, and the table on stderr)")
    .option('--report <dir>', 'write result.json, report.md and report.html into this directory')
    .option(
      '--processes [n]',
      'run as n shards in n child processes (default: one per core) against one server, merged into one result',
      positiveNumber('--processes', true),
    )
    .option('--shard <I/N>', 'run shard I of N (from 0): a deterministic slice; N shards together are the scenario (docs/kubernetes.md)')
    .option('--run-id <id>', "the run's id, shared by its shards (default: derived from the scenario, the seed and --start-at)")
    .option('--barrier', 'with --shard: start once all N shards have started, meeting through the server')
    .option('--barrier-timeout <seconds>', `give up waiting at the barrier after this long (default ${BARRIER_TIMEOUT_SECONDS})`, positiveNumber('--barrier-timeout', false))
    .option('--start-at <epoch-ms>', 'with --shard: start the load at this time (milliseconds since 1970; clocks in sync)', epochMs)
    .addOption(new Option('--child', 'a shard of --processes').hideHelp())
    .addOption(new Option('--child-server-ours', 'the parent started the target').hideHelp())
    .action(async (file: string, options: LoadCliOptions) => {
      const scenario = await readScenarioFile(file);
      const thresholds = thresholdsOf(options.threshold);
      const run = runOptions(options);
      const sharding = shardingOf(options, scenario, run);
      // --processes opens no connection itself: each shard checks its own slice.
      if (options.processes === undefined) ensureDescriptors(scenario, run, sharding.shard);
      const controller = new AbortController();
      let interruptedAtMs: number | undefined;
      const onSigint = (): void => {
        if (interruptedAtMs === undefined) {
          interruptedAtMs = Date.now();
          // A shard of --processes: its parent says it once for all of them.
          if (!options.child) process.stderr.write('\nbeanlab load: stopping (Ctrl-C); the jobs are audited and the partial result is still written\n');
          controller.abort();
          return;
        }
        // One keypress can arrive twice (a terminal signals the group, and npm forwards it too).
        if (Date.now() - interruptedAtMs < SECOND_CTRL_C_AFTER_MS) return;
        if (!options.child) process.stderr.write('beanlab load: Ctrl-C again: exiting without the final audit or a result\n');
        // The exit hooks stop any server this run started (and --processes' children get this SIGINT too).
        process.exit(130);
      };
      process.on('SIGINT', onSigint);
      const progress = options.child ? childProgress() : progressReporter();
      let result: LoadResult;
      try {
        if (options.processes !== undefined) {
          result = await runAsProcesses(file, scenario, options, run, sharding.runId!, controller.signal, progress.update);
        } else {
          result = await runLoad(scenario, {
            ...run,
            ...sharding,
            signal: controller.signal,
            onProgress: progress.update,
          });
        }
      } catch (error) {
        if (error instanceof TargetError || error instanceof PlanError || error instanceof BarrierTimeout) throw new UsageError(error.message);
        if (error instanceof NotStartedError) {
          process.exitCode = exitCodes.failed;
          process.stderr.write(`beanlab load: ${error.message}; no result\n`);
          return;
        }
        throw error;
      } finally {
        progress.stop();
        // The handler stays: a keypress delivered twice (the group, then npm or a parent passing
        // it on) can arrive after a quick stop, and must not kill the process before its output.
      }
      const toStdout = options.json === '-';
      if (!options.child) (toStdout ? process.stderr : process.stdout).write(loadTerminalReport(result));
      let regression = false;
      let abMarkdown: string | undefined;
      if (result.load.ab) {
        const comparison = compareAb(result, thresholds, options.confidence);
        regression = comparison.regression;
        const { order, orderSeed, baselineTarget } = result.load.ab;
        abMarkdown =
          (order === undefined ? '' : `A/B runs in random order (--order-seed ${orderSeed} repeats it): ${order}\n\n`) +
          compareMarkdown(comparison, `A/B against ${baselineTarget}`);
        process.stdout.write('\n' + abMarkdown);
      }
      if (toStdout) process.stdout.write(JSON.stringify(result) + '\n');
      else if (options.json) await writeMakingDirs(options.json, resultJson(result));
      if (options.report) process.stderr.write(`report: ${await writeLoadReport(options.report, result, abMarkdown)}\n`);
      const ok = result.pass && !result.load.interrupted && !regression;
      process.exitCode = ok ? exitCodes.ok : exitCodes.failed;
    });
}

/**
 * Enough open files for the run, checked before any load starts: a one-line UsageError (exit 2)
 * when the limit is short. Node itself raises the soft limit to the hard one when it starts
 * (src/load/fd-limit.ts), so what is read here is already the most this process can have.
 */
function ensureDescriptors(scenario: Scenario, options: LoadOptions, shard?: ShardSpec): void {
  let plan;
  try {
    plan = planLoad(scenario, options);
    if (shard) plan = shardPlan(plan, shard);
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

/**
 * What --shard, --processes, --run-id, --barrier and --start-at ask for, checked. A lone shard
 * derives the run id its siblings derive too; --processes draws one for its children.
 */
function shardingOf(options: LoadCliOptions, scenario: Scenario, run: LoadOptions): Pick<LoadOptions, 'shard' | 'runId' | 'barrierTimeoutMs' | 'startAtMs'> {
  const sharded = options.shard !== undefined || options.processes !== undefined;
  if (options.shard !== undefined && options.processes !== undefined) throw new UsageError('--shard and --processes exclude each other (--processes starts its own shards)');
  for (const [flag, given] of [
    ['--run-id', options.runId],
    ['--barrier', options.barrier],
    ['--barrier-timeout', options.barrierTimeout],
    ['--start-at', options.startAt],
  ] as const) {
    if (given !== undefined && !sharded) throw new UsageError(`${flag} is for sharded runs: add --shard I/N or --processes`);
  }
  if (!sharded) return {};
  if ((run.repeat ?? 1) > 1 || run.baselineTarget !== undefined) throw new UsageError('a sharded run runs once: --repeat and A/B mode do not combine with --shard or --processes');
  if (scenario.load.http) throw new UsageError('load.http (the HTTP front end) runs in one process: it does not combine with --shard or --processes');
  if (options.startAt !== undefined && options.startAt > Date.now() + MAX_START_AHEAD_MS) {
    throw new UsageError(`--start-at ${options.startAt} is more than a day ahead (${new Date(options.startAt).toISOString()}): milliseconds since 1970 expected`);
  }
  const runId = options.runId !== undefined ? checked(() => checkRunId(options.runId!)) : options.processes !== undefined ? `${scenario.name.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 24) || 'run'}-${randomBytes(4).toString('hex')}` : deriveRunId(scenario, run.seed ?? 1, options.startAt);
  if (options.processes !== undefined) {
    const count = options.processes === true ? availableParallelism() : options.processes;
    if (count > MAX_SHARDS) throw new UsageError(`--processes ${count}: at most ${MAX_SHARDS}`);
    options.processes = count;
    return { runId, startAtMs: options.startAt };
  }
  const shard = checked(() => parseShard(options.shard!));
  if (shard.count > 1 && options.target === undefined) {
    throw new UsageError(`--shard ${options.shard} needs --target: the shards of a run share one server (a server of its own would leave the siblings apart)`);
  }
  return {
    shard,
    runId,
    barrierTimeoutMs: options.barrier || options.barrierTimeout !== undefined ? (options.barrierTimeout ?? BARRIER_TIMEOUT_SECONDS) * 1000 : undefined,
    startAtMs: options.startAt,
  };
}

function checked<T>(f: () => T): T {
  try {
    return f();
  } catch (error) {
    throw error instanceof PlanError ? new UsageError(error.message) : error;
  }
}

/** --processes: the children are shards of this run; the parent merges them. */
async function runAsProcesses(
  file: string,
  scenario: Scenario,
  options: LoadCliOptions,
  run: LoadOptions,
  runId: string,
  signal: AbortSignal,
  onProgress: (p: LoadProgress) => void,
): Promise<LoadResult> {
  const count = options.processes as number;
  const plan = planLoad(scenario, run);
  const producingMs = Math.min(plan.maxDurationUs, plan.durationUs + plan.drainUs) / 1000;
  const childArgs: string[] = [];
  const pass = (flag: string, value: string | number | undefined) => {
    if (value !== undefined) childArgs.push(flag, String(value));
  };
  pass('--duration', options.duration);
  pass('--rate', options.rate);
  pass('--connections', options.connections);
  pass('--pipeline', options.pipeline);
  pass('--driver', options.driver);
  pass('--reply-timeout', options.replyTimeout);
  pass('--seed', options.seed);
  const outcome = await runProcesses(scenario, {
    count,
    scenarioFile: file,
    childArgs,
    target: run.target,
    runId,
    barrierTimeoutMs: (options.barrierTimeout ?? PROCESSES_BARRIER_TIMEOUT_SECONDS) * 1000,
    startAtMs: options.startAt,
    childBoundMs: (Number.isFinite(producingMs) ? producingMs : plan.maxDurationUs / 1000) + 2 * (run.requestTimeoutMs ?? 10_000) + 60_000,
    signal,
    onProgress,
    onChildOutput: (index, line) => process.stderr.write(`shard ${index}/${count}: ${line}\n`),
    // For logs (a terminal has the progress bar): the moment every shard is under way.
    onStarted: () => !process.stderr.isTTY && process.stderr.write(`beanlab load: ${count} shard${count === 1 ? '' : 's'} of run ${runId} started\n`),
  });
  for (const failure of outcome.failures) process.stderr.write(`beanlab load: shard ${failure.index}/${count} wrote no result (${failure.how})\n`);
  if (outcome.result === undefined) {
    const usage = outcome.failures.find((f) => /exit status 2/.test(f.how));
    if (usage) throw new UsageError(`no shard wrote a result; shard ${usage.index} said: ${lastLine(usage.stderr)}`);
    if (signal.aborted) throw new NotStartedError('interrupted before the shards started');
    throw new Error(`no shard wrote a result: ${outcome.failures.map((f) => `shard ${f.index} ${f.how}`).join(', ')}`);
  }
  return outcome.result;
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return (lines[lines.length - 1] ?? '').replace(/^beanlab: /, '');
}

export function runOptions(options: LoadCliOptions): LoadOptions {
  if (options.target !== undefined && options.spawn !== undefined) throw new UsageError('--target and --spawn exclude each other');
  if (options.baselineTarget !== undefined && options.baselineSpawn !== undefined) {
    throw new UsageError('--baseline-target and --baseline-spawn exclude each other');
  }
  const ab = options.baselineTarget !== undefined || options.baselineSpawn !== undefined;
  if (options.orderSeed !== undefined && !ab) throw new UsageError('--order-seed orders the runs of an A/B run: it needs --baseline-target or --baseline-spawn');
  if (options.confidence !== undefined && !ab) throw new UsageError("--confidence is an A/B run's comparison's: it needs --baseline-target or --baseline-spawn (beanlab compare takes it too)");
  const target = targetOf(options.target, options.spawn, options.childServerOurs);
  return {
    target,
    baselineTarget: targetOf(options.baselineTarget, options.baselineSpawn),
    durationSeconds: options.duration,
    ratePerSecond: options.rate,
    connections: options.connections,
    pipeline: options.pipeline,
    // A/B mode exists to tell a regression from noise; with fewer pairs than the verdict's
    // interval needs (5 for the default table at 95%) every change would be "inconclusive".
    repeat: options.repeat ?? (ab ? runsNeeded(thresholdsOf(options.threshold), options.confidence) : 1),
    driver: options.driver,
    seed: options.seed,
    orderSeed: options.orderSeed,
    requestTimeoutMs: options.replyTimeout === undefined ? undefined : Math.round(options.replyTimeout * 1000),
  };
}

/** A second Ctrl-C this long after the first ends the run at once. */
const SECOND_CTRL_C_AFTER_MS = 1000;

function targetOf(address: string | undefined, command: string | undefined, ours = false): TargetSpec | undefined {
  if (address !== undefined) return { kind: 'address', address, ours };
  if (command !== undefined) {
    try {
      checkSpawnCommand(command);
    } catch (error) {
      throw error instanceof TargetError ? new UsageError(error.message) : error;
    }
    return { kind: 'spawn', command };
  }
  return undefined;
}

function driverName(value: string): 'beanlab' | 'jackd' {
  if (value !== 'beanlab' && value !== 'jackd') throw new UsageError(`--driver must be beanlab or jackd, got '${value}'`);
  return value;
}

function epochMs(value: string): number {
  if (!/^\d{1,15}$/.test(value)) throw new UsageError(`--start-at must be a time in milliseconds since 1970 (as \`date +%s%3N\` prints), got '${value}'`);
  return Number(value);
}

function seedIn(option: string): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value) || Number(value) > 2147483647) throw new UsageError(`${option} must be an integer from 0 to 2147483647, got '${value}'`);
    return Number(value);
  };
}

/** `--confidence`: 0.99 or 99%, above 0.5 and below 1. */
export function confidenceLevel(text: string): number {
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(text);
  const value = percent ? Number(percent[1]) / 100 : /^\d*\.\d+$/.test(text) ? Number(text) : NaN;
  if (!(value > 0.5 && value < 1)) throw new UsageError(`--confidence must be above 0.5 and below 1, as 0.99 or 99%, got '${text}'`);
  return value;
}

export function thresholdsOf(text: string): Threshold[] {
  try {
    return parseThresholds(text);
  } catch (error) {
    throw error instanceof ThresholdError ? new UsageError(error.message) : error;
  }
}

/** A shard of --processes reports its progress to the parent, which shows one display for all. */
function childProgress(): { update(p: LoadProgress): void; stop(): void } {
  return {
    update(progress) {
      const message: ChildMessage = { kind: 'progress', progress };
      if (process.connected) process.send?.(message);
    },
    stop() {
      if (process.connected) process.disconnect();
    },
  };
}

/**
 * A progress bar on a terminal (stderr), nothing otherwise. `prefix` names the run among
 * others (validate's `real run 1/3`); the label goes on with the repeat, side and phase.
 */
export function progressReporter(prefix = ''): { update(p: LoadProgress): void; stop(): void } {
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
      // A/B: the run among all, then which side's how many-th (the order is random).
      const which = p.runs > p.repeats ? `run ${p.run}/${p.runs}, ${p.side} ${p.repeat}/${p.repeats} ` : p.repeats > 1 ? `run ${p.repeat}/${p.repeats} ` : '';
      const label = `${prefix ? `${prefix} ` : ''}${which}${p.phase}`;
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
