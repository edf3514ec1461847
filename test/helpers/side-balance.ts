// Does an A/B runner measure both sides alike? For one and the same server it must: then, with
// the runs in random order, every labelling of a try's runs is equally likely, and each try's
// Mann-Whitney U (pairs of runs with the current one above the baseline one) follows its exact
// null distribution, independently of the other tries. The sum of U over the tries is then a
// test of "one side measures higher" that assumes nothing of the machine (a stratified
// Mann-Whitney test). It catches a runner that treats the sides differently; an order that lines
// up with a rhythm of the machine needs far more tries to show (ab-order.test.ts checks the
// order itself). pairSplits is the plainer view the benchmark prints: in how many pairs the
// current side came out above.
import { metricsOf, type Threshold } from '../../src/metrics/compare.js';
import { mannWhitneyCdf } from '../../src/metrics/compare-stats.js';
import type { LoadResult } from '../../src/metrics/load-result.js';

export interface PairSplit {
  metric: string;
  above: number;
  below: number;
  ties: number;
}

/** Per metric, how the i-th current run compared with the i-th baseline run. */
export function pairSplits(result: LoadResult, thresholds: readonly Threshold[]): PairSplit[] {
  return sidesOf(result, thresholds).map(({ metric, baseline, current }) => {
    const split = { metric, above: 0, below: 0, ties: 0 };
    for (let i = 0; i < Math.min(baseline.length, current.length); i++) {
      if (current[i] > baseline[i]) split.above++;
      else if (current[i] < baseline[i]) split.below++;
      else split.ties++;
    }
    return split;
  });
}

export interface SideU {
  metric: string;
  /** #{(baseline run, current run): current above}, ties counted half. */
  u: number;
  m: number;
  n: number;
}

/** Per metric, the Mann-Whitney U of one A/B result's runs. */
export function sideUs(result: LoadResult, thresholds: readonly Threshold[]): SideU[] {
  return sidesOf(result, thresholds).map(({ metric, baseline, current }) => {
    let u = 0;
    for (const c of current) for (const b of baseline) u += c > b ? 1 : c === b ? 0.5 : 0;
    return { metric, u, m: baseline.length, n: current.length };
  });
}

/**
 * Two-sided p-value of a sum of U over `tries` independent tries of m + n runs each, under
 * "every labelling equally likely": the exact distribution, by convolving U's. A half from a
 * tie is rounded towards the middle, which can only make the p-value larger.
 */
export function uSumTwoSided(m: number, n: number, tries: number, uSum: number): number {
  const cdf = mannWhitneyCdf(m, n);
  const one = Array.from(cdf, (p, u) => p - (u === 0 ? 0 : cdf[u - 1]));
  let sum = [1];
  for (let t = 0; t < tries; t++) {
    const next = new Array<number>(sum.length + one.length - 1).fill(0);
    for (let a = 0; a < sum.length; a++) for (let b = 0; b < one.length; b++) next[a + b] += sum[a] * one[b];
    sum = next;
  }
  const middle = (tries * m * n) / 2;
  const distance = Math.floor(Math.abs(uSum - middle) + 1e-9);
  if (distance === 0) return 1;
  // P(|S - middle| >= distance): the distribution is symmetric about the middle.
  let tail = 0;
  for (let s = 0; s < sum.length; s++) if (s - middle >= distance - 1e-9) tail += sum[s];
  return Math.min(1, 2 * tail);
}

function sidesOf(result: LoadResult, thresholds: readonly Threshold[]): Array<{ metric: string; baseline: number[]; current: number[] }> {
  const baselineRuns = result.load.ab?.baseline ?? [];
  const currentRuns = result.load.repeats;
  return thresholds.flatMap((threshold) =>
    metricsOf(threshold, baselineRuns, currentRuns).map(([metric, pick]) => ({
      metric,
      baseline: baselineRuns.map(pick).filter((v): v is number => v !== undefined),
      current: currentRuns.map(pick).filter((v): v is number => v !== undefined),
    })),
  );
}
