// The scenario file format shared by `beanlab sim` (virtual time) and the load runner (real time).
// One zod schema is the single source of truth: the TypeScript types are inferred from it and
// every field's unit is in its name. Everything a run needs to be bounded has a default bound.
import { z } from 'zod';

const UINT32_MAX = 4294967295;
/** beanstalkd's default max-job-size; bodies above it would be JOB_TOO_BIG. */
const MAX_BODY_BYTES = 65535;

// Tube names follow beanstalkd (docs/semantics.md a.0/7); checked here so a typo fails at load time.
const tubeName = z
  .string()
  .regex(
    /^[A-Za-z0-9+/;.$_()][A-Za-z0-9\-+/;.$_()]{0,199}$/,
    'a tube name: 1-200 of A-Z a-z 0-9 - + / ; . $ _ ( ), not starting with -',
  );
const seconds = z.number().nonnegative();
const positiveSeconds = z.number().positive();
/** beanstalkd takes delays and TTRs as whole seconds (uint32). */
const wholeSeconds = z.number().int().min(0).max(UINT32_MAX);
const probability = z.number().min(0).max(1);
const priorityValue = z.number().int().min(0).max(UINT32_MAX);

const rateStep = z
  .object({ fromSeconds: seconds, ratePerSecond: z.number().nonnegative() })
  .strict();

const arrival = z.discriminatedUnion('process', [
  z.object({ process: z.literal('constant'), ratePerSecond: z.number().positive() }).strict(),
  z.object({ process: z.literal('poisson'), ratePerSecond: z.number().positive() }).strict(),
  z
    .object({
      process: z.literal('bursts'),
      jobsPerBurst: z.number().int().positive(),
      everySeconds: positiveSeconds,
      firstAtSeconds: seconds.default(0),
      /** The burst's puts are spread evenly over this window; 0 puts them all at one instant. */
      spreadSeconds: seconds.default(0),
    })
    .strict(),
  z
    .object({
      process: z.literal('schedule'),
      /** Inter-arrival pattern within each step: exact spacing or exponential gaps. */
      pattern: z.enum(['constant', 'poisson']).default('poisson'),
      steps: z
        .array(rateStep)
        .min(1)
        .refine(
          (steps) => steps.every((step, i) => i === 0 || step.fromSeconds > steps[i - 1].fromSeconds),
          'steps in increasing fromSeconds order',
        ),
    })
    .strict(),
]);

const bodyBytes = z.union([
  z.number().int().min(0).max(MAX_BODY_BYTES),
  z
    .object({
      minBytes: z.number().int().min(0).max(MAX_BODY_BYTES),
      maxBytes: z.number().int().min(0).max(MAX_BODY_BYTES),
    })
    .strict()
    .refine((range) => range.minBytes <= range.maxBytes, 'minBytes <= maxBytes'),
]);

const delaySeconds = z.union([
  wholeSeconds,
  z
    .object({ min: wholeSeconds, max: wholeSeconds })
    .strict()
    .refine((range) => range.min <= range.max, 'min <= max'),
]);

/** A number, a class name from `priorityClasses`, or a mix of class names with relative weights. */
const priority = z.union([
  priorityValue,
  z.string().min(1),
  z.record(z.string(), z.number().positive()).refine((mix) => Object.keys(mix).length > 0, 'at least one class'),
]);

const producer = z
  .object({
    name: z.string().min(1).optional(),
    tube: tubeName.default('default'),
    arrival,
    /** This producer stops after putting this many jobs. */
    jobs: z.number().int().positive().optional(),
    startSeconds: seconds.default(0),
    stopSeconds: positiveSeconds.optional(),
    bodyBytes: bodyBytes.default(256),
    priority: priority.default(1024),
    delaySeconds: delaySeconds.default(0),
    /** Jobs run at the next multiple of everySeconds (plus offset): "reports run on the hour". */
    runAt: z
      .object({ everySeconds: z.number().int().positive(), offsetSeconds: wholeSeconds.default(0) })
      .strict()
      .optional(),
    ttrSeconds: wholeSeconds.default(60),
  })
  .strict();

const serviceTime = z.discriminatedUnion('distribution', [
  z.object({ distribution: z.literal('constant'), seconds }).strict(),
  z.object({ distribution: z.literal('exponential'), meanSeconds: positiveSeconds }).strict(),
  z
    .object({ distribution: z.literal('lognormal'), meanSeconds: positiveSeconds, sigma: z.number().nonnegative() })
    .strict(),
  z.object({ distribution: z.literal('empirical'), samplesSeconds: z.array(seconds).min(1) }).strict(),
]);

