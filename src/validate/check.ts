// The prediction bands and the check of a measurement against them. Pure: results in, verdicts out.
import type { Calibration } from '../metrics/calibration.js';
import { median } from '../metrics/compare.js';
import type { RunResult } from '../metrics/result.js';
import { LATENCY_NAMES, LATENCY_STATS, metricLabel, metricRefs, readMetric, type LatencyName, type LatencyStat, type MetricRef, type Reading } from './metrics.js';

export const VALIDATION_VERSION = 2;

export interface BandOptions {
  /** Widening of the seeds' range on each side by this fraction of its own width (0.5: half of max - min). */
  spread: number;
  /** Relative widening on each side, of the edge's value (0.05: 5% below the lowest, above the highest). */
  tolerance: number;
  /** Absolute widening of latency bands on each side (µs): what the real clock adds and the simulator cannot see. */
  slackUs: number;
  /**
   * What the real run's path and load generator were measured to add, per latency and statistic
   * (µs; pathSlack): a latency band is widened by the larger of it and slackUs.
   */
  measuredSlackUs?: LatencySlack;
}

export type LatencySlack = Record<LatencyName, Record<LatencyStat, number>>;

export const DEFAULT_BAND_OPTIONS: BandOptions = { spread: 1, tolerance: 0.05, slackUs: 2000 };

/** Jobs a latency statistic needs before it is checked: 10 beyond a percentile, 20 for mean and p50. */
export function jobsNeeded(stat: 'mean' | 'p50' | 'p90' | 'p99'): number {
  switch (stat) {
    case 'mean':
    case 'p50':
      return 20;
    case 'p90':
      return 100;
    case 'p99':
      return 1000;
  }
}

export interface Band {
  metric: MetricRef;
  label: string;
  /** One value per simulated group of seeds (the median of the group's runs when it has several). */
  values: number[];
  min: number;
  median: number;
  max: number;
  /** The band: [min, max] widened by the spread and the tolerance, and by the slack for latencies. */
  lo: number;
  hi: number;
  /** Jobs behind the statistic in a typical simulated run (median over the groups). */
  jobs: number;
  /** The absolute widening on each side (µs; 0 for throughput and completed jobs). */
  slackUs: number;
}

export type Status = 'inside' | 'below' | 'above' | 'unchecked';

export interface Verdict extends Band {
  measured: number | null;
  measuredJobs: number;
  status: Status;
  /** Why a metric was not checked. */
  note?: string;
  /** How many of the simulated values lie below the measurement: where it ranks among the seeds. */
  rank: number | null;
}

export interface Validation {
  kind: 'validation';
  version: typeof VALIDATION_VERSION;
  scenario: string;
  /** How long the producers ran, on both sides (the scenario's durationSeconds or --duration). */
  durationSeconds: number | null;
  /** Simulated: `groups` groups of `repeat` seeds each, seeds firstSeed, firstSeed + 1, ... */
  simulated: { firstSeed: number; groups: number; repeat: number };
  /**
   * Real runs (the median of them is the measurement): their seeds and where they ran, and the
   * load generator's warnings about itself (short of CPU, timers late: load.harness).
   */
  measured: { seeds: number[]; target: string; interrupted: boolean; errors: string[]; warnings?: string[] };
  options: BandOptions;
  /** The round trip and command cost as the simulator used them (calibrated, or the scenario's). */
  server: { roundTripUs: number; commandCostUs: number };
  /** What was measured to calibrate the simulator; null with --no-calibrate (the scenario's settings). */
  calibration: CalibrationFacts | null;
  rows: Verdict[];
  /** Every checked metric lies inside its band, and the real runs completed without errors. */
  agree: boolean;
}

/**
 * The calibration: the path's figures (metrics/calibration.ts, measured by load/calibrate.ts)
 * and the real runs' timers, all µs. Only roundTripUs and serviceLateUs reach the simulator;
 * serverCostUs is a diagnostic.
 */
export interface CalibrationFacts extends Calibration {
  /**
   * How much longer the real workers' service ran than configured, on average (timers fire late):
   * the workload the load generator actually applied. The simulated service times are this much longer.
   */
  serviceLateUs: number;
  /** Per real run, what its path and load generator added (pathSlack turns them into options.measuredSlackUs). */
  path: PathFigures[];
}

export { median };

/** One reading for a set of runs: the median of their values, the fewest jobs any of them had. */
function readRuns(runs: readonly RunResult[], ref: MetricRef): Reading | undefined {
  const readings = runs.map((r) => readMetric(r, ref)).filter((r): r is Reading => r !== undefined);
  if (readings.length === 0) return undefined;
  return { value: median(readings.map((r) => r.value)), jobs: Math.min(...readings.map((r) => r.jobs)) };
}

/**
 * The simulator's band per metric, from groups of simulated runs (each group as many runs as the
 * real side repeats). Metrics come from the first run: every seed has the same tubes and classes.
 */
