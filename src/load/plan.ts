// From a scenario and the command line to what one load run does. Every decision the scenario
// leaves to chance (when each put is due, its priority, delay and body size; each job's service
// time, crash and failure) comes from src/workload, the streams the simulator interprets too: a
// seed means the same workload simulated and run for real, and only the clock differs.
import type { ProducerSpec, Scenario } from '../scenario/schema.js';
import { planWorkload, WHOLE_STREAM, type StreamSlice, type Workload } from '../workload/index.js';

export interface LoadOverrides {
  /** Replaces the scenario's durationSeconds. */
  durationSeconds?: number;
  /** Open loop at this many puts per second in total, shared by the producers in proportion to their rates. */
  ratePerSecond?: number;
  /** Connections per producer. */
  connections?: number;
  /** Closed loop with this many puts outstanding per connection. */
  pipeline?: number;
  driver?: 'beanlab' | 'jackd';
}

export interface ProducerPlan {
  /** The producer's index in the scenario (and in the workload): its decision stream. */
  index: number;
  /** Its spec; a shard's has its share of the rate and the job count (shard.ts), for HTTP and the report. */
  spec: ProducerSpec;
  tube: number;
  tubeName: string;
  /** Which of the producer's decisions this run puts: all of them, or a shard's share. */
  slice: StreamSlice;
}

export interface LoadPlan {
  scenario: Scenario;
  /**
   * The whole run's workload (after --rate and --duration): the decision streams. A shard keeps the
   * whole run's and takes its slices of them (ProducerPlan.slice, poolSlices).
   */
  workload: Workload;
  /** Per worker pool, which of its decisions this run's workers take (whole, or a shard's share). */
  poolSlices: StreamSlice[];
  tubes: string[];
  classNames: string[];
  producers: ProducerPlan[];
  mode: 'open' | 'closed';
  pipeline: number;
  connections: number;
  driver: 'beanlab' | 'jackd';
  /** When producers stop; Infinity when only a job count bounds them. */
  durationUs: number;
  jobsLimit: number;
  maxDurationUs: number;
  drainUs: number;
  warmupUs: number;
  sampleUs: number;
  /** Open loop: the nominal total put rate, for "achieved against target". */
  targetRatePerSecond: number | null;
}

import { US_PER_SECOND as US } from '../units.js';

export class PlanError extends Error {
  override name = 'PlanError';
}

export function planLoad(scenario: Scenario, overrides: LoadOverrides = {}): LoadPlan {
  if (overrides.ratePerSecond !== undefined && overrides.pipeline !== undefined) {
    throw new PlanError('--rate (open loop) and --pipeline (closed loop) exclude each other');
  }
  const settings = scenario.load;
  const mode = overrides.pipeline !== undefined ? 'closed' : overrides.ratePerSecond !== undefined ? 'open' : settings.mode;
  let producers = scenario.producers;
  if (overrides.ratePerSecond !== undefined) producers = scaleRates(producers, overrides.ratePerSecond);
  const durationSeconds = overrides.durationSeconds ?? scenario.durationSeconds;
  if (durationSeconds === undefined && scenario.jobs === undefined && producers.some((p) => p.jobs === undefined && p.stopSeconds === undefined)) {
    throw new PlanError('the run needs a bound: --duration, or durationSeconds or jobs in the scenario');
  }
  const workload = planWorkload({ ...scenario, producers, durationSeconds });
  const plans = workload.producers.map(
    (p): ProducerPlan => ({ index: p.index, spec: p.spec, tube: p.tube, tubeName: p.tubeName, slice: WHOLE_STREAM }),
  );
  if (settings.http && producers.some((p) => p.arrival.process !== 'constant')) {
    throw new PlanError('load.http drives producers with autocannon, which only keeps a constant rate: use arrival process constant');
  }
  return {
    scenario,
    workload,
    poolSlices: workload.pools.map(() => WHOLE_STREAM),
    tubes: workload.tubes,
    classNames: workload.classNames,
    producers: plans,
    mode,
    pipeline: overrides.pipeline ?? settings.pipeline,
    connections: overrides.connections ?? settings.connections,
    driver: overrides.driver ?? settings.driver,
    durationUs: durationSeconds === undefined ? Infinity : durationSeconds * US,
    jobsLimit: scenario.jobs ?? Infinity,
    maxDurationUs: scenario.maxDurationSeconds * US,
    drainUs: settings.drainSeconds * US,
    warmupUs: scenario.warmupSeconds * US,
    sampleUs: Math.max(1000, Math.round(scenario.sampleEverySeconds * US)),
    targetRatePerSecond: mode === 'open' ? nominalRate(producers) : null,
  };
}

/** A producer's long-run puts per second. */
function producerRate(spec: ProducerSpec): number {
  const arrival = spec.arrival;
  switch (arrival.process) {
    case 'constant':
    case 'poisson':
      return arrival.ratePerSecond;
    case 'bursts':
      return arrival.jobsPerBurst / arrival.everySeconds;
    case 'schedule':
      return arrival.steps[arrival.steps.length - 1].ratePerSecond;
  }
}

function nominalRate(producers: readonly ProducerSpec[]): number {
  return Math.round(producers.reduce((sum, p) => sum + producerRate(p), 0) * 1000) / 1000;
}

/** --rate: every rate scaled by one factor, so the producers keep their proportions. */
function scaleRates(producers: readonly ProducerSpec[], totalPerSecond: number): ProducerSpec[] {
  const nominal = producers.reduce((sum, p) => sum + producerRate(p), 0);
  const factor = nominal > 0 ? totalPerSecond / nominal : 1;
  return producers.map((p): ProducerSpec => {
    const a = p.arrival;
    switch (a.process) {
      case 'constant':
      case 'poisson':
        return { ...p, arrival: { ...a, ratePerSecond: a.ratePerSecond * factor } };
      case 'schedule':
        return { ...p, arrival: { ...a, steps: a.steps.map((s) => ({ ...s, ratePerSecond: s.ratePerSecond * factor })) } };
      case 'bursts':
        return { ...p, arrival: { ...a, everySeconds: a.everySeconds / factor } };
    }
  });
}
