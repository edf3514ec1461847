// Running a scenario against a real server: once (runOnce), or `repeat` times and, in A/B mode,
// as often against a baseline server, the runs of both in a random order (runLoad). Every phase is bounded: the producing phase
// by the scenario's duration or job count and maxDurationSeconds, draining by drainSeconds, every
// request by the reply timeout, the final audit by AUDIT_BUDGET_MS. Ctrl-C (the abort signal)
// stops producers and workers at once and the jobs are still accounted for, so a partial result
// is as trustworthy as a full one. Operations still unanswered when the run ends are counted and
// recorded at their age; jobs the audit cannot ask about are unverified, not lost.
// A shard of a sharded run (shard.ts) runs its slice of the plan with the run's token, meets its
// siblings through the server (rendezvous.ts: start barrier, drain, stop) and records the facts
// by job id that `beanlab merge` reconciles.
import { Client } from '../client/client.js';
import { abOrder, freshOrderSeed, orderText, type AbSide } from './ab-order.js';
import { machineWarning } from '../metrics/load-harness.js';
import { mergeLoadResults } from '../metrics/load-merge.js';
import type { LoadDetails, LoadResult } from '../metrics/load-result.js';
import type { Scenario } from '../scenario/schema.js';
import type { WorkloadObserver } from '../workload/index.js';
import { auditJobs, type Fates } from './accounting.js';
import { newRunToken, RunBodies } from './body.js';
import { RunClock } from './clock.js';
import { beanlabDriver, REQUEST_TIMEOUT_MS, type Driver } from './driver.js';
import { HarnessMonitor } from './harness.js';
import { HttpProducers } from './http.js';
import { jackdDriver } from './jackd-driver.js';
import { Kickers } from './kickers.js';
import { OutstandingOps } from './outstanding.js';
import { planLoad, type LoadOverrides, type LoadPlan } from './plan.js';
import { Producers, type ProducerSide } from './producers.js';
import { BarrierTimeout, Rendezvous } from './rendezvous.js';
import { runTokenOf, shardPlan, type ShardSpec } from './shard.js';
import { buildResult, shardDetailsOf } from './result.js';
import { machineCoresBusy, sampleMachineCpu } from './machine-cpu.js';
import { loadgenCpuUs, Sampler, snapshotServer, type ServerSnapshot } from './sampler.js';
import { openTarget, type OpenTarget } from '../target/open.js';
import { targetLabel, type TargetSpec } from '../target/spec.js';
import { JobTracker } from './tracker.js';
import { Workers } from './workers.js';

/** The final audit's bound, beyond the reply timeout of its last request. */
const AUDIT_BUDGET_MS = 30_000;

/** How often the runner checks on draining and reports progress. */
const PROGRESS_EVERY_MS = 100;

export interface LoadProgress {
  /** This side's run number (1-based) and its runs. */
  repeat: number;
  repeats: number;
  /** The run number among all (1-based) and all runs: both sides' in A/B mode. */
  run: number;
  runs: number;
  /** Which server of an A/B run is being measured. */
  side: 'current' | 'baseline';
  phase: 'producing' | 'draining';
  elapsedSeconds: number;
  /** The producing phase's length, when the scenario bounds it by time. */
  durationSeconds: number | undefined;
  puts: number;
  completed: number;
  /** Jobs put and not yet completed or buried. */
  backlog: number;
}

