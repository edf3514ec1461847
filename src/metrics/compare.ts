// `beanlab compare`: a pure, noise-aware regression verdict between two results.
// Each side is a set of samples (one per repeat; a result without repeats is one sample). The
// change shown is that of the medians: current median over baseline median, or, for A/B runs
// (both servers' runs in one random order), the median of the paired ratios, the i-th run of
// each side together, in which slow drift of the machine cancels. Its confidence interval is the
// distribution-free one of the Mann-Whitney test on the log values (compare-stats.ts), whose
// premise the A/B run's random order makes true (load/ab-order.ts): tail latencies of short
// runs are heavy-tailed, and a Student t interval on 3 samples raised false alarms on equal servers. The intervals of a
// table are Bonferroni-corrected, so the whole table has a 95% confidence (or the one asked). A REGRESSION is
// declared only when the median change AND the whole interval lie beyond the threshold, so noise
// alone does not fail a build; a median beyond the threshold with an interval that straddles it
// (or that too few samples leave unbounded: 5 per side for the default table) is reported as
// inconclusive. Only deterministic results (two `sim` results) may let one sample per side decide
// on its median alone: a single load run is one draw of noise, and never a REGRESSION by itself.
// A metric measured on one side only, or a relative change from a baseline of zero, is n/a: it
// has no change to judge. Results of different kinds or scenarios are refused (comparabilityProblem).
import type { RunResult } from './result.js';
import type { LatencyStats, LoadResult, RepeatSample } from './load-result.js';
import { repeatSampleOf } from './load-merge.js';
import { attainedTail, minSamplesPerSide, shiftInterval } from './compare-stats.js';

/**
 * The confidence of the whole table: 1 − the chance that equal servers are called a regression
 * (at most; the table's falseAlarmAtMost says how much less its samples allow).
 */
export const DEFAULT_CONFIDENCE = 0.95;

/** A table's confidence must leave both some chance of a false alarm and a useful one: (0.5, 1). */
export function checkConfidence(confidence: number): number {
  if (!(confidence > 0.5 && confidence < 1)) throw new RangeError(`confidence must be above 0.5 and below 1 (e.g. 0.99), got ${confidence}`);
  return confidence;
}

export const DEFAULT_THRESHOLDS = 'p99=+10%,throughput=-5%';

const STATS = ['mean', 'p50', 'p90', 'p99', 'p999', 'max'] as const;
type Stat = (typeof STATS)[number];
const LATENCIES = { put: 'putUs', queueWait: 'queueWaitUs', service: 'serviceUs', endToEnd: 'endToEndUs', http: 'httpUs' } as const;
type LatencyName = keyof typeof LATENCIES;
const DEFAULT_LATENCIES: LatencyName[] = ['put', 'queueWait', 'endToEnd', 'http'];
const RATES = { throughput: ['jobsPerSecond', 'putsPerSecond'], jobsPerSecond: ['jobsPerSecond'], putsPerSecond: ['putsPerSecond'] } as const;

export interface Threshold {
  /** As written: `p99`, `endToEnd.p99`, `throughput`. */
  key: string;
  /** Latencies: limit on the increase; rates: limit on the decrease. */
  kind: 'latency' | 'rate';
  latencies: LatencyName[];
  stat?: Stat;
  rates: ReadonlyArray<'jobsPerSecond' | 'putsPerSecond'>;
  /** A fraction (0.1 for 10%) or, with absoluteUs, microseconds. */
  limit: number;
  absolute: boolean;
}

export class ThresholdError extends Error {
  override name = 'ThresholdError';
}

