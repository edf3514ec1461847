// `--sweep KEY=A..B[:STEP]`: one run per value of one numeric scenario field. `workers` is the
// capacity-planning shorthand for the count of a scenario's only worker pool; any other key is a
// dotted path into the scenario document (`producers.0.arrival.ratePerSecond`).
import { ScenarioError } from './load.js';

export interface SweepSpec {
  key: string;
  values: number[];
}

/** More runs than this is almost certainly a typo in the range. */
const MAX_SWEEP_VALUES = 1000;

export function parseSweep(text: string): SweepSpec {
  const match = /^([A-Za-z_][\w.]*)=(\d+(?:\.\d+)?)\.\.(\d+(?:\.\d+)?)(?::(\d+(?:\.\d+)?))?$/.exec(text);
  if (!match) throw new ScenarioError(`--sweep ${text}: expected KEY=A..B or KEY=A..B:STEP, e.g. workers=5..20`);
  const [, key, fromText, toText, stepText] = match;
  const from = Number(fromText);
  const to = Number(toText);
  const step = stepText === undefined ? 1 : Number(stepText);
  if (step <= 0) throw new ScenarioError(`--sweep ${text}: STEP must be positive`);
  if (to < from) throw new ScenarioError(`--sweep ${text}: A must not exceed B`);
  const count = Math.floor((to - from) / step + 1e-9) + 1;
  if (count > MAX_SWEEP_VALUES) throw new ScenarioError(`--sweep ${text}: ${count} runs is more than ${MAX_SWEEP_VALUES}`);
  // Computed from the index, not by repeated addition, so 0.1 steps do not drift.
  const values = Array.from({ length: count }, (_, i) => Number((from + i * step).toPrecision(12)));
  return { key, values };
}

/** The document path a sweep key writes to. */
export function sweepPath(key: string, document: unknown): string[] {
  if (key !== 'workers') return key.split('.');
  const pools = (document as { workers?: unknown }).workers;
  if (!Array.isArray(pools) || pools.length !== 1) {
    throw new ScenarioError(`--sweep workers needs a scenario with exactly one worker pool (this one has ${Array.isArray(pools) ? pools.length : 0}); sweep workers.N.count instead`);
  }
  return ['workers', '0', 'count'];
}

/** A deep copy of the document with the swept field set to value. */
export function withSweepValue(document: unknown, key: string, value: number): unknown {
  const path = sweepPath(key, document);
  const copy = structuredClone(document) as Record<string, unknown>;
  let node: unknown = copy;
  for (const [i, part] of path.entries()) {
    const isLast = i === path.length - 1;
    if (node === null || typeof node !== 'object') {
      throw new ScenarioError(`--sweep ${key}: ${path.slice(0, i).join('.')} is not a mapping or list`);
    }
    const container = node as Record<string, unknown>;
    if (isLast) {
      if (container[part] !== undefined && typeof container[part] !== 'number') {
        throw new ScenarioError(`--sweep ${key}: ${path.join('.')} is not a number`);
      }
      container[part] = value;
    } else {
      if (!(part in container)) throw new ScenarioError(`--sweep ${key}: the scenario has no ${path.slice(0, i + 1).join('.')}`);
      node = container[part];
    }
  }
  return copy;
}
