// Running a scenario to the end, once or once per swept value. Still pure: the caller passes the
// validated scenario(s) and a seed, and gets result data back.
import { createModel } from '../model/index.js';
import type { Result, RunResult, SweepEntry } from '../metrics/result.js';
import type { Scenario } from '../scenario/schema.js';
import { Simulation, type ModelFactory, type SimulateOptions } from './engine.js';

export type { SimulateOptions };

/** Events between progress callbacks: small enough to feel live, large enough to cost nothing. */
export const EVENTS_PER_SLICE = 100_000;

export const defaultModelFactory: ModelFactory = ({ pickWaiter }) => createModel({ pickWaiter });

/** options.paranoidEvery: check the invariants every this many events (0: never), as `sim --paranoid`. */
export function createSimulation(scenario: Scenario, seed: number, model: ModelFactory = defaultModelFactory, options: SimulateOptions = {}): Simulation {
  return new Simulation({ ...options, scenario, seed, createModel: model });
}

/** Runs a scenario to completion synchronously; onProgress gets a fraction between slices. */
export function simulate(scenario: Scenario, seed: number, onProgress?: (fraction: number) => void, options: SimulateOptions = {}): RunResult {
  const simulation = createSimulation(scenario, seed, defaultModelFactory, options);
  while (!simulation.step(EVENTS_PER_SLICE)) onProgress?.(simulation.progress());
  return simulation.result();
}

export interface SweepRun {
  value: number;
  result: RunResult;
}

/**
 * Folds one run per swept value into a single result: the top level is the run at the smallest
 * value meeting every SLO (the capacity answer), or the largest value tried when none does.
 */
export function combineSweep(key: string, runs: readonly SweepRun[]): Result {
  if (runs.length === 0) throw new RangeError('a sweep needs at least one run');
  const passing = runs.find((run) => run.result.pass);
  const chosen = passing ?? runs[runs.length - 1];
  const sweep: SweepEntry[] = runs.map((run) => ({ [key]: run.value, result: run.result }) as SweepEntry);
  return { ...chosen.result, sweep, capacity: { key, value: passing ? passing.value : null } };
}
