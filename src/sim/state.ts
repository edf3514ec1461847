// The state one run shares across its parts: the virtual clock, the seeded random source, the
// model, the event queue, the job table, the metric groups, every producer, worker and kicker, and
// the run's counters. Producers, workers, kickers and the result are free functions over this one
// object (in their own modules), so the per-event path stays plain monomorphic property access.
import type { ConnId, ReferenceModel, WaiterPicker } from '../model/api.js';
import { newJobGroups, type JobGroup } from '../metrics/result.js';
import { BucketSeriesRecorder } from '../metrics/buckets.js';
import type { Random } from '../scenario/random.js';
import type { Scenario } from '../scenario/schema.js';
import { planWorkload, poolStream, StreamRole, streamRandom, type PoolStream, type Workload, type WorkloadObserver } from '../workload/index.js';
import { EventQueue, US, ZERO_US } from './event-queue.js';
import { JobTable } from './jobs.js';
import { BodyCache } from './bodies.js';
import type { Producer } from './producers.js';
import type { Worker } from './workers.js';

/** Event kinds in the queue; the target is a producer, worker or kicker index by kind. */
export const EV_ARRIVAL = 1;
export const EV_SERVICE_END = 2;
export const EV_CRASH = 3;
export const EV_TOUCH = 4;
export const EV_RESTART = 5;
export const EV_WORKER_START = 6;
export const EV_KICK = 7;
export const EV_SAMPLE = 8;
/** A RESERVED reply reaches its worker (only with a round trip or a command cost). */
export const EV_DELIVER = 9;
/** Or-ed into a command's kind once it has its turn at the server: it is applied when it fires. */
export const EV_HAS_SLOT = 0x80;

const MAX_SAMPLE_POINTS = 600;
/** Depth samples per bucket at most: a week sampled every second need not read stats 600,000 times. */
const MAX_SAMPLES_PER_BUCKET = 64;
const MAX_PRESIZED_JOBS = 1 << 21;

export type ModelFactory = (options: { pickWaiter: WaiterPicker }) => ReferenceModel;

/** Jobs of one (tube, priority class): what the result breaks down by. */
export type Group = JobGroup;

export class SimState {
  nowUs = ZERO_US;

  readonly scenario: Scenario;
  readonly seed: number;
  readonly workload: Workload;
  /** One decision stream per worker pool (src/workload), shared by the pool's workers. */
  readonly poolStreams: PoolStream[];
  /** The server's free choices (which waiting worker gets a job): no part of the workload. */
  readonly serverRandom: Random;
  /** Sees the workload's decisions as the run makes them (tests). */
  readonly decisionObserver: WorkloadObserver | undefined;
  /** Added to every work period that is not zero: a real load generator's timer lateness (SimulateOptions). */
  readonly serviceLateUs: number;
  readonly model: ReferenceModel;
  readonly queue = new EventQueue();
  readonly jobs = new JobTable();
  readonly tubes: string[];
  readonly classNames: string[];
  readonly groups: Group[] = [];
  readonly producers: Producer[] = [];
  readonly workers: Worker[] = [];
  readonly workerOfConn: Array<number | undefined> = [];
  readonly kickerConns: ConnId[] = [];
  readonly observer: ConnId;
  readonly series: BucketSeriesRecorder;
  readonly tubeSeries: BucketSeriesRecorder[];
  readonly sampleUs: number;
  /** The last sample's time and the totals then, for the rates between samples. */
  lastSampleUs = ZERO_US;
  lastSamplePut = 0;
  lastSampleCompleted = 0;
  readonly warmupUs: number;
  readonly bodies = new BodyCache();

  /** A request reaches the server this long after it is sent; a reply takes replyLegUs back. */
  readonly requestLegUs: number;
  readonly replyLegUs: number;
  readonly commandCostUs: number;
  /** Whether replies take time at all: with no round trip and no cost, everything is instant. */
  readonly wire: boolean;
  /** The server is busy with earlier commands until then. */
  serverFreeUs = ZERO_US;
  /** When the replies of what is being applied now leave the server. */
  replyAtUs = ZERO_US;

  producersActive = 0;
  /** When the last producer stopped, and the jobs completed by then; undefined while any produces. */
  producingEndUs: number | undefined;
  completedWhileProducing = 0;
  /** Puts sent (the scenario's job count bounds these); totalPut counts those the server took. */
  putsSent = 0;
  /** Puts at a busy server waiting for their turn: the run is not over while there are any. */
  putsWaiting = 0;
  totalPut = 0;
  totalCompleted = 0;
  /** Jobs put and neither done nor buried (in the simulator's view). */
  liveJobs = 0;
  buriedJobs = 0;
  /** When the backlog (liveJobs) was largest, and when it was next empty: the drain time. */
  peakBacklog = 0;
  peakBacklogUs = ZERO_US;
  drainedUs: number | undefined;
  retries = 0;
  duplicateExecutions = 0;
  lateCompletions = 0;
  crashes = 0;
  kicked = 0;

