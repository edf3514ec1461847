// Running a scenario against a real server: once (runOnce), or `repeat` times and, in A/B mode,
// alternately against a baseline server (runLoad). Every phase is bounded: the producing phase
// by the scenario's duration or job count and maxDurationSeconds, draining by drainSeconds, every
// request by the reply timeout, the final audit by AUDIT_BUDGET_MS. Ctrl-C (the abort signal)
// stops producers and workers at once and the jobs are still accounted for, so a partial result
// is as trustworthy as a full one. Operations still unanswered when the run ends are counted and
// recorded at their age; jobs the audit cannot ask about are unverified, not lost.
import { Client } from '../client/client.js';
import { mergeLoadResults } from '../metrics/load-merge.js';
import type { LoadDetails, LoadResult } from '../metrics/load-result.js';
import type { Scenario } from '../scenario/schema.js';
import { auditJobs, type Fates } from './accounting.js';
import { newRunToken } from './body.js';
import { RunClock } from './clock.js';
import { beanlabDriver, REQUEST_TIMEOUT_MS, type Driver } from './driver.js';
import { HarnessMonitor } from './harness.js';
import { HttpProducers } from './http.js';
import { jackdDriver } from './jackd-driver.js';
import { Kickers } from './kickers.js';
import { OutstandingOps } from './outstanding.js';
import { planLoad, type LoadOverrides, type LoadPlan } from './plan.js';
import { Producers, type ProducerSide } from './producers.js';
import { buildResult } from './result.js';
import { loadgenCpuUs, Sampler, snapshotServer, type ServerSnapshot } from './sampler.js';
import { openTarget, targetLabel, type OpenTarget, type TargetSpec } from './target.js';
import { JobTracker } from './tracker.js';
import { Workers } from './workers.js';

/** The final audit's bound, beyond the reply timeout of its last request. */
const AUDIT_BUDGET_MS = 30_000;

/** How often the runner checks on draining and reports progress. */
const PROGRESS_EVERY_MS = 100;

export interface LoadProgress {
  repeat: number;
  repeats: number;
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
  /** Default: the embedded server, as its own process. */
  target?: TargetSpec;
  /** A/B mode: measured alternately with `target`, repeat by repeat. */
  baselineTarget?: TargetSpec;
  repeat?: number;
  seed?: number;
  /** A request unanswered this long fails its connection (default REQUEST_TIMEOUT_MS). */
  requestTimeoutMs?: number;
  signal?: AbortSignal;
  onProgress?(progress: LoadProgress): void;
}

export const DEFAULT_SEED = 1;

export async function runLoad(scenario: Scenario, options: LoadOptions = {}): Promise<LoadResult> {
  const plan = planLoad(scenario, options);
  const repeats = options.repeat ?? 1;
  const seed = options.seed ?? DEFAULT_SEED;
  const current: LoadResult[] = [];
  const baseline: LoadResult[] = [];
  const sides = (i: number): Array<'current' | 'baseline'> =>
    // ABBA order: a drift that is linear in time weighs on both servers alike.
    options.baselineTarget === undefined ? ['current'] : i % 2 === 0 ? ['baseline', 'current'] : ['current', 'baseline'];
  for (let repeat = 0; repeat < repeats && !options.signal?.aborted; repeat++) {
    for (const side of sides(repeat)) {
      if (options.signal?.aborted) break;
      const spec = side === 'current' ? (options.target ?? { kind: 'embedded' }) : options.baselineTarget!;
      const target = await openTarget(spec);
      try {
        const result = await runOnce(plan, target, {
          seed,
          requestTimeoutMs: options.requestTimeoutMs,
          signal: options.signal,
          onProgress: (p) => options.onProgress?.({ ...p, repeat: repeat + 1, repeats, side }),
        });
        (side === 'current' ? current : baseline).push(result);
      } finally {
        await target.stop();
      }
    }
  }
  if (current.length === 0) throw new Error('the run was interrupted before it started');
  const merged = current.length === 1 ? current[0] : mergeLoadResults(current, 'sequential', scenario.slos);
  if (options.baselineTarget !== undefined) {
    const baselineRepeats = baseline.flatMap((r) => r.load.repeats).slice(0, merged.load.repeats.length);
    merged.load.ab = { baselineTarget: targetLabel(options.baselineTarget), baseline: baselineRepeats };
  }
  return merged;
}

