// The load runner's result: the simulator's result schema (src/metrics/result.ts) plus a `load`
// section with what only a real run has: the target, achieved against target rate, CPU of the
// server and of the load generator, per-second series, the job-integrity findings, the per-repeat
// samples that compare's confidence intervals are computed from, and the HTTP front end's latency.
import { z } from 'zod';
import { histogramSummarySchema, resultSchema } from './result.js';

const count = z.number().int().min(0);
const micros = z.number().min(0);

/** The few numbers of one histogram that a repeat keeps (the full histogram is in the merged result). */
export const latencyStatsSchema = histogramSummarySchema.omit({ hdr: true });

/** One repeat of a run, reduced to what regression gates compare. */
export const repeatSampleSchema = z.object({
  durationUs: micros,
  /** Load runs: jobs completed per second while producers ran (sim: over the whole run). */
  jobsPerSecond: z.number().min(0),
  /** Absent for results that do not measure it (sim). */
  putsPerSecond: z.number().min(0).optional(),
  /** Keyed like result.latency (putUs, queueWaitUs, serviceUs, endToEndUs) plus httpUs. */
  latency: z.record(z.string(), latencyStatsSchema),
  /** The run had the "machine was busy" warning (load-harness.ts machineWarning): other processes held its cores. */
  machineBusy: z.boolean().optional(),
});

export const loadSeriesSchema = z.object({
  intervalUs: micros,
  tUs: z.array(micros),
  putsPerSecond: z.array(z.number().min(0)),
  completedPerSecond: z.array(z.number().min(0)),
  /** Server CPU (user + system) as a percentage of one core; null when the server does not report rusage. */
  serverCpuPercent: z.array(z.number().min(0).nullable()),
  loadgenCpuPercent: z.array(z.number().min(0)),
  /** Server command counts per second, from `stats` cmd-* deltas (put, reserve, delete, ...). */
  commandsPerSecond: z.record(z.string(), z.array(z.number().min(0))),
});

/** A set of job ids, encoded (src/metrics/id-list.ts): sorted, gaps and runs as varints, base64. */
const idList = z.string();
const groupIds = z.object({ group: count, ids: idList });

/**
 * What one shard knows about jobs that other shards of its run touched, by job id, for
 * `beanlab merge` to reconcile (src/metrics/shard-merge.ts). Groups are indexes into
 * tubes × classNames (group = tube index × classNames.length + class index).
 */
export const shardFactsSchema = z.object({
  /** This shard's puts its own workers did not finish, by group and by what its final audit found. */
  unfinished: z.array(z.object({ group: count, gone: idList, buried: idList, remaining: idList, unverified: idList })),
  /** Jobs this shard's workers deleted (DELETED) that another shard put. */
  completedForSiblings: z.array(groupIds),
  /** Jobs this shard's workers buried that another shard put. */
  buriedForSiblings: z.array(groupIds),
  /** Jobs whose reservation here ended without an outcome (a crash, a TTR expiry before the delete). */
  dropped: z.array(groupIds),
  /** Jobs whose work ran more than once here (in this shard's jobs.duplicated). */
  reran: z.array(groupIds),
});

/** One shard's own figures, kept in a merged result: how each load generator fared. */
export const shardSummarySchema = z.object({
  index: count,
  /** When its run clock began (its producers and workers started), epoch milliseconds. */
  startedAtMs: z.number(),
  durationUs: micros,
  producingUs: micros,
  puts: count,
  completed: count,
  loadgenCpuSeconds: z.number().min(0),
  eventLoopLagUs: latencyStatsSchema.optional(),
  sendLagUs: latencyStatsSchema.optional(),
  interrupted: z.boolean(),
  pass: z.boolean(),
});

export const shardDetailsSchema = z.object({
  /** The run's id: every shard's jobs carry its token, and only shards of one run merge. */
  runId: z.string(),
  /** How many shards the run has. */
  count: z.number().int().min(1),
  /** This shard's index (from 0); absent in a merged result. */
  index: count.optional(),
  /** The scenario's tubes and priority classes, which the groups of `facts` index. */
  tubes: z.array(z.string()),
  classNames: z.array(z.string()),
  /** When the run clock began, epoch milliseconds (a merged result: the earliest shard's). */
  startedAtMs: z.number(),
  /** Started through a barrier or at --start-at, and audited once every shard had stopped. */
  coordinated: z.boolean(),
  /** Unfinished puts the server no longer had at this shard's audit: completed by a sibling, or lost. */
  gone: count,
  /** Each tube's job count before any shard put (a coordinated run) or before this shard did. */
  tubeJobsAtStart: z.array(count.nullable()),
  /** Each tube's job count at the audit. */
  tubeJobsAtEnd: z.array(count.nullable()),
  /** The server was started for this run (nobody else's jobs are in its tubes). */
  serverIsOurs: z.boolean(),
  /** A shard's result: the facts the merge reconciles. */
  facts: shardFactsSchema.optional(),
  /** A merged result: the shards in it, each with its own figures. */
  shards: z.array(shardSummarySchema).optional(),
});