  constructor(scenario: Scenario, seed: number, createModel: ModelFactory, options: { observer?: WorkloadObserver; serviceLateUs?: number } = {}) {
    this.scenario = scenario;
    this.seed = seed;
    this.workload = planWorkload(scenario);
    this.decisionObserver = options.observer;
    const lateUs = options.serviceLateUs ?? 0;
    if (!(lateUs >= 0 && Number.isFinite(lateUs))) throw new RangeError(`serviceLateUs must be 0 or more, got ${lateUs}`);
    this.serviceLateUs = Math.round(lateUs);
    this.poolStreams = this.workload.pools.map((_, i) => poolStream(this.workload, i, seed, { observer: this.decisionObserver }));
    const random = (this.serverRandom = streamRandom(seed, StreamRole.Server, 0));
    // beanstalkd may give a job to any waiting worker (docs/semantics.md h.2); the seed decides.
    this.model = createModel({ pickWaiter: (candidates) => random.below(candidates.length) });
    this.tubes = this.workload.tubes;
    const { roundTripUs, commandCostUs } = scenario.server;
    // Whole microseconds on the virtual clock; the two legs add up to the round trip.
    this.requestLegUs = Math.round(roundTripUs / 2);
    this.replyLegUs = Math.round(roundTripUs) - this.requestLegUs;
    this.commandCostUs = Math.round(commandCostUs);
    this.wire = this.requestLegUs + this.replyLegUs + this.commandCostUs > 0;
    this.warmupUs = Math.round(scenario.warmupSeconds * US);
    const sampleUs = Math.max(1, Math.round(scenario.sampleEverySeconds * US));
    this.sampleUs = sampleUs;
    this.series = new BucketSeriesRecorder(sampleUs, MAX_SAMPLE_POINTS);
    this.tubeSeries = this.tubes.map(() => new BucketSeriesRecorder(sampleUs, MAX_SAMPLE_POINTS));
    this.classNames = this.workload.classNames;
    this.groups.push(...newJobGroups(this.tubes.length, this.classNames.length));
    // Sized for the whole run up front when the scenario says how many jobs it puts, so a long run
    // does not copy its tables at every doubling (bounded: a huge count is usually cut by time).
    if (scenario.jobs !== undefined) this.jobs.ensure(Math.min(scenario.jobs, MAX_PRESIZED_JOBS));
    this.observer = this.model.connect(0);
  }

  addLive(): void {
    if (++this.liveJobs > this.peakBacklog) {
      this.peakBacklog = this.liveJobs;
      this.peakBacklogUs = this.nowUs;
      this.drainedUs = undefined;
    }
  }

  /**
   * A command that reached the server at nowUs gets its turn: true when the server is free now
   * (applied at once), false when it is busy, in which case the command is queued as an event at
   * its turn (kind | EV_HAS_SLOT). Turns are handed out in arrival order: FIFO, as one thread
   * reading its sockets serves them. `commands` is how many commands the event stands for.
   */
  takeSlot(kind: number, target: number, epoch: number, commands: number): boolean {
    const startUs = this.serverFreeUs > this.nowUs ? this.serverFreeUs : this.nowUs;
    this.serverFreeUs = startUs + commands * this.commandCostUs;
    if (startUs === this.nowUs) return true;
    this.queue.push(startUs, kind | EV_HAS_SLOT, target, epoch);
    return false;
  }

  /** The step between two depth samples: sampleEverySeconds, or wider once buckets hold many. */
  sampleStepUs(): number {
    let stepUs = this.sampleUs;
    while (stepUs * MAX_SAMPLES_PER_BUCKET < this.series.intervalUs) stepUs *= 2;
    return stepUs;
  }

  /** Puts and completions since the last sample, into the rate series. */
  countSinceLastSample(): void {
    if (this.nowUs <= this.lastSampleUs) return;
    this.series.count(this.lastSampleUs, this.nowUs, this.totalPut - this.lastSamplePut, this.totalCompleted - this.lastSampleCompleted);
    this.lastSampleUs = this.nowUs;
    this.lastSamplePut = this.totalPut;
    this.lastSampleCompleted = this.totalCompleted;
  }

  removeLive(): void {
    if (--this.liveJobs === 0 && this.drainedUs === undefined) this.drainedUs = this.nowUs;
  }
}
