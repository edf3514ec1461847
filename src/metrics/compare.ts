// `beanlab compare`: a pure, noise-aware regression verdict between two results.
// Each side is a set of samples (one per repeat; a result without repeats is one sample). The
// estimate is the change of the median: current median over baseline median, or, for A/B runs
// whose repeats alternate the two servers, the median of the paired ratios, in which drift of
// the machine cancels. A 95% bootstrap confidence interval (fixed seed, so the same files give
// the same verdict) decides: a REGRESSION is declared only when the whole interval lies beyond
// the threshold, so noise alone does not fail a build; a median beyond the threshold with an
// interval that straddles it is reported as inconclusive.
import type { RunResult } from './result.js';
import type { LatencyStats, LoadResult, RepeatSample } from './load-result.js';
import { repeatSampleOf } from './load-merge.js';

export const DEFAULT_THRESHOLDS = 'p99=+10%,throughput=-5%';

const STATS = ['mean', 'p50', 'p90', 'p99', 'p999', 'max'] as const;
type Stat = (typeof STATS)[number];
const LATENCIES = { put: 'putUs', queueWait: 'queueWaitUs', service: 'serviceUs', endToEnd: 'endToEndUs', http: 'httpUs' } as const;
type LatencyName = keyof typeof LATENCIES;
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
      const m = /^([A-Za-z]+(?:\.[A-Za-z0-9]+)?)=([+-])(\d+(?:\.\d+)?)(%|us|µs|ms|s)$/.exec(part);
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
      const latencies = latencyName === undefined ? (Object.keys(LATENCIES) as LatencyName[]) : [latencyName as LatencyName];
      return { key, kind: 'latency', latencies, stat, rates: [], limit, absolute } satisfies Threshold;
    });
}

export type Verdict = 'ok' | 'improved' | 'inconclusive' | 'regression';

export interface ComparisonRow {
  metric: string;
  unit: 'us' | '/s';
  baselineMedian: number;
  currentMedian: number;
  /** Relative change (0.12 = +12%), or microseconds for absolute thresholds. */
  change: number;
  low: number;
  high: number;
  limit: number;
  absolute: boolean;
  verdict: Verdict;
  samples: [baseline: number, current: number];
}

export interface Comparison {
  method: 'paired' | 'unpaired';
  rows: ComparisonRow[];
  regression: boolean;
}

/** The samples a result offers: its repeats, or the whole result as one. */
export function samplesOf(result: RunResult | LoadResult): RepeatSample[] {
  const load = (result as Partial<LoadResult>).load;
  if (load && load.repeats.length > 0) return load.repeats;
  return [repeatSampleOf(result)];
}

export function compareResults(baseline: RunResult | LoadResult, current: RunResult | LoadResult, thresholds: readonly Threshold[]): Comparison {
  return compareSamples(samplesOf(baseline), samplesOf(current), thresholds, false);
}

/** An A/B result: its own repeats against the baseline repeats measured alternately with them. */
export function compareAb(result: LoadResult, thresholds: readonly Threshold[]): Comparison {
  if (!result.load.ab) throw new RangeError('not an A/B result (no load.ab)');
  return compareSamples(result.load.ab.baseline, result.load.repeats, thresholds, true);
}

export function compareSamples(
  baseline: readonly RepeatSample[],
  current: readonly RepeatSample[],
  thresholds: readonly Threshold[],
  paired: boolean,
): Comparison {
  const pairedOk = paired && baseline.length === current.length;
  const rows: ComparisonRow[] = [];
  for (const threshold of thresholds) {
    for (const [metric, pick, unit] of metricsOf(threshold, baseline, current)) {
      const b = baseline.map(pick);
      const c = current.map(pick);
      rows.push(compareMetric(metric, unit, b as number[], c as number[], threshold, pairedOk));
    }
  }
  return { method: pairedOk ? 'paired' : 'unpaired', rows, regression: rows.some((r) => r.verdict === 'regression') };
}