/** `p99=+10%,throughput=-5%,endToEnd.p999=+2ms`. */
export function parseThresholds(text: string): Threshold[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const m = /^([A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z0-9]+)?)=([+-])(\d+(?:\.\d+)?)(%|us|µs|ms|s)$/.exec(part);
      if (!m) throw new ThresholdError(`bad threshold "${part}" (want e.g. p99=+10%, endToEnd.p99=+2ms, throughput=-5%)`);
      const [, key, sign, amount, unit] = m;
      const value = Number(amount);
      const absolute = unit !== '%';
      const limit = absolute ? value * { us: 1, µs: 1, ms: 1e3, s: 1e6 }[unit as 'us']! : value / 100;
      if (key in RATES) {
        if (sign !== '-' || absolute) throw new ThresholdError(`"${part}": a rate threshold is a drop in percent, e.g. ${key}=-5%`);
        return { key, kind: 'rate', latencies: [], rates: RATES[key as keyof typeof RATES], limit, absolute } satisfies Threshold;
      }
      const [first, second] = key.split('.');
      const latencyName = second === undefined ? undefined : first;
      const stat = (second ?? first) as Stat;
      if (!STATS.includes(stat)) throw new ThresholdError(`"${part}": unknown statistic ${stat} (${STATS.join(', ')})`);
      if (latencyName !== undefined && !(latencyName in LATENCIES)) {
        throw new ThresholdError(`"${part}": unknown latency ${latencyName} (${Object.keys(LATENCIES).join(', ')})`);
      }
      if (sign !== '+') throw new ThresholdError(`"${part}": a latency threshold is an increase, e.g. ${key}=+10%`);
      // Unqualified, a statistic gates what the server's speed shows in: put, put to reserve, put
      // to delete and HTTP. Service time is the workers' own simulated work, so it is left out.
      const latencies = latencyName === undefined ? DEFAULT_LATENCIES : [latencyName as LatencyName];
      return { key, kind: 'latency', latencies, stat, rates: [], limit, absolute } satisfies Threshold;
    });
}

/** n/a: measured on one side only, or a relative change from a zero baseline. */
export type Verdict = 'ok' | 'improved' | 'inconclusive' | 'regression' | 'n/a';

export interface ComparisonRow {
  metric: string;
  unit: 'us' | '/s';
  /** NaN when that side did not measure it. */
  baselineMedian: number;
  currentMedian: number;
  /** Relative change (0.12 = +12%), or microseconds for absolute thresholds; NaN when n/a. */
  change: number;
  low: number;
  high: number;
  limit: number;
  absolute: boolean;
  verdict: Verdict;
  /** Why the verdict is n/a. */
  reason?: string;
  samples: [baseline: number, current: number];
}

export interface Comparison {
  method: 'paired' | 'unpaired';
  rows: ComparisonRow[];
  regression: boolean;
  /** Samples per side a bounded interval needs at this table's confidence. */
  samplesNeeded: number;
  /** The table's confidence (0.95: each interval is wide enough that all hold together 95% of the time). */
  confidence: number;
  /** Both sides deterministic (sim): one sample per side may decide alone. */
  deterministic: boolean;
  /** Samples (baseline, current) measured on a saturated machine: a change beside them may be the machine's. */
  busySamples: [number, number];
  /**
   * The most often the table would call equal servers a regression with these sample counts
   * (runs of equal servers being alike): the sum over its judged rows of the level their
   * discrete interval attains. 0 when no row can be judged, or for one deterministic sample per side.
   */
  falseAlarmAtMost: number;
}

/**
 * Why two results should not be compared (different kinds, or scenarios), or undefined when
 * they may be. The CLI refuses them unless told --force.
 */
export function comparabilityProblem(baseline: RunResult | LoadResult, current: RunResult | LoadResult): string | undefined {
  if (baseline.kind !== current.kind) return `the baseline is a ${baseline.kind} result and the current one a ${current.kind} result`;
  if (baseline.scenario !== current.scenario) return `the results are of different scenarios: ${baseline.scenario} and ${current.scenario}`;
  return undefined;
}

/** The samples a result offers: its repeats, or the whole result as one. */
export function samplesOf(result: RunResult | LoadResult): RepeatSample[] {
  const load = (result as Partial<LoadResult>).load;
  if (load && load.repeats.length > 0) return load.repeats;
  return [repeatSampleOf(result)];
}