const failure = z.discriminatedUnion('policy', [
  z.object({ probability, policy: z.literal('bury') }).strict(),
  z
    .object({
      probability,
      policy: z.literal('retry'),
      /** After this many releases the next failure buries the job. */
      maxRetries: z.number().int().min(0),
      backoffSeconds: wholeSeconds.default(1),
      backoffFactor: z.number().min(1).default(2),
      maxBackoffSeconds: wholeSeconds.default(3600),
    })
    .strict(),
]);

const crash = z
  .object({
    /** Chance, per job, that the worker dies at a uniformly random point of the job. */
    probability,
    /** hang: the process dies but its connection stays open, so the job waits for its TTR. */
    mode: z.enum(['hang', 'disconnect']).default('hang'),
    restartSeconds: seconds.default(5),
  })
  .strict();

const workerPool = z
  .object({
    name: z.string().min(1).optional(),
    count: z.number().int().min(0),
    watch: z.array(tubeName).min(1).default(['default']),
    service: serviceTime,
    /** Per-tube service times for a pool that watches several tubes. */
    serviceByTube: z.record(tubeName, serviceTime).optional(),
    failure: failure.optional(),
    /** Touch the job this often while working on it, keeping a long job's TTR from expiring. */
    touchEverySeconds: positiveSeconds.optional(),
    crash: crash.optional(),
    startSeconds: seconds.default(0),
  })
  .strict();

const kicker = z
  .object({
    tube: tubeName.default('default'),
    everySeconds: positiveSeconds,
    bound: z.number().int().positive().max(UINT32_MAX).default(1000),
    startSeconds: seconds.default(0),
  })
  .strict();

/** How `beanlab load` drives a real server; the simulator ignores this section. */
const loadSettings = z
  .object({
    /** open: puts follow the arrival processes; closed: each connection keeps `pipeline` puts outstanding. */
    mode: z.enum(['open', 'closed']).default('open'),
    pipeline: z.number().int().positive().max(100000).default(1),
    /** TCP connections per producer. */
    connections: z.number().int().positive().max(10000).default(1),
    driver: z.enum(['beanlab', 'jackd']).default('beanlab'),
    /** Producers enqueue through a small HTTP endpoint, driven by autocannon at their constant rate. */
    http: z.object({ connections: z.number().int().positive().max(10000).default(10) }).strict().optional(),
    /** After the producers stop, how long the workers get to drain the queue before the run ends. */
    drainSeconds: seconds.default(10),
  })
  .strict();

/**
 * How far the clients are from the server, for the simulator (the load runner meets the real
 * thing). Both default to 0: every command is answered the instant it is sent, as before.
 */
const serverSettings = z
  .object({
    /**
     * Network round trip per command (µs): a request reaches the server half of it after it is
     * sent, and the reply reaches the client the other half after the server answers. It puts a
     * floor under queue waits and adds to every worker's turn between two jobs.
     */
    roundTripUs: z.number().nonnegative().max(60_000_000).default(0),
    /**
     * The server's own time per command (µs). beanstalkd is one thread: commands queue for it
     * one at a time, so at high rates this becomes a queue of its own.
     */
    commandCostUs: z.number().nonnegative().max(60_000_000).default(0),
  })
  .strict();

const latencyStat = z.enum(['mean', 'p50', 'p90', 'p99', 'p999', 'max']);
const slo = z.discriminatedUnion('metric', [
  z
    .object({
      name: z.string().min(1).optional(),
      metric: z.enum(['queueWait', 'service', 'endToEnd']),
      stat: latencyStat,
      tube: tubeName.optional(),
      priority: z.string().min(1).optional(),
      maxSeconds: seconds,
    })
    .strict(),
  z
    .object({
      name: z.string().min(1).optional(),
      metric: z.enum(['buried', 'lost', 'duplicated', 'remaining', 'retries', 'ttrExpiries']),
      tube: tubeName.optional(),
      max: z.number().int().min(0),
    })
    .strict(),
  z.object({ name: z.string().min(1).optional(), metric: z.literal('jobsPerSecond'), min: z.number().nonnegative() }).strict(),
  z.object({ name: z.string().min(1).optional(), metric: z.literal('drainSeconds'), maxSeconds: seconds }).strict(),
]);

export const DEFAULT_PRIORITY_CLASSES: Readonly<Record<string, number>> = {
  critical: 1,
  high: 256,
  normal: 1024,
  low: 2048,
};