export interface LoadOptions extends LoadOverrides {
  /**
   * The server to measure: `{ kind: 'address', address: 'HOST:PORT' | 'unix:PATH' }` (a running
   * server, perhaps shared), `{ kind: 'spawn', command }` (started for each run, with a `{port}`
   * or `{socket}` placeholder, and stopped after) or, the default, `{ kind: 'embedded' }`: the
   * embedded server as its own process, so that it does not share the load's event loop.
   */
  target?: TargetSpec;
  /** A/B mode: measured `repeat` times like `target`, the runs of both in a random order. */
  baselineTarget?: TargetSpec;
  /** A/B mode: the seed of that order (default: a fresh one; the result keeps it). */
  orderSeed?: number;
  /** Runs one after another, merged into one result whose repeats compare as samples (default 1). */
  repeat?: number;
  /** The seed of arrivals, service times and priorities (default DEFAULT_SEED, 1). */
  seed?: number;
  /** A request unanswered this long fails its connection (default REQUEST_TIMEOUT_MS). */
  requestTimeoutMs?: number;
  /**
   * Stops the run early (what Ctrl-C does to `beanlab load`): producers and workers stop at once,
   * the jobs are still audited, and the promise resolves with the partial result, marked
   * `load.interrupted`. Aborted before the run started, it rejects with NotStartedError.
   */
  signal?: AbortSignal;
  /** Told how the run is going, about every 100 ms. */
  onProgress?(progress: LoadProgress): void;
  /** Sees every workload decision each run takes (src/workload: WorkloadObserver). */
  observer?: WorkloadObserver;
  /** Run one shard of the scenario (see shard.ts); with it, runId is required. */
  shard?: ShardSpec;
  /** The run's id, shared by its shards (shard.ts: checkRunId, deriveRunId). */
  runId?: string;
  /** Wait (up to this long) until every shard has started, through the server (rendezvous.ts). */
  barrierTimeoutMs?: number;
  /** Start the load at this epoch time (milliseconds), after the barrier if there is one. */
  startAtMs?: number;
}

export const DEFAULT_SEED = 1;

/** The run never started: a barrier not reached, or Ctrl-C before it. */
export class NotStartedError extends Error {
  override name = 'NotStartedError';
}

/** A shard waits this long, beyond its drain, for its siblings to stop before it audits. */
const STOP_WAIT_MS = 10_000;

export async function runLoad(scenario: Scenario, options: LoadOptions = {}): Promise<LoadResult> {
  const whole = planLoad(scenario, options);
  const plan = options.shard === undefined ? whole : shardPlan(whole, options.shard);
  if (options.shard !== undefined && options.runId === undefined) throw new Error('a shard needs the run id');
  if (options.shard !== undefined && (repeatsOf(options) > 1 || options.baselineTarget !== undefined)) {
    throw new Error('a shard runs once: --repeat and A/B mode do not combine with shards');
  }
  const repeats = repeatsOf(options);
  const seed = options.seed ?? DEFAULT_SEED;
  const current: LoadResult[] = [];
  const baseline: LoadResult[] = [];
  // A/B: the runs of both sides in a random order (ab-order.ts says why not ABBA).
  const orderSeed = options.baselineTarget === undefined ? undefined : (options.orderSeed ?? freshOrderSeed());
  const schedule: AbSide[] = orderSeed === undefined ? Array<AbSide>(repeats).fill('current') : abOrder(repeats, orderSeed);
  const ran: AbSide[] = [];
  for (const side of schedule) {
    if (options.signal?.aborted) break;
    const repeat = (side === 'current' ? current : baseline).length + 1;
    const spec = side === 'current' ? (options.target ?? { kind: 'embedded' }) : options.baselineTarget!;
    const target = await openTarget(spec);
    try {
      const result = await runOnce(plan, target, {
        seed,
        observer: options.observer,
        requestTimeoutMs: options.requestTimeoutMs,
        signal: options.signal,
        shard: options.shard === undefined ? undefined : {
              ...options.shard,
              runId: options.runId!,
              barrierTimeoutMs: options.barrierTimeoutMs,
              startAtMs: options.startAtMs,
              mayReserveAgain: mayReserveAgain(scenario),
            },
        onProgress: (p) => options.onProgress?.({ ...p, repeat, repeats, side, run: ran.length + 1, runs: schedule.length }),
      });
      (side === 'current' ? current : baseline).push(result);
      ran.push(side);
    } finally {
      await target.stop();
    }
  }
  if (current.length === 0) throw new NotStartedError('the run was interrupted before it started');
  const merged = current.length === 1 ? current[0] : mergeLoadResults(current, 'sequential', scenario.slos);
  if (options.baselineTarget !== undefined) {
    const baselineRepeats = baseline.flatMap((r) => r.load.repeats).slice(0, merged.load.repeats.length);
    // The i-th baseline run pairs with the i-th current one, in the order they ran.
    merged.load.ab = { baselineTarget: targetLabel(options.baselineTarget), baseline: baselineRepeats, orderSeed, order: orderText(ran) };
  }
  return merged;
}