export function compareResults(
  baseline: RunResult | LoadResult,
  current: RunResult | LoadResult,
  thresholds: readonly Threshold[],
  confidence = DEFAULT_CONFIDENCE,
): Comparison {
  // A sim result is the same bytes for the same seed: its one sample is the whole truth.
  const deterministic = baseline.clock === 'virtual' && current.clock === 'virtual';
  return compareSamples(samplesOf(baseline), samplesOf(current), thresholds, false, deterministic, confidence);
}

/** An A/B result: its own repeats against the baseline repeats measured in one random order with them. */
export function compareAb(result: LoadResult, thresholds: readonly Threshold[], confidence = DEFAULT_CONFIDENCE): Comparison {
  if (!result.load.ab) throw new RangeError('not an A/B result (no load.ab)');
  return compareSamples(result.load.ab.baseline, result.load.repeats, thresholds, true, false, confidence);
}

/**
 * The runs per side an A/B run needs for a verdict at this confidence: as many as a table with
 * every metric the thresholds can name (HTTP included) needs, so never too few.
 */
export function runsNeeded(thresholds: readonly Threshold[], confidence = DEFAULT_CONFIDENCE): number {
  const rows = thresholds.reduce((sum, t) => sum + (t.kind === 'rate' ? t.rates.length : t.latencies.length), 0);
  return minSamplesPerSide((1 - checkConfidence(confidence)) / 2 / Math.max(1, rows));
}

export function compareSamples(
  baseline: readonly RepeatSample[],
  current: readonly RepeatSample[],
  thresholds: readonly Threshold[],
  paired: boolean,
  deterministic = false,
  confidence = DEFAULT_CONFIDENCE,
): Comparison {
  checkConfidence(confidence);
  const pairedOk = paired && baseline.length === current.length;
  const metrics = thresholds.flatMap((threshold) => metricsOf(threshold, baseline, current).map((m) => ({ threshold, m })));
  // Bonferroni: the table as a whole, not each row, gets a 5% chance of a false alarm (at 95%).
  const judged = metrics.filter(({ m: [, pick] }) => measuredEverywhere(pick, baseline, current)).length;
  const tailProbability = (1 - confidence) / 2 / Math.max(1, judged);
  // One sample per side of a deterministic result: no noise, the point decides. Otherwise one
  // sample is one draw of the noise, and the interval (unbounded for too few) decides.
  const pointDecides = deterministic && baseline.length === 1 && current.length === 1;
  const rows = metrics.map(({ threshold, m: [metric, pick, unit] }) =>
    measuredEverywhere(pick, baseline, current)
      ? compareMetric(metric, unit, baseline.map(pick) as number[], current.map(pick) as number[], threshold, pairedOk, tailProbability, pointDecides)
      : missingRow(metric, unit, baseline.map(pick), current.map(pick), threshold),
  );
  const falseAlarmAtMost = rows
    .filter((r) => r.verdict !== 'n/a' && !pointDecides)
    .reduce((sum, r) => sum + attainedTail(r.samples[0], r.samples[1], tailProbability), 0);
  return {
    method: pairedOk ? 'paired' : 'unpaired',
    rows,
    regression: rows.some((r) => r.verdict === 'regression'),
    samplesNeeded: minSamplesPerSide(tailProbability),
    confidence,
    deterministic,
    busySamples: [baseline.filter((s) => s.machineBusy).length, current.filter((s) => s.machineBusy).length],
    falseAlarmAtMost: round6(Math.min(1, falseAlarmAtMost)),
  };
}

export type Pick = (s: RepeatSample) => number | undefined;

function measuredEverywhere(pick: Pick, baseline: readonly RepeatSample[], current: readonly RepeatSample[]): boolean {
  return [...baseline, ...current].every((s) => pick(s) !== undefined);
}

