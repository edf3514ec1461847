// The simulator's side of `validate`: the scenario run over groups of consecutive seeds, for the
// same duration as the real run. A generator, so the caller can show progress between runs.
import type { RunResult } from '../metrics/result.js';
import { MAX_SEED } from '../scenario/random.js';
import type { Scenario } from '../scenario/schema.js';
import { simulate } from '../sim/run.js';

export interface PredictionPlan {
  firstSeed: number;
  /** Added to every simulated work period: the real run's timer lateness (serviceLateUs); default 0. */
  serviceLateUs?: number;
  /** How many values each band is made of (--seeds). */
  groups: number;
  /** Runs per group, as many as the real side repeats (--repeat): each value is their median. */
  repeat: number;
}

/** The scenario with its producing time replaced (validate --duration), on both sides alike. */
export function withDuration(scenario: Scenario, durationSeconds: number | undefined): Scenario {
  return durationSeconds === undefined ? scenario : { ...scenario, durationSeconds };
}

/** Seeds firstSeed, firstSeed + 1, ...: run i of group g has seed firstSeed + g * repeat + i. */
export function* simulatedRuns(scenario: Scenario, plan: PredictionPlan): Generator<{ group: number; seed: number; result: RunResult }> {
  if (plan.firstSeed + plan.groups * plan.repeat - 1 > MAX_SEED) throw new RangeError(`seeds past ${MAX_SEED}`);
  for (let group = 0; group < plan.groups; group++) {
    for (let i = 0; i < plan.repeat; i++) {
      const seed = plan.firstSeed + group * plan.repeat + i;
      yield { group, seed, result: simulate(scenario, seed, undefined, { serviceLateUs: plan.serviceLateUs ?? 0 }) };
    }
  }
}

/** All of simulatedRuns, grouped. */
export function simulateGroups(scenario: Scenario, plan: PredictionPlan): RunResult[][] {
  const groups: RunResult[][] = Array.from({ length: plan.groups }, () => []);
  for (const run of simulatedRuns(scenario, plan)) groups[run.group].push(run.result);
  return groups;
}
