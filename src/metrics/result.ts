// The versioned result of a run, shared by `beanlab sim` (virtual clock) and the load runner
// (real clock). Results are data: reports are pure functions of this, baselines compare it, and
// the zod schema lets any reader validate a result file it did not write.
import { z } from 'zod';
import { LatencyHistogram } from './histogram.js';

export const RESULT_VERSION = 1;

const count = z.number().int().min(0);
const micros = z.number().min(0);

export const histogramSummarySchema = z.object({
  count,
  mean: micros,
  p50: micros,
  p90: micros,
  p99: micros,
  p999: micros,
  max: micros,
  hdr: z.string(),
});

export const latencySchema = z.object({
  /** From the moment a job was due (put time plus its delay) to its first reservation. */
  queueWaitUs: histogramSummarySchema,
  /** Each attempt, from reservation to the worker's delete, release or bury. */
  serviceUs: histogramSummarySchema,
  /** From the moment a job was due to its successful delete. */
  endToEndUs: histogramSummarySchema,
  /** Load runner only: put round trip as the producer saw it. */
  putUs: histogramSummarySchema.optional(),
});

export const jobCountsSchema = z.object({
  put: count,
  completed: count,
  /** Buried when the run ended. */
  buried: count,
  /** Put and acknowledged, yet the server answered at the end that it no longer had them. */
  lost: count,
  /**
   * Load runs only: acknowledged jobs the final audit could not ask the server about (it stopped
   * answering, or was gone); neither lost nor kept as far as anyone can tell.
   */
  unverified: count.optional(),
  /** Jobs whose work ran more than once (TTR expiry, crashed worker), retries excluded. */
  duplicated: count,
  /** Still ready, delayed or reserved when the run ended (bounded runs that did not drain). */
  remaining: count,
});

export const eventCountsSchema = z.object({
  /** Releases with backoff after a failed attempt. */
  retries: count,
  ttrExpiries: count,
  /** Reservations of a job while an earlier execution of it was still running or abandoned. */
  duplicateExecutions: count,
  /** Workers that finished a job whose reservation had already expired (delete → NOT_FOUND). */
  lateCompletions: count,
  crashes: count,
  kicked: count,
});

const depths = z.array(z.number().min(0));

/**
 * Jobs by state over time. The load runner's points are samples (counts) taken every intervalUs;
 * the simulator's are buckets of width intervalUs starting at tUs: the mean of the depths sampled
 * in each (every sampleEverySeconds), with their largest in `max`.
 */
export const queueSeriesSchema = z.object({
  intervalUs: micros,
  tUs: z.array(micros),
  ready: depths,
  reserved: depths,
  delayed: depths,
  buried: depths,
  max: z.object({ ready: depths, reserved: depths, delayed: depths, buried: depths }).optional(),
});

/** Simulator: puts and completed jobs per second, per bucket [tUs, tUs + intervalUs). */
export const rateSeriesSchema = z.object({
  intervalUs: micros,
  tUs: z.array(micros),
  putsPerSecond: z.array(z.number().min(0)),
  completedPerSecond: z.array(z.number().min(0)),
});

export const breakdownSchema = z.object({ jobs: jobCountsSchema, latency: latencySchema });

export const sloOutcomeSchema = z.object({
  name: z.string(),
  pass: z.boolean(),
  /** The measured value in `unit`; null when nothing was measured (no jobs in that class). */
  actual: z.number().nullable(),
  limit: z.number(),
  unit: z.enum(['seconds', 'jobs', 'jobs/s']),
});