export const loadDetailsSchema = z.object({
  /** What was measured: `embedded (beanlab serve)`, `127.0.0.1:11300`, or the spawn command. */
  target: z.string(),
  driver: z.enum(['beanlab', 'jackd', 'http']),
  mode: z.enum(['open', 'closed']),
  /** Open loop: the puts per second asked for; null in closed loop. */
  targetRatePerSecond: z.number().min(0).nullable(),
  /** Puts acknowledged per second while producers were running. */
  achievedRatePerSecond: z.number().min(0),
  /** How long the producers were putting (the rest of the run is draining). */
  producingUs: micros,
  /** Jobs completed while producers were putting: throughput.jobsPerSecond is these over producingUs. */
  completedWhileProducing: count.optional(),
  producerConnections: count,
  workerConnections: count,
  pipeline: count,
  /** Ctrl-C ended the run early; the numbers cover what ran. */
  interrupted: z.boolean(),
  /** Run-level failures (a connection lost, a reply that never came); any fails the run. */
  errors: z.array(z.string()),
  cpu: z.object({
    serverSeconds: z.number().min(0).nullable(),
    serverPercent: z.number().min(0).nullable(),
    loadgenSeconds: z.number().min(0),
    loadgenPercent: z.number().min(0),
  }),
  series: loadSeriesSchema,
  integrity: z.object({
    /** Acknowledged puts the server no longer had at the end and no worker completed (first 100 ids). */
    lostIds: z.array(count),
    /** Jobs handed out while another worker still held them or after they were deleted (first 100 ids). */
    duplicatedIds: z.array(count),
    duplicateDeliveries: count,
    /** Jobs reserved from the scenario's tubes that this run did not put. */
    foreignJobs: count,
    /** Puts acknowledged with an id the server still held another job under (counted in jobs.lost). */
    idCollisions: count.optional(),
    /** Jobs the final audit could not ask about (first 100 ids), and why. */
    unverifiedIds: z.array(count).optional(),
    unverifiedReason: z.string().nullable().optional(),
    /** Jobs a worker deleted (the server answered DELETED) that the server still held at the end. */
    undeleted: count.optional(),
    undeletedIds: z.array(count).optional(),
    /** Their states on the server (delayed, ready, ...), with how many in each. */
    undeletedByState: z.record(z.string(), count).optional(),
    /** Completed jobs the audit checked for being gone, out of completedTotal. */
    completedChecked: count.optional(),
    completedTotal: count.optional(),
    /** Tubes holding other than the jobs the run reported left in them. */
    tubeMismatches: z.array(z.string()).optional(),
    /** What the audit noticed that fails nothing by itself. */
    notes: z.array(z.string()).optional(),
    /**
     * Merged shards: jobs a shard deleted that no shard of the run claims as put and unfinished by
     * itself: delivered and deleted twice, or left in the tubes by an earlier run with the same id.
     */
    unclaimedCompletions: count.optional(),
  }),
  /**
   * Operations sent that got no answer by the end of the run (the server stopped answering or
   * the connection failed). Their latencies are recorded at their age at the end.
   */
  unanswered: z
    .object({
      total: count,
      puts: count,
      /** reserve (past its timeout), delete, release, bury, touch, kick. */
      workerOps: count,
      /** When the oldest unanswered operation was sent (run clock): the server stopped answering then. */
      sinceUs: micros.nullable(),
    })
    .optional(),
  /** Whether the load generator distorted its own load (src/metrics/load-harness.ts). */
  harness: z
    .object({
      serviceConfiguredUs: histogramSummarySchema,
      serviceMeasuredUs: histogramSummarySchema,
      /** Open loop: how late each put was sent after its intended time. */
      sendLagUs: histogramSummarySchema,
      eventLoopLagUs: histogramSummarySchema,
      warnings: z.array(z.string()),
    })
    .optional(),
  repeats: z.array(repeatSampleSchema),
  http: z
    .object({
      requests: count,
      non2xx: count,
      errors: count,
      targetRatePerSecond: z.number().min(0),
      /** Requests the constant rate called for over the run, and those autocannon never sent (its connections were waiting). */
      scheduled: count.optional(),
      neverSent: count.optional(),
      /** Coordinated-omission corrected (see src/metrics/load-correction.ts). */
      latencyUs: histogramSummarySchema,
    })
    .optional(),
  /** A/B mode: the baseline target's repeats, run in one random order with this result's. */
  ab: z
    .object({
      baselineTarget: z.string(),
      baseline: z.array(repeatSampleSchema),
      /** The seed of the runs' random order (LoadOptions.orderSeed, --order-seed repeats it). */
      orderSeed: z.number().int().optional(),
      /** The order the runs ran in: `B C C B ...` (baseline, current). */
      order: z.string().optional(),
    })
    .optional(),
  /** A shard of a sharded run (--shard, --processes), or the merge of a run's shards. */
  shard: shardDetailsSchema.optional(),
});

export const loadResultSchema = resultSchema.extend({ kind: z.literal('load'), load: loadDetailsSchema });

export type LatencyStats = z.infer<typeof latencyStatsSchema>;
export type RepeatSample = z.infer<typeof repeatSampleSchema>;
export type LoadSeries = z.infer<typeof loadSeriesSchema>;
export type LoadDetails = z.infer<typeof loadDetailsSchema>;
export type LoadResult = z.infer<typeof loadResultSchema>;
export type ShardFacts = z.infer<typeof shardFactsSchema>;
export type ShardDetails = z.infer<typeof shardDetailsSchema>;
export type ShardSummary = z.infer<typeof shardSummarySchema>;

/** The first ids kept in integrity lists: enough to investigate, small enough for any JSON. */
export const MAX_LISTED_IDS = 100;

export function latencyStats(h: z.infer<typeof histogramSummarySchema>): LatencyStats {
  return { count: h.count, mean: h.mean, p50: h.p50, p90: h.p90, p99: h.p99, p999: h.p999, max: h.max };
}
