// `beanlab conform`: the transcript corpus and the model-based properties against one or more
// servers; a table grouped by protocol section (a matrix with several servers), JSON, Markdown
// and HTML reports, a replay file per failure, and with --mutation the suite's mutation score.
// Exit 0 when every check passes, 1 when any fails, 2 on bad usage or an unreachable target.
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { ConformanceError, runConformance, runConformanceMutation, type ConformanceMutation, type ConformanceOptions } from '../api/conformance.js';
import type { ConformanceResult } from '../conformance/result.js';
import { coverageOf } from '../conformance/suite.js';
import { notCoveredSummary } from '../conformance/testserv.js';
import { FAULTS, parseFault, type FaultSpec } from '../server/faults.js';
import { PROFILES, type Profile } from '../protocol/types.js';
import { formatConformanceHtml } from '../report/conformance-html.js';
import { formatConformanceJunit } from '../report/conformance-junit.js';
import { formatConformanceMarkdown, formatMutationTable, NOT_COVERED_TITLE, type MutationView } from '../report/conformance-markdown.js';
import { formatConformanceMatrix } from '../report/conformance-matrix.js';
import { formatConformanceTable } from '../report/conformance-table.js';
import { replayArgs, TargetError, type TargetSpec } from '../target/spec.js';
import { exitCodes, UsageError } from './errors.js';

export interface ConformOptions {
  target?: string | string[];
  spawn?: string | string[];
  profile: Profile;
  only?: string;
  json?: string;
  /** Also write the result as JUnit XML (one testcase per check). */
  junit?: string;
  report?: string;
  concurrency: number;
  seed?: number;
  runs?: number;
  quick?: boolean;
  exclusive?: boolean;
  /** Faults injected into the embedded server (only without --target/--spawn). */
  fault?: FaultSpec[];
  /** Run against every fault in turn and report the mutation score. */
  mutation?: boolean;
  /** Where failing sequences are written when there is no --report directory. */
  replayDir?: string;
  /** Every section and every failure in full in the terminal (default: one line per cause). */
  verbose?: boolean;
}

const DEFAULT_REPLAY_DIR = 'reports/replays';

function profile(value: string): Profile {
  if (!(PROFILES as readonly string[]).includes(value)) {
    throw new UsageError(`--profile must be one of ${PROFILES.join(', ')}, got '${value}'`);
  }
  return value as Profile;
}

