// `simulate`: a scenario through the deterministic simulator, once or once per swept value. The
// simulation itself is synchronous and pure (src/sim); this runs it in slices of events and
// yields to the event loop between them, so that a caller's progress display can draw and an
// AbortSignal can stop it.
import { randomInt } from 'node:crypto';
import type { Result, RunResult } from '../metrics/result.js';
import { MAX_SEED } from '../scenario/random.js';
import type { Scenario, ScenarioInput } from '../scenario/schema.js';
import { parseSweep, withSweepValue, type SweepSpec } from '../scenario/sweep.js';
import { Simulation } from '../sim/engine.js';
import { combineSweep, defaultModelFactory, EVENTS_PER_SLICE } from '../sim/run.js';
import { checkedScenario } from './scenario.js';

export interface SimulateOptions {
  /**
   * The seed of every random draw, 0 to 2147483647: the same seed gives the same result, byte
   * for byte. Default: a random one, recorded in the result's `seed`.
   */
  seed?: number;
  /**
   * Run once per value of one numeric scenario field and answer the capacity question: the
   * result is the run at the smallest value meeting every SLO, with every run under `sweep`.
   * The key is `workers` (the count of the scenario's only worker pool) or a dotted path such as
   * `producers.0.arrival.ratePerSecond`; a string is `KEY=A..B[:STEP]`, as `--sweep` takes it.
   * Every variant is validated before any is simulated.
   */
  sweep?: SweepSpec | string;
  /**
   * Check the model's and the simulator's invariants every this many events (and at the end),
   * as `sim --paranoid`; a broken one rejects with a SimulationError. Slow; the same result.
   * Default 0: never.
   */
  paranoidEvery?: number;
  /** Told how far the run has got, between slices of events and at the end of each run. */
  onProgress?(progress: SimulateProgress): void;
  /** Stops the simulation between slices; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Names the scenario in error messages, e.g. its file (default: `scenario NAME`). */
  source?: string;
}

export interface SimulateProgress {
  /** Which run this is, from 1, of `runs` (a sweep runs once per value; otherwise 1 of 1). */
  run: number;
  runs: number;
  /** The swept field's value in this run, when sweeping. */
  sweepValue?: number;
  /** How much of this run is done, from 0 to 1 (1 once it has finished). */
  fraction: number;
  /** Invariant checks done so far, over every run (with `paranoidEvery`). */
  invariantChecks: number;
}

/**
 * Simulates a scenario under a virtual clock: producers, workers and the reference model, with
 * queue waits, backlogs, throughput and SLO outcomes as a versioned result (`resultSchema`).
 * Deterministic: the same scenario and seed give the same result. Rejects with a ScenarioError
 * for an invalid scenario or sweep, a SimulationError when an invariant breaks (a bug in
 * beanlab: its message and the seed reproduce it), a RangeError for a bad seed, or the signal's
 * reason when aborted.
 */
export async function simulate(scenario: Scenario | ScenarioInput, options: SimulateOptions = {}): Promise<Result> {
  const seed = options.seed ?? randomInt(0, MAX_SEED + 1);
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) throw new RangeError(`seed must be an integer from 0 to ${MAX_SEED}, got ${seed}`);
  options.signal?.throwIfAborted();
  const progress = { invariantChecks: 0 };
  if (options.sweep === undefined) {
    return runOne(checkedScenario(scenario, options.source), seed, options, progress, { run: 1, runs: 1 });
  }
  const sweep = typeof options.sweep === 'string' ? parseSweep(options.sweep) : options.sweep;
  const source = options.source ?? `scenario ${(scenario as { name?: unknown }).name ?? ''}`.trim();
  // Validate every variant before simulating any, so a bad range fails at once.
  const variants = sweep.values.map((value) => checkedScenario(withSweepValue(scenario, sweep.key, value) as ScenarioInput, `${source} (${sweep.key}=${value})`));
  const runs: Array<{ value: number; result: RunResult }> = [];
  for (const [i, variant] of variants.entries()) {
    const value = sweep.values[i];
    runs.push({ value, result: await runOne(variant, seed, options, progress, { run: i + 1, runs: variants.length, sweepValue: value }) });
  }
  return combineSweep(sweep.key, runs);
}

async function runOne(
  scenario: Scenario,
  seed: number,
  options: SimulateOptions,
  progress: { invariantChecks: number },
  which: Pick<SimulateProgress, 'run' | 'runs' | 'sweepValue'>,
): Promise<RunResult> {
  const simulation = new Simulation({ scenario, seed, createModel: defaultModelFactory, paranoidEvery: options.paranoidEvery ?? 0 });
  const checksBefore = progress.invariantChecks;
  const report = (fraction: number) => options.onProgress?.({ ...which, fraction, invariantChecks: checksBefore + simulation.checks });
  while (!simulation.step(EVENTS_PER_SLICE)) {
    report(simulation.progress());
    await new Promise((resolve) => setImmediate(resolve));
    options.signal?.throwIfAborted();
  }
  const result = simulation.result();
  progress.invariantChecks = checksBefore + simulation.checks;
  report(1);
  return result;
}
