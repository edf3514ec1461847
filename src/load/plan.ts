// From a scenario and the command line to what one load run does. The arrival processes,
// service-time distributions and priority mixes are the simulator's own samplers (src/sim), so a
// scenario means the same thing simulated and run for real; only the clock differs.
import type { ProducerSpec, Scenario } from '../scenario/schema.js';
import { scenarioTubes } from '../scenario/schema.js';
import { classifyPriorities, type PriorityPicker } from '../scenario/priorities.js';
import { MAX_SEED, Random } from '../scenario/random.js';

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
  index: number;
  spec: ProducerSpec;
  tube: number;
  tubeName: string;
  priority: PriorityPicker;
  bodyBytes(random: Random): number;
  delaySeconds(random: Random, nowUs: number): number;
}

export interface LoadPlan {
  scenario: Scenario;
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
  const tubes = scenarioTubes(scenario);
  const classes = classifyPriorities({ ...scenario, producers });
  const plans = producers.map(
    (spec, index): ProducerPlan => ({
      index,
      spec,
      tube: tubes.indexOf(spec.tube),
      tubeName: spec.tube,
      priority: classes.pickers[index],
      bodyBytes: bodySizeSampler(spec.bodyBytes),
      delaySeconds: delaySampler(spec.delaySeconds, spec.runAt),
    }),
  );
  if (settings.http && producers.some((p) => p.arrival.process !== 'constant')) {
    throw new PlanError('load.http drives producers with autocannon, which only keeps a constant rate: use arrival process constant');
  }
  return {
    scenario,
    tubes,
    classNames: classes.names,
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

function bodySizeSampler(spec: ProducerSpec['bodyBytes']): (random: Random) => number {
  if (typeof spec === 'number') return () => spec;
  const span = spec.maxBytes - spec.minBytes + 1;
  return (random) => spec.minBytes + random.below(span);
}

/** Whole seconds of delay for a job put at nowUs: the producer's delay plus the wait for its run-at time. */
function delaySampler(spec: ProducerSpec['delaySeconds'], runAt: ProducerSpec['runAt']): (random: Random, nowUs: number) => number {
  const base = typeof spec === 'number' ? () => spec : (random: Random) => spec.min + random.below(spec.max - spec.min + 1);
  if (runAt === undefined) return base;
  const everyUs = runAt.everySeconds * US;
  const offsetUs = runAt.offsetSeconds * US;
  return (random, nowUs) => {
    const runAtUs = offsetUs + Math.max(0, Math.ceil((nowUs - offsetUs) / everyUs)) * everyUs;
    return base(random) + Math.ceil((runAtUs - nowUs) / US);
  };
}

/** Draws thrown away from a new generator: xoroshiro128+'s first outputs are far from uniform. */
const WARM_UP_DRAWS = 8;

/**
 * An independent, reproducible random stream for one producer or worker of a run. The seed is
 * hashed (murmur3's finaliser) and the first draws discarded, because xoroshiro128+ seeded with
 * small or nearby integers starts with nearly identical draws (seed 1 gives u ≈ 1.0 first),
 * which made every worker's first service time the same.
 */
export function streamRandom(seed: number, stream: number): Random {
  let h = (seed + Math.imul(stream + 1, 0x9e3779b1)) | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  const random = new Random((h >>> 0) % MAX_SEED);
  for (let i = 0; i < WARM_UP_DRAWS; i++) random.uniform();
  return random;
}