function repeatsOf(options: LoadOptions): number {
  return options.repeat ?? 1;
}

export interface RunOnceOptions {
  seed: number;
  /** Sees every workload decision the run takes, as it takes it (tests: the same decisions as sim). */
  observer?: WorkloadObserver;
  requestTimeoutMs?: number;
  signal?: AbortSignal;
  onProgress?(progress: Omit<LoadProgress, 'repeat' | 'repeats' | 'side' | 'run' | 'runs'>): void;
  /** This run is one shard of a sharded run. */
  shard?: ShardSpec & {
    runId: string;
    barrierTimeoutMs?: number;
    startAtMs?: number;
    /** The whole scenario (not this shard's slice) can have a job reserved twice. */
    mayReserveAgain: boolean;
  };
}

/** One run against a target that is already up. */
export async function runOnce(plan: LoadPlan, target: OpenTarget, options: RunOnceOptions): Promise<LoadResult> {
  const driver: Driver = plan.driver === 'jackd' ? jackdDriver : beanlabDriver;
  const clock = new RunClock();
  const errors: string[] = [];
  let stopRun: () => void = () => {};
  const stopRequested = new Promise<void>((resolve) => (stopRun = resolve));
  const fail = (error: unknown): void => {
    errors.push(error instanceof Error ? error.message : String(error));
    stopRun();
  };
  let interrupted = false;
  const onAbort = (): void => {
    interrupted = true;
    stopRun();
  };
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  // The control connection samples stats, whatever the driver.
  const control = await Client.connect({ ...target.address, timeoutMs: options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS });
  const parts: Array<{ close(): Promise<void> }> = [control];
  const closeAll = () => Promise.allSettled(parts.map((part) => part.close()));
  try {
    let rendezvous: Rendezvous | undefined;
    if (options.shard) {
      rendezvous = await Rendezvous.open(target.address, runTokenOf(options.shard.runId), options.shard, options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS);
      parts.push(rendezvous);
    }
    return await measure(plan, target, options, { control, driver, clock, errors, fail, stopRequested, parts, interrupted: () => interrupted, rendezvous });
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await closeAll();
  }
}

interface RunState {
  control: Client;
  driver: Driver;
  clock: RunClock;
  errors: string[];
  fail(error: unknown): void;
  stopRequested: Promise<void>;
  /** Everything opened so far, closed whatever happens. */
  parts: Array<{ close(): Promise<void> }>;
  interrupted(): boolean;
  /** A shard's meeting point with its siblings. */
  rendezvous?: Rendezvous;
}

