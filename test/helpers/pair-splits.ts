// How the A/B pairs of a result split, metric by metric: in how many pairs the current server
// measured above the baseline, below it, or the same. Runs of one and the same server that are
// alike (exchangeable) split like a fair coin; a side that is systematically slower (an order
// effect of the A/B runner, state one side leaves for the other) splits lopsidedly.
import { metricsOf, type Threshold } from '../../src/metrics/compare.js';
import type { LoadResult } from '../../src/metrics/load-result.js';

export interface PairSplit {
  metric: string;
  above: number;
  below: number;
  ties: number;
}

export function pairSplits(result: LoadResult, thresholds: readonly Threshold[]): PairSplit[] {
  const baseline = result.load.ab?.baseline ?? [];
  const current = result.load.repeats;
  return thresholds.flatMap((threshold) =>
    metricsOf(threshold, baseline, current).map(([metric, pick]) => {
      const split = { metric, above: 0, below: 0, ties: 0 };
      for (let i = 0; i < Math.min(baseline.length, current.length); i++) {
        const [b, c] = [pick(baseline[i]), pick(current[i])];
        if (b === undefined || c === undefined) continue;
        if (c > b) split.above++;
        else if (c < b) split.below++;
        else split.ties++;
      }
      return split;
    }),
  );
}