type Pick = (s: RepeatSample) => number | undefined;

/** The metrics a threshold applies to that both sides measured. */
function metricsOf(threshold: Threshold, baseline: readonly RepeatSample[], current: readonly RepeatSample[]): Array<[string, Pick, 'us' | '/s']> {
  const everywhere = (pick: Pick) => [...baseline, ...current].every((s) => pick(s) !== undefined);
  if (threshold.kind === 'rate') {
    return threshold.rates
      .map((rate): [string, Pick, '/s'] => [rate, (s) => s[rate], '/s'])
      .filter(([, pick]) => baseline.some((s) => (pick(s) ?? 0) > 0));
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
    .filter(([, pick]) => everywhere(pick));
}

function compareMetric(
  metric: string,
  unit: 'us' | '/s',
  baseline: number[],
  current: number[],
  threshold: Threshold,
  paired: boolean,
): ComparisonRow {
  const absolute = threshold.absolute;
  // Relative changes are compared as ratios in log space, where a halving and a doubling are symmetric.
  const statistic = paired
    ? (idx: number[]) => median(idx.map((i) => (absolute ? current[i] - baseline[i] : Math.log(safe(current[i]) / safe(baseline[i])))))
    : (bIdx: number[], cIdx: number[]) =>
        absolute
          ? median(cIdx.map((i) => current[i])) - median(bIdx.map((i) => baseline[i]))
          : Math.log(safe(median(cIdx.map((i) => current[i]))) / safe(median(bIdx.map((i) => baseline[i]))));
  const all = (n: number) => Array.from({ length: n }, (_, i) => i);
  const estimate = paired ? (statistic as (i: number[]) => number)(all(current.length)) : statistic(all(baseline.length), all(current.length));
  const [lowRaw, highRaw] = bootstrapInterval(baseline.length, current.length, paired, statistic);
  const toChange = (v: number) => (absolute ? v : Math.exp(v) - 1);
  const change = toChange(estimate);
  let low = toChange(lowRaw);
  let high = toChange(highRaw);
  // A rate regresses downwards: flip so that "worse" is always positive below.
  const worse = threshold.kind === 'rate' ? (v: number) => -v : (v: number) => v;
  if (threshold.kind === 'rate') [low, high] = [high, low];
  const worseLow = Math.min(worse(low), worse(high));
  const worseHigh = Math.max(worse(low), worse(high));
  let verdict: Verdict = 'ok';
  if (worseLow > threshold.limit) verdict = 'regression';
  else if (worse(change) > threshold.limit) verdict = 'inconclusive';
  else if (worseHigh < 0 && -worse(change) > threshold.limit) verdict = 'improved';
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

const RESAMPLES = 2000;
const BOOTSTRAP_SEED = 0x5eed;

/** 95% percentile-bootstrap interval of the statistic; a single sample per side gives the point itself. */
function bootstrapInterval(
  nBaseline: number,
  nCurrent: number,
  paired: boolean,
  statistic: ((idx: number[]) => number) | ((b: number[], c: number[]) => number),
): [number, number] {
  const random = mulberry32(BOOTSTRAP_SEED);
  const draw = (n: number) => Array.from({ length: n }, () => Math.floor(random() * n));
  const values: number[] = [];
  for (let r = 0; r < RESAMPLES; r++) {
    values.push(paired ? (statistic as (i: number[]) => number)(draw(nCurrent)) : statistic(draw(nBaseline), draw(nCurrent)));
  }
  values.sort((a, b) => a - b);
  return [values[Math.floor(0.025 * (RESAMPLES - 1))], values[Math.ceil(0.975 * (RESAMPLES - 1))]];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Ratios of zero latencies (an empty histogram side) would be infinite; 1 µs is the resolution. */
function safe(value: number): number {
  return Math.max(value, 1e-3);
}

function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/** A tiny seeded generator so the verdict is a pure function of the two files. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