async function measure(plan: LoadPlan, target: OpenTarget, options: RunOnceOptions, state: RunState): Promise<LoadResult> {
  const { address } = target;
  const { control, driver, clock, errors, fail, stopRequested, parts } = state;
  const requestTimeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const { rendezvous } = state;
  const shard = options.shard;
  const first = await snapshotServer(control, clock);
  const baseId = Number((await control.stats()).get('total-jobs') ?? 0);
  // Read before this shard says it has started: a coordinated run's shards all read it before any puts.
  const tubeJobsAtStart = await Promise.all(plan.tubes.map((tube) => tubeJobs(control, tube)));
  const runToken = shard ? runTokenOf(shard.runId) : newRunToken();
  // Every shard draws the run's streams with the run's seed and takes its slices of them (shard.ts).
  const seed = options.seed;
  const tracker = new JobTracker(baseId, plan.tubes.length, plan.classNames.length, plan.warmupUs, runToken);
  // Siblings may have reserved a job before this shard's first reservation of it: a retry, a crash, a kick.
  tracker.confirmFirstReservations = shard !== undefined && shard.count > 1 && shard.mayReserveAgain;
  const harness = new HarnessMonitor(clock);
  const pendingPuts = new OutstandingOps();
  const pendingOps = new OutstandingOps();
  const bodies = new RunBodies(runToken, clock);
  const producerContext = { plan, clock, tracker, seed, observer: options.observer, bodies, pendingPuts, requestTimeoutMs, harness, fail };
  const producers: ProducerSide = plan.scenario.load.http
    ? await HttpProducers.start(producerContext, address)
    : await Producers.connect(producerContext, driver, address);
  parts.push(producers);
  const workers = await Workers.connect({ ...producerContext, driver, address, pendingOps });
  parts.push({ close: () => workers.stop() });
  const kickers = await Kickers.connect(plan.scenario.kickers, { driver, address, requestTimeoutMs, tracker, clock, pendingOps, fail });
  parts.push({ close: () => kickers.stop() });
  // A shard's own bookkeeping cannot tell the run's backlog (siblings finish its jobs): the server's counts do.
  const sampler = new Sampler(control, clock, tracker, plan.tubes, plan.sampleUs, first, fail, shard !== undefined);
  parts.push({ close: async () => sampler.cancel() });
  parts.push({ close: async () => harness.stop() });
  const coordinated = shard !== undefined && (shard.barrierTimeoutMs !== undefined || shard.startAtMs !== undefined);
  if (shard && rendezvous) await meet(shard, rendezvous, options.signal);
  const cpuAtStartUs = loadgenCpuUs();
  const machineAtStart = sampleMachineCpu();

  clock.restart();
  harness.start();
  sampler.start();
  workers.start();
  kickers.start();
  let phase: LoadProgress['phase'] = 'producing';
  const progress = setInterval(() => {
    const nowUs = clock.nowUs();
    sampler.observeBacklog(nowUs);
    options.onProgress?.({
      phase,
      elapsedSeconds: nowUs / 1e6,
      durationSeconds: Number.isFinite(plan.durationUs) ? plan.durationUs / 1e6 : undefined,
      puts: tracker.putCount,
      completed: tracker.completedCount,
      backlog: sampler.backlog(),
    });
  }, PROGRESS_EVERY_MS);
  const hardStopUs = plan.maxDurationUs;
  try {
    await race(producers.start(), stopRequested, hardStopUs - clock.nowUs());
    await producers.stop();
    const producingUs = producers.finishedUs ?? clock.nowUs();
    // Rates are over the producing window: the drain's length swings with retry backoff.
    const completedWhileProducing = tracker.completedCount;
    phase = 'draining';
    if (rendezvous) await markOrNote(rendezvous, 'produced', errors);
    if (workers.count > 0) {
      const drainUntilUs = Math.min(hardStopUs, clock.nowUs() + plan.drainUs);
      // A shard is drained when the run is: every started shard done producing, the tubes empty.
      const drained = rendezvous ? runDrained(rendezvous, plan.tubes, fail) : waitFor(() => tracker.live === 0);
      await race(drained.promise, stopRequested, drainUntilUs - clock.nowUs());
      drained.cancel();
    }
    const durationUs = clock.nowUs();
    // The load generator's CPU over the run it measures: the audit after it is not load.
    const loadgenCpuSeconds = (loadgenCpuUs() - cpuAtStartUs) / 1e6;
    const machine = machineCoresBusy(machineAtStart, sampleMachineCpu());
    sampler.observeBacklog(durationUs);
    clearInterval(progress);
    harness.stop();
    const http = producers instanceof HttpProducers ? producers.summary(durationUs) : undefined;
    // Reserves still waiting now are closed by the stop; those long past their timeout count.
    const overdueReserves = workers.overdueReserves(durationUs);
    // The stop waits for every delete, release, bury, touch and kick in flight (or its timeout).
    await Promise.all([workers.stop(), kickers.stop()]);
    const unanswered = countUnanswered(durationUs, tracker, pendingPuts, pendingOps, overdueReserves);
    const notes: string[] = [];
    let auditedAfterAll = false;
    if (rendezvous) {
      await markOrNote(rendezvous, 'stopped', errors);
      // Coordinated shards audit the run's final state: after every started shard has stopped.
      if (coordinated) auditedAfterAll = await siblingsStopped(rendezvous, plan.drainUs / 1000 + STOP_WAIT_MS, notes);
    }
    let last: ServerSnapshot = first;
    try {
      await bounded(sampler.stop(), requestTimeoutMs);
      last = await bounded(snapshotServer(control, clock), requestTimeoutMs);
    } catch {
      // The server's own figures are missing at the end; the audit says why, job by job.
      sampler.cancel();
    }
    const fates: Fates = await auditJobs(tracker, {
      address,
      tubes: plan.tubes,
      serverIsOurs: target.ours,
      kicked: plan.scenario.kickers.length > 0,
      tubeJobsAtStart,
      unansweredPuts: unanswered.puts,
      requestTimeoutMs,
      budgetMs: AUDIT_BUDGET_MS,
      // A shard of one has no siblings: its audit is a lone run's (lost is lost; tubes checked).
      shard: shard !== undefined && shard.count > 1,
    });
    fates.notes.unshift(...notes);
    const serverCpuSeconds = last === first || last.cpuSeconds === null || first.cpuSeconds === null ? null : last.cpuSeconds - first.cpuSeconds;
    const harnessSummary = harness.summary();
    // A shard's siblings may run on this machine (--processes): their CPU is the run's own, not
    // other processes' work, and a shard cannot tell them apart, so shards make no such warning.
    const busy = machine && (shard === undefined || shard.count <= 1) && machineWarning({
      ...machine,
      loadgenCores: loadgenCpuSeconds / (durationUs / 1e6),
      // The server runs on this machine (targets are on loopback). Its CPU spans the snapshots
      // around the run, a little longer than it: that errs towards no warning.
      serverCores: serverCpuSeconds === null ? null : serverCpuSeconds / (durationUs / 1e6),
    });
    if (busy) harnessSummary.warnings.push(busy);
    return buildResult({
      plan,
      seed: options.seed,
      shard: shard
        ? shardDetailsOf(tracker, fates, {
            runId: shard.runId,
            index: shard.index,
            count: shard.count,
            tubes: plan.tubes,
            classNames: plan.classNames,
            startedAtMs: clock.originEpochMs(),
            coordinated: coordinated && auditedAfterAll,
            tubeJobsAtStart,
            serverIsOurs: target.ours,
          })
        : undefined,
      tracker,
      fates,
      sampler,
      durationUs,
      producingUs,
      completedWhileProducing,
      ttrExpiries: Math.max(0, last.jobTimeouts - first.jobTimeouts),
      serverCpuSeconds,
      loadgenCpuSeconds,
      details: {
        target: target.label,
        driver: plan.scenario.load.http ? 'http' : driver.name,
        producerConnections: producers.connectionCount,
        workerConnections: workers.count,
        interrupted: state.interrupted(),
        errors,
        http,
        unanswered,
        harness: harnessSummary,
      },
    });
  } finally {
    clearInterval(progress);
    harness.stop();
  }
}