export const scenarioSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().optional(),
    /** Producers stop putting after this much (virtual or real) time. */
    durationSeconds: positiveSeconds.optional(),
    /** Producers stop after this many puts in total. */
    jobs: z.number().int().positive().optional(),
    /** Hard bound on the whole run, draining included. */
    maxDurationSeconds: positiveSeconds.default(7 * 24 * 3600),
    /** Jobs put before this time are left out of the latency histograms. */
    warmupSeconds: seconds.default(0),
    sampleEverySeconds: positiveSeconds.default(1),
    tubes: z.array(tubeName).min(1).optional(),
    priorityClasses: z.record(z.string().min(1), priorityValue).default({ ...DEFAULT_PRIORITY_CLASSES }),
    producers: z.array(producer).min(1),
    workers: z.array(workerPool).min(1),
    kickers: z.array(kicker).default([]),
    slos: z.array(slo).default([]),
    load: loadSettings.prefault({}),
    /** The round trip and the server's per-command cost, as the simulator models them. */
    server: serverSettings.prefault({}),
  })
  .strict()
  .superRefine((scenario, ctx) => {
    const problem = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    const bounded = scenario.durationSeconds !== undefined || scenario.jobs !== undefined;
    scenario.producers.forEach((p, i) => {
      if (!bounded && p.jobs === undefined && p.stopSeconds === undefined) {
        problem(['producers', i], 'a bound: durationSeconds or jobs at the top level, or jobs or stopSeconds here');
      }
      const usesClass = (name: string, path: (string | number)[]) => {
        if (!(name in scenario.priorityClasses)) {
          problem(path, `a priority class from priorityClasses (${Object.keys(scenario.priorityClasses).join(', ')})`);
        }
      };
      if (typeof p.priority === 'string') usesClass(p.priority, ['producers', i, 'priority']);
      if (typeof p.priority === 'object') {
        for (const name of Object.keys(p.priority)) usesClass(name, ['producers', i, 'priority', name]);
      }
    });
    if (scenario.tubes) {
      const known = new Set(scenario.tubes);
      const mustKnow = (tube: string, path: (string | number)[]) => {
        if (!known.has(tube)) problem(path, `a tube listed in tubes (${scenario.tubes!.join(', ')})`);
      };
      scenario.producers.forEach((p, i) => mustKnow(p.tube, ['producers', i, 'tube']));
      scenario.workers.forEach((w, i) => w.watch.forEach((t, j) => mustKnow(t, ['workers', i, 'watch', j])));
      scenario.kickers.forEach((k, i) => mustKnow(k.tube, ['kickers', i, 'tube']));
      scenario.slos.forEach((s, i) => {
        if ('tube' in s && s.tube !== undefined) mustKnow(s.tube, ['slos', i, 'tube']);
      });
    }
    scenario.slos.forEach((s, i) => {
      if ('priority' in s && s.priority !== undefined && !(s.priority in scenario.priorityClasses)) {
        problem(['slos', i, 'priority'], 'a priority class from priorityClasses');
      }
      if ('priority' in s && s.priority !== undefined && s.tube !== undefined) {
        problem(['slos', i], 'either tube or priority, not both (results break down by each separately)');
      }
    });
    // A tube no pool watches never drains, and the run would idle to maxDurationSeconds.
    const watched = new Set(scenario.workers.flatMap((w) => w.watch));
    scenario.producers.forEach((p, i) => {
      if (!watched.has(p.tube)) problem(['producers', i, 'tube'], `a tube some worker pool watches (${[...watched].join(', ')})`);
    });
  });

export type ScenarioInput = z.input<typeof scenarioSchema>;
export type Scenario = z.output<typeof scenarioSchema>;
export type ProducerSpec = Scenario['producers'][number];
export type ArrivalSpec = ProducerSpec['arrival'];
export type WorkerPoolSpec = Scenario['workers'][number];
export type ServiceTimeSpec = WorkerPoolSpec['service'];
export type FailureSpec = NonNullable<WorkerPoolSpec['failure']>;
export type KickerSpec = Scenario['kickers'][number];
export type SloSpec = Scenario['slos'][number];
export type LoadSettings = Scenario['load'];
export type ServerSettings = Scenario['server'];

/** Every tube a scenario touches, in a stable order: declared ones first, then first use. */
export function scenarioTubes(scenario: Scenario): string[] {
  const tubes = new Set<string>(scenario.tubes ?? []);
  for (const p of scenario.producers) tubes.add(p.tube);
  for (const w of scenario.workers) for (const t of w.watch) tubes.add(t);
  for (const k of scenario.kickers) tubes.add(k.tube);
  return [...tubes];
}
