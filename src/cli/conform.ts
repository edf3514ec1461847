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
import { INTEGER_IDS_CHECK_ID, integerIdsCheck, probeCapabilities } from '../conformance/capabilities.js';
import { loadCorpus } from '../conformance/corpus.js';
import { runCorpus, type CheckResult } from '../conformance/corpus-runner.js';
import { runProperties, selectedProperties } from '../conformance/properties/run.js';
import { buildResult, type ConformanceResult } from '../conformance/result.js';
import { notCoveredSummary } from '../conformance/testserv.js';
import { checkStaleSocketReplaced, STALE_SOCKET_CHECK_ID } from '../conformance/unix-socket.js';
import { TranscriptError, type TranscriptCase } from '../conformance/transcript.js';
import { FAULTS, parseFault, type FaultSpec } from '../server/faults.js';
import { PROFILES, type Profile } from '../protocol/types.js';
import { formatConformanceHtml } from '../report/conformance-html.js';
import { formatConformanceJunit } from '../report/conformance-junit.js';
import { formatConformanceMarkdown, formatMutationTable, NOT_COVERED_TITLE, type MutationView } from '../report/conformance-markdown.js';
import { formatConformanceMatrix } from '../report/conformance-matrix.js';
import { formatConformanceTable } from '../report/conformance-table.js';
import { nextEvent } from '../target/connection.js';
import type { TargetFactory } from '../target/sessions.js';
import { addressChoice, coverageOf, embeddedChoice, spawnChoice, type ChosenTarget } from './conform-targets.js';
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

/** Budgets of the generated layer: the default profile, and --quick. */
const BUDGETS = {
  default: { numRuns: 25, maxCommands: 25, timeLimitMs: 45_000 },
  quick: { numRuns: 8, maxCommands: 15, timeLimitMs: 9_000 },
} as const;
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

/** Runs the suite as the options say, prints the table, writes reports, returns the exit code. */
export async function runConform(
  options: ConformOptions,
  log: (text: string) => void = (text) => process.stdout.write(text),
): Promise<number> {
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const cases = corpusFor(options.only);
  const clock = new RunClock();
  if (options.mutation) return runMutation(options, cases, seed, log, clock);
  // Ctrl-C at any point: what finished so far is printed and written, marked interrupted.
  let choices: ChosenTarget[] | undefined;
  let finished: CheckResult[][] = [];
  const stopWatching = onCtrlC(log, () => {
    const targets = choices ?? plannedTargets(options);
    const partial = targets.map((choice, i) => ({ ...buildResult(choice.target.label, options.profile, finished[i] ?? [], seed), interrupted: true as const }));
    emitResults(partial, targets, seed, options, log, clock);
  });
  try {
    choices = await chooseTargets(options);
    finished = choices.map((): CheckResult[] => []);
    log(`beanlab conform: seed ${seed} (rerun with --seed ${seed}), profile ${options.profile}${options.quick ? ', quick' : ''}\n`);
    const results: ConformanceResult[] = [];
    for (const [i, choice] of choices.entries()) {
      results.push(await runSuite(choice, cases, seed, options, (check) => finished[i].push(check)));
      clock.suiteDone();
    }
    return emitResults(results, choices, seed, options, log, clock);
  } finally {
    stopWatching();
  }
}

/**
 * On SIGINT (Ctrl-C, to the whole process group), `write` prints and writes what finished, then
 * the process exits 130, as for every target. The servers beanlab started run in process groups
 * of their own (spawn.ts), so the terminal's SIGINT does not end them under the checks still
 * running; the exit then stops them. Returns the function that stops watching.
 */
function onCtrlC(log: (text: string) => void, write: () => void): () => void {
  const handler = (): void => {
    log('\ninterrupted (Ctrl-C): the checks finished so far\n');
    try {
      write();
    } finally {
      process.exit(exitCodes.interrupted);
    }
  };
  process.once('SIGINT', handler);
  return () => process.off('SIGINT', handler);
}