/**
 * Where a shard waits for its siblings before the load starts: it says it has started, then with
 * a barrier waits until every shard has, and with --start-at until that moment. Ctrl-C or a
 * barrier not reached in time ends the run before it began (NotStartedError).
 */
async function meet(shard: NonNullable<RunOnceOptions['shard']>, rendezvous: Rendezvous, signal: AbortSignal | undefined): Promise<void> {
  await rendezvous.mark('start');
  if (shard.barrierTimeoutMs !== undefined) {
    const deadlineMs = Date.now() + shard.barrierTimeoutMs;
    let seen = 0;
    const met = await rendezvous.waitFor('start', (n) => ((seen = n), n >= shard.count), deadlineMs, signal);
    if (signal?.aborted) throw new NotStartedError('interrupted at the start barrier, before the run started');
    if (!met) {
      throw new BarrierTimeout(
        `the start barrier: ${seen} of ${shard.count} shards of run ${shard.runId} had started after ${Math.round(shard.barrierTimeoutMs / 1000)} s`,
      );
    }
  }
  if (shard.startAtMs !== undefined) {
    const waitMs = shard.startAtMs - Date.now();
    if (waitMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, waitMs);
        function done(): void {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          resolve();
        }
        signal?.addEventListener('abort', done, { once: true });
      });
      if (signal?.aborted) throw new NotStartedError('interrupted while waiting for --start-at, before the run started');
    }
  }
}

/** Whether a job can be reserved more than once: released for a retry, abandoned by a crash, kicked, or held past its TTR. */
function mayReserveAgain(scenario: Scenario): boolean {
  return scenario.kickers.length > 0 || scenario.workers.some((w) => w.failure?.policy === 'retry' || w.crash !== undefined || w.touchEverySeconds !== undefined);
}