function integer(name: string, min: number): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value) || Number(value) < min || !Number.isSafeInteger(Number(value))) {
      throw new UsageError(`${name} must be an integer ≥ ${min}, got '${value}'`);
    }
    return Number(value);
  };
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function collectFault(value: string, previous: FaultSpec[] = []): FaultSpec[] {
  try {
    return [...previous, parseFault(value)];
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function register(program: Command): void {
  program
    .command('conform')
    .description(
      'Check a server against beanstalkd: the transcript corpus (cases by protocol section) and\n' +
        'model-based properties (random multi-connection sequences compared with the reference\n' +
        'model). Without --target or --spawn it tests the embedded server. Each failure is shrunk\n' +
        'and written to a replay file for `beanlab replay`.\n' +
        'Exit status: 0 all passed, 1 some failed, 2 bad usage or unreachable target, 130\n' +
        'interrupted (Ctrl-C: the checks finished so far are printed and written, marked interrupted).',
    )
    .option('--target <host:port|unix:path>', 'a running server, shared with other clients (repeatable: a matrix)', collect)
    .option('--spawn <command>', 'a command that starts a fresh server per case, with {port} or {socket}, and optionally {binlog} and {max_job_size} (repeatable; see below)', collect)
    .addHelpText(
      'after',
      '\nExamples of --spawn (placeholders are filled in for every case):\n' +
        "  'beanstalkd -l 127.0.0.1 -p {port}'               a free loopback port\n" +
        "  'beanstalkd -l unix:{socket}'                     a fresh UNIX-socket path; adds the check that a\n" +
        '                                                    restarted server replaces its stale socket file\n' +
        "  'beanstalkd -b {binlog} -l 127.0.0.1 -p {port}'   a fresh binlog directory; runs the persistence\n" +
        '                                                    cases, which restart the server on it\n' +
        "  'beanstalkd -z {max_job_size} -l 127.0.0.1 -p {port}'\n" +
        '                                                    the job size limit a case asks for (default\n' +
        '                                                    65535); runs the cases that need a small one\n' +
        'A whole-suite run ends by listing the beanstalkd tests (testserv.c) its targets leave uncovered.',
    )
    .option('--profile <version>', `beanstalkd version whose behaviour to expect (${PROFILES.join(' or ')})`, profile, '1.12')
    .option('--seed <n>', 'seed of the generated sequences (default: random, printed)', integer('--seed', 0))
    .option('--runs <n>', 'generated sequences per property', integer('--runs', 1))
    .option('--only <prefix>', 'only checks whose id starts with this (e.g. worker/reserve)')
    .option('--quick', 'fewer and shorter generated sequences (about 20 s against beanstalkd)')
    .option('--exclusive', 'nobody else uses the --target server: compare global stats too (as deltas)')
    .option('--json <file>', 'also write the result as JSON')
    .option('--report <dir>', 'write result.json, report.md, report.html and replays/ there')
    .option('--junit <file>', 'also write JUnit XML for CI: one testcase per check, classname = section')
    .option('--concurrency <n>', 'corpus cases run at once on per-case servers', integer('--concurrency', 1), 8)
    .option('--fault <name[=value]>', `test the embedded server with a fault injected (${FAULTS.filter((f) => f.mutant).map((f) => f.name).join(', ')})`, collectFault)
    .option('--mutation', 'run the suite against the embedded server once per fault and print the mutation score')
    .option('--verbose', 'print every section and every failure in full (default: one line per root cause)')
    .action(async (options: ConformOptions) => {
      process.exitCode = await runConform(options);
    });
}

/** Runs the suite as the options say (runConformance), prints the table, writes reports, returns the exit code. */
export async function runConform(
  options: ConformOptions,
  log: (text: string) => void = (text) => process.stdout.write(text),
): Promise<number> {
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const clock = new RunClock();
  if (options.mutation) return runMutation(options, seed, log, clock);
  const specs = targetSpecs(options);
  // Ctrl-C at any point: what finished so far is printed and written, marked interrupted.
  const controller = new AbortController();
  const stopWatching = onCtrlC(log, controller);
  const bar = new ProgressBar();
  try {
    const results = await runConformance(specs, {
      ...libraryOptions(options, seed),
      signal: controller.signal,
      onProgress: (progress) => {
        if (progress.phase === 'targets-ready') {
          log(`beanlab conform: seed ${seed} (rerun with --seed ${seed}), profile ${options.profile}${options.quick ? ', quick' : ''}\n`);
        } else if (progress.phase === 'checks') {
          bar.show(progress.target, progress.checksDone, progress.checksTotal);
        } else {
          bar.stop();
          clock.suiteDone();
        }
      },
    }).catch(usageErrors);
    bar.stop();
    try {
      return emitResults(results, specs, seed, options, log, clock);
    } finally {
      // The checks abandoned by the abort may still be running: the exit ends them and their servers.
      if (controller.signal.aborted) process.exit(exitCodes.interrupted);
    }
  } finally {
    bar.stop();
    stopWatching();
  }
}

/** The library's options from the command line's. */
function libraryOptions(options: ConformOptions, seed: number): ConformanceOptions {
  const { profile, only, concurrency, runs, quick, exclusive } = options;
  return { profile, only, concurrency, runs, quick, exclusive, seed };
}

/** The library's errors about bad input (a target, an --only, the corpus) are usage errors here: exit 2. */
function usageErrors(error: unknown): never {
  if (error instanceof TargetError || error instanceof ConformanceError) throw new UsageError(error.message);
  throw error;
}

/** What --target, --spawn and --fault name: addresses, then commands; the embedded server if neither. */
function targetSpecs(options: ConformOptions): TargetSpec[] {
  const targets = ([] as string[]).concat(options.target ?? []);
  const spawns = ([] as string[]).concat(options.spawn ?? []);
  if (options.fault?.length && (targets.length > 0 || spawns.length > 0)) {
    throw new UsageError('--fault applies to the embedded server; give it without --target or --spawn');
  }
  const specs: TargetSpec[] = [
    ...targets.map((address): TargetSpec => ({ kind: 'address', address })),
    ...spawns.map((command): TargetSpec => ({ kind: 'spawn', command })),
  ];
  return specs.length > 0 ? specs : [{ kind: 'embedded', faults: options.fault ?? [] }];
}

/**
 * On SIGINT (Ctrl-C, to the whole process group) the run is aborted: runConformance resolves
 * with what finished, which is printed and written, then the process exits 130, as for every
 * target. The servers beanlab started run in process groups of their own (spawn.ts), so the
 * terminal's SIGINT does not end them under the checks still running; the exit then stops them.
 * Returns the function that stops watching.
 */
function onCtrlC(log: (text: string) => void, controller: AbortController): () => void {
  const handler = (): void => {
    log('\ninterrupted (Ctrl-C): the checks finished so far\n');
    controller.abort();
  };
  process.once('SIGINT', handler);
  return () => process.off('SIGINT', handler);
}

/** Checks done out of all against one target, on stderr when it is a terminal (a default run takes most of a minute). */
class ProgressBar {
  private bar: cliProgress.SingleBar | undefined;

  show(label: string, done: number, total: number): void {
    if (!process.stderr.isTTY || total === 0) return;
    if (!this.bar) {
      this.bar = new cliProgress.SingleBar(
        { stream: process.stderr, format: `${label} {bar} {value}/{total} checks | {eta_formatted} left`, hideCursor: true, clearOnComplete: true },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(total, done);
    } else {
      this.bar.update(done);
    }
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}

/** When the run started and how long each target's suite (or each fault's) took, for the JUnit report. */
class RunClock {
  readonly startedAt = new Date();
  readonly durationsSeconds: number[] = [];
  private lastMs = performance.now();

  suiteDone(): void {
    const nowMs = performance.now();
    this.durationsSeconds.push((nowMs - this.lastMs) / 1000);
    this.lastMs = nowMs;
  }

  view(): { startedAt: Date; durationsSeconds: readonly number[]; hostname: string } {
    return { startedAt: this.startedAt, durationsSeconds: this.durationsSeconds, hostname: hostname() };
  }
}

/** Prints the table (a matrix for several targets), writes replays, JSON and report; returns the exit code. */
function emitResults(
  results: ConformanceResult[],
  specs: TargetSpec[],
  seed: number,
  options: ConformOptions,
  log: (text: string) => void,
  clock: RunClock,
): number {
  const replayDir = options.report ? join(options.report, 'replays') : (options.replayDir ?? DEFAULT_REPLAY_DIR);
  results.forEach((result, i) => writeReplays(result, specs[i], replayDir, results.length > 1 ? i + 1 : undefined));
  // runConform's first line gave the seed.
  const table = (r: ConformanceResult) => formatConformanceTable(r, { verbose: options.verbose, seedPrinted: true });
  log(results.length === 1 ? table(results[0]) : results.map(table).join('\n') + '\n' + formatConformanceMatrix(results));
  // A whole-suite run says what it cannot check; a run narrowed with --only is not about that.
  const notCovered = options.only ? undefined : notCoveredLines(results, specs);
  if (notCovered) log(notCoveredText(notCovered, Boolean(options.verbose)));
  const json = results.length === 1 ? results[0] : { kind: 'conformance-matrix', seed, results };
  if (options.json) writeFile(options.json, JSON.stringify(json, null, 2) + '\n');
  if (options.report) writeReport(options.report, json, { seed, results, notCovered });
  if (options.junit) writeFile(options.junit, formatConformanceJunit({ seed, results, ...clock.view() }));
  return results.some((r) => r.failed > 0) ? exitCodes.failed : exitCodes.ok;
}

/**
 * What the suite leaves out of testserv.c: every line with --verbose (and in the reports); by
 * default the count and only the lines that say how to cover more.
 */
function notCoveredText(lines: string[], verbose: boolean): string {
  const tests = lines.reduce((sum, line) => sum + Number(/^(\d+)/.exec(line)?.[1] ?? 0), 0);
  const shown = verbose ? lines : lines.filter((line) => line.includes('--spawn') || line.includes('--target'));
  const title = verbose || shown.length === lines.length ? NOT_COVERED_TITLE : `Not covered: ${tests} testserv.c tests this suite has no case for (all: --verbose, the report)`;
  return `\n${title}:\n${shown.map((line) => wrapLine(line, '  ', '      ')).join('')}`;
}

/** `text` as lines of at most 100 columns, broken at spaces outside single quotes (a command stays whole). */
function wrapLine(text: string, first: string, rest: string): string {
  const words = text.match(/(?:'[^']*'|[^ '])+/g) ?? [text];
  const lines: string[] = [];
  let line = first;
  for (const word of words) {
    if (line.trim() !== '' && line.length + 1 + word.length > 100) {
      lines.push(line);
      line = rest;
    }
    line += line.trim() === '' ? word : ` ${word}`;
  }
  lines.push(line);
  return lines.map((l) => `${l}\n`).join('');
}

/** What the targets leave out; with several targets that differ, each line names its target. */
function notCoveredLines(results: ConformanceResult[], specs: TargetSpec[]): string[] {
  const perTarget = specs.map((spec) => notCoveredSummary(coverageOf(spec)));
  const same = perTarget.every((lines) => lines.join('\n') === perTarget[0].join('\n'));
  if (same) return perTarget[0];
  return perTarget.flatMap((lines, i) => lines.map((line) => `${results[i].target}: ${line}`));
}

/** Each failure's transcript goes to a file; its replay line then names that file. */
function writeReplays(result: ConformanceResult, spec: TargetSpec, dir: string, column?: number): void {
  const again = replayArgs(spec);
  // A check without a transcript (the probe's) keeps its `beanlab conform --only` line.
  const failing = result.checks.filter((c) => c.status === 'fail' && c.replay?.includes('\n'));
  if (failing.length === 0) return;
  mkdirSync(dir, { recursive: true });
  for (const check of failing) {
    const transcript = check.replay!.split('\n').slice(1).join('\n');
    const file = join(dir, `${column ? `${column}-` : ''}${check.id.replace(/\//g, '__')}.txt`);
    writeFile(file, transcript + '\n');
    check.replay = `beanlab replay ${file} --profile ${result.profile}${again ? ` ${again}` : ''}\n${transcript}`;
  }
}

function writeReport(dir: string, json: unknown, view: Parameters<typeof formatConformanceMarkdown>[0]): void {
  mkdirSync(dir, { recursive: true });
  writeFile(join(dir, 'result.json'), JSON.stringify(json, null, 2) + '\n');
  writeFile(join(dir, 'report.md'), formatConformanceMarkdown(view));
  writeFile(join(dir, 'report.html'), formatConformanceHtml(view));
}

function writeFile(file: string, text: string): void {
  try {
    writeFileSync(file, text);
  } catch (error) {
    throw new UsageError(`cannot write ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** The suite (quick budget unless told otherwise) against the embedded server once per fault. */
async function runMutation(options: ConformOptions, seed: number, log: (text: string) => void, clock: RunClock): Promise<number> {
  if (options.target || options.spawn || options.fault) throw new UsageError('--mutation runs against the embedded server only');
  const controller = new AbortController();
  const stopWatching = onCtrlC(log, controller);
  const bar = new ProgressBar();
  try {
    const mutation = await runConformanceMutation({
      ...libraryOptions(options, seed),
      signal: controller.signal,
      onProgress: (progress) => {
        if (progress.phase === 'targets-ready') log(`beanlab conform --mutation: seed ${seed}, profile ${options.profile}\n`);
        else if (progress.phase === 'checks') bar.show(progress.target, progress.checksDone, progress.checksTotal);
        else {
          bar.stop();
          clock.suiteDone();
        }
      },
    }).catch(usageErrors);
    bar.stop();
    try {
      return writeMutation(options, mutation, log, clock);
    } finally {
      if (controller.signal.aborted) process.exit(exitCodes.interrupted);
    }
  } finally {
    bar.stop();
    stopWatching();
  }
}

/** The mutation table, JSON and report; `interrupted` when Ctrl-C stopped the run (only finished faults listed). */
function writeMutation(options: ConformOptions, run: ConformanceMutation, log: (text: string) => void, clock: RunClock): number {
  const { results, ...json } = run;
  const { seed, interrupted } = run;
  const mutation: MutationView = { faults: run.faults };
  log(formatMutationTable(mutation));
  if (options.json) writeFile(options.json, JSON.stringify(json, null, 2) + '\n');
  if (options.report) writeReport(options.report, json, { seed, results, mutation, interrupted });
  // One testcase per fault: the suites under each fault fail by design, CI needs the score.
  const timing = clock.view();
  if (options.junit) writeFile(options.junit, formatConformanceJunit({ seed, results: [], mutation, ...timing, durationsSeconds: [timing.durationsSeconds.reduce((a, b) => a + b, 0)] }));
  return mutation.faults.every((f) => f.caught) ? exitCodes.ok : exitCodes.failed;
}