/** The targets as named on the command line, for a run interrupted before they were reached. */
function plannedTargets(options: ConformOptions): ChosenTarget[] {
  const named = [...([] as string[]).concat(options.target ?? []), ...([] as string[]).concat(options.spawn ?? [])];
  if (named.length === 0) return [embeddedChoice(options.fault)];
  return named.map((label) => ({ target: { ...embeddedChoice().target, label }, replayArgs: '', unixSocket: false }));
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
  choices: ChosenTarget[],
  seed: number,
  options: ConformOptions,
  log: (text: string) => void,
  clock: RunClock,
): number {
  const replayDir = options.report ? join(options.report, 'replays') : (options.replayDir ?? DEFAULT_REPLAY_DIR);
  results.forEach((result, i) => writeReplays(result, choices[i], replayDir, results.length > 1 ? i + 1 : undefined));
  // runConform's first line gave the seed.
  const table = (r: ConformanceResult) => formatConformanceTable(r, { verbose: options.verbose, seedPrinted: true });
  log(results.length === 1 ? table(results[0]) : results.map(table).join('\n') + '\n' + formatConformanceMatrix(results));
  // A whole-suite run says what it cannot check; a run narrowed with --only is not about that.
  const notCovered = options.only ? undefined : notCoveredLines(results, choices);
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
function notCoveredLines(results: ConformanceResult[], choices: ChosenTarget[]): string[] {
  const perTarget = choices.map((c) => notCoveredSummary(coverageOf(c)));
  const same = perTarget.every((lines) => lines.join('\n') === perTarget[0].join('\n'));
  if (same) return perTarget[0];
  return perTarget.flatMap((lines, i) => lines.map((line) => `${results[i].target}: ${line}`));
}

function corpusFor(only: string | undefined): TranscriptCase[] {
  let cases;
  try {
    cases = loadCorpus();
  } catch (error) {
    if (error instanceof TranscriptError) throw new UsageError(`corpus: ${error.message}`);
    throw error;
  }
  const known = [STALE_SOCKET_CHECK_ID, INTEGER_IDS_CHECK_ID];
  if (only && !cases.some((c) => c.id.startsWith(only)) && selectedProperties(only).length === 0 && !known.some((id) => id.startsWith(only))) {
    throw new UsageError(`no check id starts with '${only}'`);
  }
  return cases;
}

async function chooseTargets(options: ConformOptions): Promise<ChosenTarget[]> {
  const targets = ([] as string[]).concat(options.target ?? []);
  const spawns = ([] as string[]).concat(options.spawn ?? []);
  if (options.fault?.length && (targets.length > 0 || spawns.length > 0)) {
    throw new UsageError('--fault applies to the embedded server; give it without --target or --spawn');
  }
  const choices: ChosenTarget[] = [];
  for (const t of targets) choices.push(await addressChoice(t));
  for (const s of spawns) choices.push(await spawnChoice(s));
  if (choices.length === 0) choices.push(embeddedChoice(options.fault));
  return choices;
}

/** Both layers against one target; the corpus and the properties run at the same time. */
export async function runSuite(
  choice: ChosenTarget,
  cases: TranscriptCase[],
  seed: number,
  options: ConformOptions,
  onCheck: (check: CheckResult) => void = () => {},
): Promise<ConformanceResult> {
  const budget = options.quick ? BUDGETS.quick : BUDGETS.default;
  const maxJobSize = await serverMaxJobSize(choice.target, options.profile);
  // Root causes first: what the server lacks is found once, before any check relies on it.
  const tubeNonce = `${process.pid.toString(36)}${Date.now().toString(36)}`;
  const capabilities = await probeCapabilities(choice.target, { profile: options.profile, tube: `bl${tubeNonce}probe`, replyTimeoutMs: 2000 });
  const idsCheck = !options.only || INTEGER_IDS_CHECK_ID.startsWith(options.only) ? [integerIdsCheck(capabilities)] : [];
  const total = cases.filter((c) => !options.only || c.id.startsWith(options.only)).length + selectedProperties(options.only).length;
  const bar = progressBar(total, choice.target.label);
  const progress = { tick: (check: CheckResult) => (bar.tick(), onCheck(check)), stop: bar.stop };
  const corpusRun = runCorpus(cases, choice.target, {
    profile: options.profile,
    only: options.only,
    concurrency: options.concurrency,
    replayArgs: choice.replayArgs,
    onResult: progress.tick,
    capabilities,
  });
  const [corpus, properties] = await Promise.all([
    corpusRun,
    runProperties(choice.target, {
      othersDone: corpusRun,
      profile: options.profile,
      seed,
      numRuns: options.runs ?? budget.numRuns,
      maxCommands: budget.maxCommands,
      timeLimitMs: budget.timeLimitMs,
      concurrency: 32,
      exclusive: Boolean(options.exclusive),
      tubeNonce,
      maxJobSize,
      only: options.only,
      onResult: progress.tick,
      capabilities,
    }),
  ]).finally(progress.stop);
  const checks: CheckResult[] = [...idsCheck.map((c) => ({ ...c, replay: `beanlab conform --only ${c.id} --profile ${options.profile}${choice.replayArgs ? ` ${choice.replayArgs}` : ''}` })), ...corpus, ...properties];
  if (choice.socketCommand && (!options.only || STALE_SOCKET_CHECK_ID.startsWith(options.only))) {
    checks.push(await checkStaleSocketReplaced(choice.socketCommand));
  }
  return buildResult(choice.target.label, options.profile, checks, seed, capabilities);
}

/** Checks done out of all, on stderr when it is a terminal (a default run takes most of a minute). */
function progressBar(total: number, label: string): { tick: () => void; stop: () => void } {
  if (!process.stderr.isTTY || total === 0) return { tick: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: `${label} {bar} {value}/{total} checks | {eta_formatted} left`, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return { tick: () => bar.increment(), stop: () => bar.stop() };
}

/** The server's max-job-size (a shared server may run with -z); the default if it will not say. */
async function serverMaxJobSize(target: TargetFactory, profileName: Profile): Promise<number> {
  const session = await target.open({ profile: profileName });
  try {
    const conn = await session.connect();
    conn.send(Buffer.from('stats\r\n'));
    const event = await nextEvent(conn, 2000);
    if (event?.kind === 'reply' && event.reply.kind === 'OK') {
      const m = /^max-job-size: (\d+)$/m.exec(Buffer.from(event.reply.body).toString('latin1'));
      if (m) return Number(m[1]);
    }
    return 65535;
  } finally {
    await session.close();
  }
}

/** Each failure's transcript goes to a file; its replay line then names that file. */
function writeReplays(result: ConformanceResult, choice: ChosenTarget, dir: string, column?: number): void {
  // A check without a transcript (the probe's) keeps its `beanlab conform --only` line.
  const failing = result.checks.filter((c) => c.status === 'fail' && c.replay?.includes('\n'));
  if (failing.length === 0) return;
  mkdirSync(dir, { recursive: true });
  for (const check of failing) {
    const transcript = check.replay!.split('\n').slice(1).join('\n');
    const file = join(dir, `${column ? `${column}-` : ''}${check.id.replace(/\//g, '__')}.txt`);
    writeFile(file, transcript + '\n');
    check.replay = `beanlab replay ${file} --profile ${result.profile}${choice.replayArgs ? ` ${choice.replayArgs}` : ''}\n${transcript}`;
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
async function runMutation(options: ConformOptions, cases: TranscriptCase[], seed: number, log: (text: string) => void, clock: RunClock): Promise<number> {
  if (options.target || options.spawn || options.fault) throw new UsageError('--mutation runs against the embedded server only');
  log(`beanlab conform --mutation: seed ${seed}, profile ${options.profile}\n`);
  const results: ConformanceResult[] = [];
  const mutation: MutationView = { faults: [] };
  const stopWatching = onCtrlC(log, () => writeMutation(options, seed, results, mutation, log, clock, true));
  try {
    for (const fault of FAULTS.filter((f) => f.mutant)) {
      const result = await runSuite(embeddedChoice([{ name: fault.name }]), cases, seed, { ...options, quick: options.quick ?? true });
      const failing = result.checks.filter((c) => c.status === 'fail').map((c) => c.id);
      mutation.faults = [...mutation.faults, { name: fault.name, description: fault.description, caught: failing.length > 0, failing }];
      results.push(result);
      clock.suiteDone();
    }
  } finally {
    stopWatching();
  }
  return writeMutation(options, seed, results, mutation, log, clock, false);
}

/** The mutation table, JSON and report; `interrupted` when Ctrl-C stopped the run (only finished faults listed). */
function writeMutation(
  options: ConformOptions,
  seed: number,
  results: ConformanceResult[],
  mutation: MutationView,
  log: (text: string) => void,
  clock: RunClock,
  interrupted: boolean,
): number {
  log(formatMutationTable(mutation));
  const json = {
    kind: 'conformance-mutation',
    seed,
    profile: options.profile,
    ...(interrupted ? { interrupted: true } : {}),
    score: { caught: mutation.faults.filter((f) => f.caught).length, faults: mutation.faults.length },
    faults: mutation.faults,
  };
  if (options.json) writeFile(options.json, JSON.stringify(json, null, 2) + '\n');
  if (options.report) writeReport(options.report, json, { seed, results, mutation, interrupted });
  // One testcase per fault: the suites under each fault fail by design, CI needs the score.
  const timing = clock.view();
  if (options.junit) writeFile(options.junit, formatConformanceJunit({ seed, results: [], mutation, ...timing, durationsSeconds: [timing.durationsSeconds.reduce((a, b) => a + b, 0)] }));
  return mutation.faults.every((f) => f.caught) ? exitCodes.ok : exitCodes.failed;
}