/** Says this shard reached a phase; a server that does not answer is the run's error, not a hang. */
async function markOrNote(rendezvous: Rendezvous, phase: 'produced' | 'stopped', errors: string[]): Promise<void> {
  try {
    await rendezvous.mark(phase);
  } catch (error) {
    errors.push(`telling sibling shards this one ${phase === 'produced' ? 'finished producing' : 'stopped'}: ${(error as Error).message}`);
  }
}

/** Polls the server until every shard that started has finished producing and the tubes hold no backlog. */
function runDrained(rendezvous: Rendezvous, tubes: readonly string[], fail: (error: unknown) => void): { promise: Promise<void>; cancel(): void } {
  const controller = new AbortController();
  const promise = (async () => {
    let started = 0;
    try {
      await rendezvous.waitFor(
        'produced',
        async (produced) => {
          if (controller.signal.aborted) return true;
          started = await rendezvous.count('start');
          return produced >= started && (await rendezvous.backlog(tubes)) === 0;
        },
        Infinity,
        controller.signal,
      );
    } catch (error) {
      if (!controller.signal.aborted) fail(error);
    }
  })();
  return { promise, cancel: () => controller.abort() };
}

/** Waits until every shard that started has stopped its workers; false (with a note) if they do not in time. */
async function siblingsStopped(rendezvous: Rendezvous, waitMs: number, notes: string[]): Promise<boolean> {
  let started = 0;
  let stopped = 0;
  try {
    const all = await rendezvous.waitFor(
      'stopped',
      async (n) => {
        stopped = n;
        started = await rendezvous.count('start');
        return n >= started;
      },
      Date.now() + waitMs,
    );
    if (all) return true;
    notes.push(`audited while ${started - stopped} of ${started} shards were still running (they did not stop within ${Math.round(waitMs / 1000)} s)`);
  } catch (error) {
    notes.push(`audited without knowing whether sibling shards had stopped: ${(error as Error).message}`);
  }
  return false;
}

/** A tube's jobs now, or null when the server would not say. */
async function tubeJobs(control: Client, tube: string): Promise<number | null> {
  try {
    const stats = await control.statsTube(tube);
    let total = 0;
    for (const key of ['ready', 'reserved', 'delayed', 'buried']) total += Number(stats?.get(`current-jobs-${key}`) ?? 0);
    return total;
  } catch {
    return null;
  }
}

/**
 * Operations that never got an answer, once everything sent has been answered or has failed:
 * puts (recorded in the put latency at their age at endUs, the end of the run), worker and
 * kicker operations, and reserves long past their timeout at endUs.
 */
function countUnanswered(
  endUs: number,
  tracker: JobTracker,
  pendingPuts: OutstandingOps,
  pendingOps: OutstandingOps,
  reserves: { count: number; oldestUs: number | undefined },
): NonNullable<LoadDetails['unanswered']> {
  pendingPuts.forEachOpen((startUs, group) => tracker.unansweredPut(group, startUs, endUs));
  const oldest = [pendingPuts.oldestOpenUs(), pendingOps.oldestOpenUs(), reserves.oldestUs].filter((t): t is number => t !== undefined);
  const workerOps = pendingOps.count + reserves.count;
  return {
    total: pendingPuts.count + workerOps,
    puts: pendingPuts.count,
    workerOps,
    sinceUs: oldest.length === 0 ? null : Math.max(0, Math.round(Math.min(...oldest))),
  };
}

/** The promise, or a rejection after timeoutMs. */
async function bounded<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)));
  try {
    return await Promise.race([promise, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** setTimeout's largest delay; a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Resolves when the first of the two settles, or after timeoutUs. */
async function race(a: Promise<void>, b: Promise<void>, timeoutUs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.min(MAX_TIMER_MS, Math.max(0, timeoutUs / 1000)))));
  try {
    await Promise.race([a, b, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls a condition until it holds or cancel() is called (callers race it against their bounds). */
function waitFor(condition: () => boolean): { promise: Promise<void>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<void>((resolve) => {
    const check = (): void => {
      if (condition()) resolve();
      else timer = setTimeout(check, PROGRESS_EVERY_MS / 5);
    };
    check();
  });
  return { promise, cancel: () => clearTimeout(timer) };
}
