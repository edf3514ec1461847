// `compareResults`: the CI regression gate over two results, for the library (src/metrics/
// compare.ts holds the statistics). Thresholds come as text or parsed; results of different
// kinds or scenarios are refused unless forced, and a comparison with nothing in it is an error,
// not a pass.
import {
  comparabilityProblem,
  compareAb as compareAbSides,
  compareResults as compareSides,
  DEFAULT_THRESHOLDS,
  parseThresholds,
  type Comparison,
  type Threshold,
} from '../metrics/compare.js';
import type { LoadResult } from '../metrics/load-result.js';
import type { RunResult } from '../metrics/result.js';

export interface CompareOptions {
  /**
   * Regression limits: text as `--threshold` takes it (`p99=+10%,throughput=-5%,endToEnd.p999=+2ms`;
   * a bad one throws ThresholdError) or thresholds from parseThresholds. Default
   * DEFAULT_THRESHOLDS, `p99=+10%,throughput=-5%`.
   */
  thresholds?: string | readonly Threshold[];
  /**
   * Compare results of different kinds (sim against load) or of different scenarios all the same.
   * Default false: such a pair throws ComparisonError; comparabilityProblem() says why beforehand.
   */
  force?: boolean;
  /**
   * The table's confidence: 1 − the most often it may call equal servers a regression. Default
   * 0.95. Higher needs more samples per side (0.99: 7 with the default thresholds).
   */
  confidence?: number;
}

/** The results cannot be compared: different kinds or scenarios, or no metric measured in both. */
export class ComparisonError extends Error {
  override name = 'ComparisonError';
}

/**
 * Compares a current result with a baseline, metric by metric (each repeat of a result is one
 * sample): medians, a distribution-free confidence interval, and a verdict per row; the
 * comparison's `regression` is true when some row is a regression beyond its threshold.
 */
export function compareResults(baseline: RunResult | LoadResult, current: RunResult | LoadResult, options: CompareOptions = {}): Comparison {
  const problem = comparabilityProblem(baseline, current);
  if (problem !== undefined && !options.force) throw new ComparisonError(`${problem}: not comparable (force: true compares them all the same)`);
  return nonEmpty(compareSides(baseline, current, thresholdsOf(options), options.confidence));
}

/** Compares the two sides of one A/B load result (runLoad with `baselineTarget`), pair by pair. */
export function compareAb(result: LoadResult, options: Pick<CompareOptions, 'thresholds' | 'confidence'> = {}): Comparison {
  if (!result.load.ab) throw new ComparisonError('not an A/B result: it has no baseline side (runLoad with baselineTarget makes one)');
  return nonEmpty(compareAbSides(result, thresholdsOf(options), options.confidence));
}

function thresholdsOf(options: Pick<CompareOptions, 'thresholds'>): readonly Threshold[] {
  const thresholds = options.thresholds ?? DEFAULT_THRESHOLDS;
  return typeof thresholds === 'string' ? parseThresholds(thresholds) : thresholds;
}

function nonEmpty(comparison: Comparison): Comparison {
  if (comparison.rows.length === 0) throw new ComparisonError('no metric of the thresholds was measured in both results');
  return comparison;
}