export const runResultSchema = z.object({
  kind: z.enum(['sim', 'load']),
  version: z.literal(RESULT_VERSION),
  scenario: z.string(),
  seed: z.number().int(),
  clock: z.enum(['virtual', 'real']),
  /** Length of the run, draining included. */
  durationUs: micros,
  /**
   * How long the largest backlog took to clear: from the moment the most jobs were waiting or
   * running (buried ones aside) to the moment none were; to the end of the run if that never came.
   */
  drainUs: micros,
  jobs: jobCountsSchema,
  events: eventCountsSchema,
  throughput: z.object({ jobsPerSecond: z.number().min(0), putsPerSecond: z.number().min(0).optional() }),
  latency: latencySchema,
  byTube: z.record(z.string(), breakdownSchema),
  byPriority: z.record(z.string(), breakdownSchema),
  queue: z.object({ all: queueSeriesSchema, byTube: z.record(z.string(), queueSeriesSchema) }),
  /** Simulator only (the load runner's are in load.series): throughput over time. */
  rates: rateSeriesSchema.optional(),
  slo: z.array(sloOutcomeSchema),
  /** Every SLO held. */
  pass: z.boolean(),
});

export const sweepEntrySchema = z.object({ result: runResultSchema }).catchall(z.number());

/** A result plus, for `--sweep`, one run per value and the capacity answer. */
export const resultSchema = runResultSchema.extend({
  sweep: z.array(sweepEntrySchema).optional(),
  /** The smallest swept value meeting every SLO, or null when none does. */
  capacity: z.object({ key: z.string(), value: z.number().nullable() }).optional(),
});

export type LatencySet = z.infer<typeof latencySchema>;
export type JobCounts = z.infer<typeof jobCountsSchema>;

/** What a run counted for one (tube, priority class) group while it ran. */
export interface GroupTotals {
  put: number;
  completed: number;
  duplicated: number;
}

/** One (tube, priority class) group as the simulator and the load runner collect it. */
export interface JobGroup extends GroupTotals {
  tube: number;
  priorityClass: number;
  queueWaitUs: LatencyHistogram;
  serviceUs: LatencyHistogram;
  endToEndUs: LatencyHistogram;
}

/** An empty group for every (tube, priority class); group `tube * priorityClasses + class`. */
export function newJobGroups(tubes: number, priorityClasses: number): JobGroup[] {
  const groups: JobGroup[] = [];
  for (let tube = 0; tube < tubes; tube++) {
    for (let priorityClass = 0; priorityClass < priorityClasses; priorityClass++) {
      groups.push({
        tube,
        priorityClass,
        put: 0,
        completed: 0,
        duplicated: 0,
        queueWaitUs: new LatencyHistogram(),
        serviceUs: new LatencyHistogram(),
        endToEndUs: new LatencyHistogram(),
      });
    }
  }
  return groups;
}

/** Where each group's unfinished jobs ended up; index i is group i. */
export interface GroupFates {
  buried: ArrayLike<number>;
  lost: ArrayLike<number>;
  remaining: ArrayLike<number>;
  /** Load runs only. */
  unverified?: ArrayLike<number>;
}

/** The job counts of `members`, a subset of `groups`: their totals plus their fates. */
export function sumJobCounts<G extends GroupTotals>(members: readonly G[], groups: readonly G[], fates: GroupFates): JobCounts {
  const jobs: JobCounts = { put: 0, completed: 0, buried: 0, lost: 0, duplicated: 0, remaining: 0 };
  if (fates.unverified) jobs.unverified = 0;
  for (const g of members) {
    const index = groups.indexOf(g);
    jobs.put += g.put;
    jobs.completed += g.completed;
    jobs.duplicated += g.duplicated;
    jobs.buried += fates.buried[index];
    jobs.lost += fates.lost[index];
    jobs.remaining += fates.remaining[index];
    if (fates.unverified) jobs.unverified! += fates.unverified[index];
  }
  return jobs;
}
export type EventCounts = z.infer<typeof eventCountsSchema>;
export type Breakdown = z.infer<typeof breakdownSchema>;
export type SloOutcome = z.infer<typeof sloOutcomeSchema>;
export type RunResult = z.infer<typeof runResultSchema>;
export type SweepEntry = z.infer<typeof sweepEntrySchema>;
export type Result = z.infer<typeof resultSchema>;