/** The metrics a threshold applies to that at least one side measured: name, how to read it from a sample, unit. */
export function metricsOf(threshold: Threshold, baseline: readonly RepeatSample[], current: readonly RepeatSample[]): Array<[string, Pick, 'us' | '/s']> {
  const anywhere = (pick: Pick) => [...baseline, ...current].some((s) => pick(s) !== undefined);
  if (threshold.kind === 'rate') {
    return threshold.rates.map((rate): [string, Pick, '/s'] => [rate, (s) => s[rate], '/s']).filter(([, pick]) => anywhere(pick));
  }
  return threshold.latencies
    .map((name): [string, Pick, 'us'] => {
      const key = LATENCIES[name];
      const pick: Pick = (s) => {
        const h: LatencyStats | undefined = s.latency[key];
        return h && h.count > 0 ? h[threshold.stat!] : undefined;
      };
      return [`${name}.${threshold.stat}`, pick, 'us'];
    })
    .filter(([, pick]) => anywhere(pick));
}

/** A metric some samples lack: shown, with what there is, and judged n/a. */
function missingRow(metric: string, unit: 'us' | '/s', baseline: Array<number | undefined>, current: Array<number | undefined>, threshold: Threshold): ComparisonRow {
  const present = (values: Array<number | undefined>) => values.filter((v): v is number => v !== undefined);
  const side = present(baseline).length < baseline.length ? 'baseline' : 'current result';
  return {
    metric,
    unit,
    baselineMedian: median(present(baseline)),
    currentMedian: median(present(current)),
    change: NaN,
    low: NaN,
    high: NaN,
    limit: threshold.limit,
    absolute: threshold.absolute,
    verdict: 'n/a',
    reason: `not measured in the ${side}`,
    samples: [present(baseline).length, present(current).length],
  };
}

function compareMetric(
  metric: string,
  unit: 'us' | '/s',
  baseline: number[],
  current: number[],
  threshold: Threshold,
  paired: boolean,
  tailProbability: number,
  pointDecides: boolean,
): ComparisonRow {
  const absolute = threshold.absolute;
  if (!absolute && median(baseline) === 0 && median(current) !== 0) {
    // No relative change from nothing (a rate of 0/s, a latency under a microsecond).
    return { ...missingRow(metric, unit, baseline, current, threshold), reason: 'the baseline is 0: no relative change' };
  }
  // Relative changes are compared in log space, where a halving and a doubling are symmetric.
  const scale = (v: number) => (absolute ? v : Math.log(Math.max(v, MIN_VALUE)));
  const b = baseline.map(scale);
  const c = current.map(scale);
  const estimate = paired ? median(c.map((v, i) => v - b[i])) : median(c) - median(b);
  const [lowRaw, highRaw] = pointDecides ? [estimate, estimate] : shiftInterval(b, c, tailProbability);
  // An unbounded side (too few samples) stays ±Infinity, in either unit.
  const toChange = (v: number) => (absolute || !Number.isFinite(v) ? v : Math.exp(v) - 1);
  const change = toChange(estimate);
  const low = toChange(lowRaw);
  const high = toChange(highRaw);
  // A rate regresses downwards: negate so that "worse" is always positive below.
  const worse = threshold.kind === 'rate' ? (v: number) => -v : (v: number) => v;
  const worseLow = Math.min(worse(low), worse(high));
  const worseHigh = Math.max(worse(low), worse(high));
  let verdict: Verdict = 'ok';
  if (worse(change) > threshold.limit) verdict = worseLow > threshold.limit ? 'regression' : 'inconclusive';
  else if (-worse(change) > threshold.limit && worseHigh < 0) verdict = 'improved';
  return {
    metric,
    unit,
    baselineMedian: median(baseline),
    currentMedian: median(current),
    change: round6(change),
    low: round6(Math.min(low, high)),
    high: round6(Math.max(low, high)),
    limit: threshold.limit,
    absolute,
    verdict,
    samples: [baseline.length, current.length],
  };
}

/** Latencies of 0 µs (an empty side) would have an infinite log ratio; 1 ns is below any resolution. */
const MIN_VALUE = 1e-3;

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
