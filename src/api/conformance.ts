// `runConformance`: the conformance suite as a function. Each target (a TargetSpec, as runLoad
// takes) is reached or started first, so an unusable one is a TargetError before any check runs;
// then the suite runs against each in turn (src/conformance/suite.ts). Progress and each check
// come by callback; an AbortSignal ends the run with what was checked, marked interrupted.
// Nothing is printed or written here, and the process is never exited: that is the CLI's.
import { randomInt } from 'node:crypto';
import { INTEGER_IDS_CHECK_ID } from '../conformance/capabilities.js';
import { loadCorpus } from '../conformance/corpus.js';
import type { CheckResult } from '../conformance/corpus-runner.js';
import { selectedProperties } from '../conformance/properties/run.js';
import { buildResult, type ConformanceResult } from '../conformance/result.js';
import { runSuite, type SuiteOptions } from '../conformance/suite.js';
import { TranscriptError, type TranscriptCase } from '../conformance/transcript.js';
import { STALE_SOCKET_CHECK_ID } from '../conformance/unix-socket.js';
import { PROFILES } from '../protocol/types.js';
import { FAULTS } from '../server/faults.js';
import { MAX_SEED } from '../scenario/random.js';
import { sessionsFor, sessionsLabel } from '../target/sessions-for.js';
import type { TargetFactory } from '../target/sessions.js';
import type { TargetSpec } from '../target/spec.js';

/** Options that make no run (an unknown profile, an `only` no check matches) or a corpus that does not parse. */
export class ConformanceError extends Error {
  override name = 'ConformanceError';
}

export interface ConformanceOptions {
  /** The beanstalkd version whose behaviour to expect: '1.12' (default) or '1.13'. */
  profile?: SuiteOptions['profile'];
  /** Only the checks whose id starts with this (`worker/reserve`). */
  only?: string;
  /** Corpus cases run at once on targets with a fresh server per case (default 8). */
  concurrency?: number;
  /** Generated sequences per property (default: 25, or 8 with `quick`). */
  runs?: number;
  /** The short budget of the generated layer (about 20 s against beanstalkd). */
  quick?: boolean;
  /** Nobody else uses an address target: global stats are compared too (as deltas). */
  exclusive?: boolean;
  /**
   * The seed of the generated (property) sequences, 0 to 2147483647: the same seed generates the
   * same sequences. Default: a random one, recorded in each result's `seed`.
   */
  seed?: number;
  /** Each corpus or property check as it finishes, with the target it ran against. */
  onResult?(check: CheckResult, target: { index: number; label: string }): void;
  /** Where the run is: targets ready, checks done per target, a target's suite finished. */
  onProgress?(progress: ConformanceProgress): void;
  /**
   * Ends the run: the promise resolves at once with the checks finished so far, every result
   * marked `interrupted: true` (a target not reached has no checks). Checks already running
   * are abandoned; each ends within its own time bound and stops any server it started.
   */
  signal?: AbortSignal;
}

export type ConformanceProgress =
  /** Every target was reached or started once; the checks begin. */
  | { phase: 'targets-ready'; targets: string[] }
  /** Corpus and property checks done against one target, of all selected (sent at 0 of N too). */
  | { phase: 'checks'; targetIndex: number; target: string; checksDone: number; checksTotal: number }
  /** One target's suite is finished: its result. */
  | { phase: 'target-done'; targetIndex: number; target: string; result: ConformanceResult };

/** The `concurrency` of `beanlab conform`. */
export const DEFAULT_CONFORMANCE_CONCURRENCY = 8;

/**
 * Runs the conformance suite, the transcript corpus and the model-based properties, against
 * each target in turn, and resolves with one result per target, in their order (plain data,
 * `conformanceResultSchema`). Rejects with a TargetError when a target cannot be reached or
 * started (before any check runs), a ConformanceError for options that select nothing or a
 * corpus that does not parse, a RangeError for a bad seed. A failing check is data, not an error.
 */
export async function runConformance(targets: TargetSpec | readonly TargetSpec[], options: ConformanceOptions = {}): Promise<ConformanceResult[]> {
  const run = await runTargets(([] as TargetSpec[]).concat(targets), options);
  return run.results;
}

/** What a mutation run found: the suite against the embedded server once per fault. */
export interface ConformanceMutation {
  kind: 'conformance-mutation';
  seed: number;
  profile: SuiteOptions['profile'];
  /** Present (true) when the signal stopped the run: only the faults whose suite finished are listed. */
  interrupted?: true;
  score: { caught: number; faults: number };
  faults: Array<{ name: string; description: string; caught: boolean; failing: string[] }>;
  /** The suite's result under each listed fault. */
  results: ConformanceResult[];
}

/**
 * The suite's mutation score: it runs against the embedded server once per injected fault (a
 * mutant of the model) and a fault is caught when some check fails under it. `quick` defaults
 * to true here. Errors as runConformance.
 */