export function predictionBands(groups: readonly (readonly RunResult[])[], options: BandOptions = DEFAULT_BAND_OPTIONS): Band[] {
  if (groups.length === 0 || groups.some((g) => g.length === 0)) throw new RangeError('a prediction needs at least one run in every group');
  if (!(options.spread >= 0) || !(options.tolerance >= 0) || !(options.slackUs >= 0)) throw new RangeError('spread, tolerance and slack are 0 or more');
  const bands: Band[] = [];
  for (const metric of metricRefs(groups[0][0])) {
    const readings = groups.map((g) => readRuns(g, metric)).filter((r): r is Reading => r !== undefined);
    if (readings.length === 0) continue;
    const values = readings.map((r) => r.value);
    const min = Math.min(...values);
    const max = Math.max(...values);
    const slack = metric.kind === 'latency' ? Math.max(options.slackUs, options.measuredSlackUs?.[metric.name][metric.stat] ?? 0) : 0;
    const widen = (max - min) * options.spread;
    bands.push({
      metric,
      label: metricLabel(metric),
      values,
      min,
      median: median(values),
      max,
      lo: Math.max(0, min * (1 - options.tolerance) - widen - slack),
      hi: max * (1 + options.tolerance) + widen + slack,
      jobs: median(readings.map((r) => r.jobs)),
      slackUs: slack,
    });
  }
  return bands;
}

/** Each band against the measurement (the median of the real runs). */
export function checkMeasurement(bands: readonly Band[], measuredRuns: readonly RunResult[]): Verdict[] {
  if (measuredRuns.length === 0) throw new RangeError('nothing measured');
  return bands.map((band): Verdict => {
    const reading = readRuns(measuredRuns, band.metric);
    if (reading === undefined) {
      return { ...band, measured: null, measuredJobs: 0, status: 'unchecked', note: 'not in the real run', rank: null };
    }
    const rank = band.values.filter((v) => v < reading.value).length;
    const base = { ...band, measured: reading.value, measuredJobs: reading.jobs, rank };
    if (band.metric.kind === 'latency') {
      const needed = jobsNeeded(band.metric.stat);
      const fewest = Math.min(reading.jobs, band.jobs);
      if (fewest < needed) {
        return { ...base, status: 'unchecked', note: `${fewest} jobs; ${band.metric.stat} is checked from ${needed}` };
      }
    }
    const status: Status = reading.value < band.lo ? 'below' : reading.value > band.hi ? 'above' : 'inside';
    return { ...base, status };
  });
}

export interface ValidationFacts {
  scenario: string;
  durationSeconds: number | null;
  simulated: Validation['simulated'];
  measured: Validation['measured'];
  options: BandOptions;
  server: Validation['server'];
  calibration: Validation['calibration'];
}

/** The whole verdict: agree when every checked metric is inside and the real runs were sound. */
export function validation(facts: ValidationFacts, rows: Verdict[]): Validation {
  const inside = rows.every((r) => r.status === 'inside' || r.status === 'unchecked');
  const sound = !facts.measured.interrupted && facts.measured.errors.length === 0;
  return { kind: 'validation', version: VALIDATION_VERSION, ...facts, rows, agree: inside && sound && rows.some((r) => r.status === 'inside') };
}

/** The harness figures of a load run that say how late its worker timers fired (load.harness). */
export interface ServiceTimers {
  serviceConfiguredUs: { count: number; mean: number };
  serviceMeasuredUs: { count: number; mean: number };
}

/**
 * The workers' mean timer lateness over the real runs: measured service minus configured, each
 * run weighted by its jobs (0 when no job had a timer). It is the load generator's, not the
 * server's: a service period runs from the reservation's answer to the timer, no reply inside it.
 */
export function serviceLateUs(runs: readonly (ServiceTimers | undefined)[]): number {
  let jobs = 0;
  let lateUs = 0;
  for (const run of runs) {
    if (run === undefined) continue;
    const n = Math.min(run.serviceConfiguredUs.count, run.serviceMeasuredUs.count);
    if (n === 0) continue;
    jobs += n;
    lateUs += n * (run.serviceMeasuredUs.mean - run.serviceConfiguredUs.mean);
  }
  return jobs === 0 ? 0 : Math.max(0, Math.round(lateUs / jobs));
}

/** A latency distribution as a result summarises it (the statistics validate judges). */
export type StatSummary = Record<LatencyStat, number>;

/** What one real run's harness measured about its own path (validate's probe, the load runner's send lag). */
export interface PathFigures {
  /** How late open-loop puts went out (load.harness.sendLagUs). */
  sendLagUs: StatSummary;
  /** Round trips to beanlab's echo server during the run, from the load generator's own loop. */
  probeUs: StatSummary;
  /** How late the load generator's own 10 ms timer fired (load.harness.eventLoopLagUs): its loop's lag. */
  loopLagUs: StatSummary;
}

/**
 * Per latency and statistic, what the path and the load generator added in the real runs beyond
 * the simulated round trip, the most of any run: a job's queue wait carries its put's send lag
 * and one reply read (the RESERVED), its end to end also the DELETED's: send lag + k × read
 * delay, k = 1 or 2, statistic by statistic (a sum of quantiles: the quantile of a sum of
 * independent delays is no larger, give or take). A read's delay is the larger of the echo
 * probe's round trip beyond the calibrated one and the loop's own lag: a probe every 10 ms sees a
 * stall once, while every reply that arrived during it waits it out. None of it involves the
 * server's own work: a slow server makes neither the echo server nor the load generator's timers
 * slower.
 */
export function pathSlack(runs: readonly PathFigures[], roundTripUs: number): LatencySlack {
  const slack = {} as LatencySlack;
  for (const name of LATENCY_NAMES) {
    const reads = name === 'queueWait' ? 1 : 2;
    slack[name] = {} as Record<LatencyStat, number>;
    for (const stat of LATENCY_STATS) {
      slack[name][stat] = Math.round(
        Math.max(0, ...runs.map((r) => r.sendLagUs[stat] + reads * Math.max(0, r.probeUs[stat] - roundTripUs, r.loopLagUs[stat]))),
      );
    }
  }
  return slack;
}