export interface RunOnceOptions {
  seed: number;
  requestTimeoutMs?: number;
  signal?: AbortSignal;
  onProgress?(progress: Omit<LoadProgress, 'repeat' | 'repeats' | 'side'>): void;
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
    return await measure(plan, target, options, { control, driver, clock, errors, fail, stopRequested, parts, interrupted: () => interrupted });
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
}

async function measure(plan: LoadPlan, target: OpenTarget, options: RunOnceOptions, state: RunState): Promise<LoadResult> {
  const { address } = target;
  const { control, driver, clock, errors, fail, stopRequested, parts } = state;
  const requestTimeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const first = await snapshotServer(control, clock);
  const baseId = Number((await control.stats()).get('total-jobs') ?? 0);
  const tubeJobsAtStart = await Promise.all(plan.tubes.map((tube) => tubeJobs(control, tube)));
  const runToken = newRunToken();
  const tracker = new JobTracker(baseId, plan.tubes.length, plan.classNames.length, plan.warmupUs, runToken);
  const harness = new HarnessMonitor(clock);
  const pendingPuts = new OutstandingOps();
  const pendingOps = new OutstandingOps();
  const producerContext = { plan, clock, tracker, seed: options.seed, runToken, pendingPuts, requestTimeoutMs, harness, fail };
  const producers: ProducerSide = plan.scenario.load.http
    ? await HttpProducers.start(producerContext, address)
    : await Producers.connect(producerContext, driver, address);
  parts.push(producers);
  const workers = await Workers.connect({ ...producerContext, driver, address, pendingOps });
  parts.push({ close: () => workers.stop() });
  const kickers = await Kickers.connect(plan.scenario.kickers, { driver, address, requestTimeoutMs, tracker, clock, pendingOps, fail });
  parts.push({ close: () => kickers.stop() });
  const sampler = new Sampler(control, clock, tracker, plan.tubes, plan.sampleUs, first, fail);
  parts.push({ close: async () => sampler.cancel() });
  parts.push({ close: async () => harness.stop() });
  const cpuAtStartUs = loadgenCpuUs();

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
      backlog: tracker.live,
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
    if (workers.count > 0) {
      const drainUntilUs = Math.min(hardStopUs, clock.nowUs() + plan.drainUs);
      const drained = waitFor(() => tracker.live === 0);
      await race(drained.promise, stopRequested, drainUntilUs - clock.nowUs());
      drained.cancel();
    }
    const durationUs = clock.nowUs();
    sampler.observeBacklog(durationUs);
    clearInterval(progress);
    harness.stop();
    const http = producers instanceof HttpProducers ? producers.summary(durationUs) : undefined;
    // Reserves still waiting now are closed by the stop; those long past their timeout count.
    const overdueReserves = workers.overdueReserves(durationUs);
    // The stop waits for every delete, release, bury, touch and kick in flight (or its timeout).
    await Promise.all([workers.stop(), kickers.stop()]);
    const unanswered = countUnanswered(durationUs, tracker, pendingPuts, pendingOps, overdueReserves);
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
    });
    return buildResult({
      plan,
      seed: options.seed,
      tracker,
      fates,
      sampler,
      durationUs,
      producingUs,
      completedWhileProducing,
      ttrExpiries: Math.max(0, last.jobTimeouts - first.jobTimeouts),
      serverCpuSeconds: last === first || last.cpuSeconds === null || first.cpuSeconds === null ? null : last.cpuSeconds - first.cpuSeconds,
      loadgenCpuSeconds: (loadgenCpuUs() - cpuAtStartUs) / 1e6,
      details: {
        target: target.label,
        driver: plan.scenario.load.http ? 'http' : driver.name,
        producerConnections: producers.connectionCount,
        workerConnections: workers.count,
        interrupted: state.interrupted(),
        errors,
        http,
        unanswered,
        harness: harness.summary(),
      },
    });
  } finally {
    clearInterval(progress);
    harness.stop();
  }
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