export async function runConformanceMutation(options: ConformanceOptions = {}): Promise<ConformanceMutation> {
  const mutants = FAULTS.filter((f) => f.mutant);
  const run = await runTargets(
    mutants.map((fault): TargetSpec => ({ kind: 'embedded', faults: [{ name: fault.name }] })),
    { ...options, quick: options.quick ?? true },
  );
  // Targets run in order, so the finished ones are the first: result i is fault i's.
  const results = run.results.filter((_, i) => run.completed[i]);
  const faults = results.map((result, i) => {
    const failing = result.checks.filter((c) => c.status === 'fail').map((c) => c.id);
    return { name: mutants[i].name, description: mutants[i].description, caught: failing.length > 0, failing };
  });
  return {
    kind: 'conformance-mutation',
    seed: run.seed,
    profile: run.profile,
    ...(run.interrupted ? { interrupted: true as const } : {}),
    score: { caught: faults.filter((f) => f.caught).length, faults: faults.length },
    faults,
    results: results.map(({ interrupted: _, ...result }) => result),
  };
}

interface TargetsRun {
  seed: number;
  profile: SuiteOptions['profile'];
  results: ConformanceResult[];
  /** Which targets' suites finished (all of them unless interrupted). */
  completed: boolean[];
  interrupted: boolean;
}

async function runTargets(specs: TargetSpec[], options: ConformanceOptions): Promise<TargetsRun> {
  const profile = options.profile ?? '1.12';
  if (!(PROFILES as readonly string[]).includes(profile)) throw new ConformanceError(`profile must be one of ${PROFILES.join(', ')}, got '${profile}'`);
  const seed = options.seed ?? randomInt(0, MAX_SEED + 1);
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) throw new RangeError(`seed must be an integer from 0 to ${MAX_SEED}, got ${seed}`);
  if (specs.length === 0) throw new ConformanceError('no target given');
  const cases = corpusFor(options.only);
  const suiteOptions: SuiteOptions = {
    profile,
    only: options.only,
    concurrency: options.concurrency ?? DEFAULT_CONFORMANCE_CONCURRENCY,
    runs: options.runs,
    quick: options.quick,
    exclusive: options.exclusive,
    // Stops checks from starting after an abort, so the run in the background ends soon after.
    signal: options.signal,
  };

  const factories: Array<TargetFactory | undefined> = specs.map(() => undefined);
  const results: Array<ConformanceResult | undefined> = specs.map(() => undefined);
  const finished: CheckResult[][] = specs.map(() => []);
  const signal = options.signal;
  // After an abort the checks under way finish in the background (no new one starts); nobody
  // hears of them.
  const live = () => !signal?.aborted;
  const label = (i: number) => factories[i]?.label ?? sessionsLabel(specs[i]);

  // Aborted already: nothing is started (a spawn target would otherwise be started to be checked).
  const work = signal?.aborted ? Promise.resolve() : (async () => {
    for (const [i, spec] of specs.entries()) {
      factories[i] = await sessionsFor(spec);
      if (!live()) return;
    }
    options.onProgress?.({ phase: 'targets-ready', targets: specs.map((_, i) => label(i)) });
    for (const [i, spec] of specs.entries()) {
      const target = { index: i, label: label(i) };
      const result = await runSuite({ spec, factory: factories[i]! }, cases, seed, suiteOptions, {
        onResult: (check) => {
          if (!live()) return;
          finished[i].push(check);
          options.onResult?.(check, target);
        },
        onProgress: (checksDone, checksTotal) => {
          if (live()) options.onProgress?.({ phase: 'checks', targetIndex: i, target: target.label, checksDone, checksTotal });
        },
      });
      if (!live()) return;
      results[i] = result;
      options.onProgress?.({ phase: 'target-done', targetIndex: i, target: target.label, result });
    }
  })();

  const interrupted = await untilDoneOrAborted(work, signal);
  const completed = results.map((result) => result !== undefined);
  const final = specs.map((_, i): ConformanceResult => {
    const result = results[i] ?? buildResult(label(i), profile, finished[i], seed);
    return interrupted ? { ...result, interrupted: true } : result;
  });
  return { seed, profile, results: final, completed, interrupted };
}

/** True when the signal ended the wait first (the work's later failure is then nobody's concern). */
async function untilDoneOrAborted(work: Promise<void>, signal: AbortSignal | undefined): Promise<boolean> {
  if (!signal) {
    await work;
    return false;
  }
  let onAbort = (): void => {};
  const aborted = new Promise<true>((resolve) => {
    onAbort = () => resolve(true);
    if (signal.aborted) resolve(true);
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const first = await Promise.race([work.then(() => false), aborted]);
    if (first) work.catch(() => {});
    return first;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** The corpus, refused when `only` selects no check at all. */
function corpusFor(only: string | undefined): TranscriptCase[] {
  let cases;
  try {
    cases = loadCorpus();
  } catch (error) {
    if (error instanceof TranscriptError) throw new ConformanceError(`corpus: ${error.message}`);
    throw error;
  }
  const known = [STALE_SOCKET_CHECK_ID, INTEGER_IDS_CHECK_ID];
  if (only && !cases.some((c) => c.id.startsWith(only)) && selectedProperties(only).length === 0 && !known.some((id) => id.startsWith(only))) {
    throw new ConformanceError(`no check id starts with '${only}'`);
  }
  return cases;
}
