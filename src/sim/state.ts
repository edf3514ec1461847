// The state one run shares across its parts: the virtual clock, the seeded random source, the
// model, the event queue, the job table, the metric groups, every producer, worker and kicker, and
// the run's counters. Producers, workers, kickers and the result are free functions over this one
// object (in their own modules), so the per-event path stays plain monomorphic property access.
import type { ConnId, ReferenceModel, WaiterPicker } from '../model/api.js';
import { newJobGroups, type JobGroup } from '../metrics/result.js';
import { QueueSeriesRecorder } from '../metrics/timeseries.js';
import { Random } from '../scenario/random.js';
import type { Scenario } from '../scenario/schema.js';
import { scenarioTubes } from '../scenario/schema.js';
import { EventQueue, US, ZERO_US } from './event-queue.js';
import { JobTable } from './jobs.js';
import { BodyCache } from './put-samplers.js';
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

const MAX_SAMPLE_POINTS = 600;
const MAX_PRESIZED_JOBS = 1 << 21;

export type ModelFactory = (options: { pickWaiter: WaiterPicker }) => ReferenceModel;

/** Jobs of one (tube, priority class): what the result breaks down by. */
export type Group = JobGroup;

export class SimState {
  nowUs = ZERO_US;

  readonly scenario: Scenario;
  readonly seed: number;
  readonly random: Random;
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
  readonly series: QueueSeriesRecorder;
  readonly tubeSeries: QueueSeriesRecorder[];
  readonly warmupUs: number;
  readonly bodies = new BodyCache();

  producersActive = 0;
  totalPut = 0;
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

  constructor(scenario: Scenario, seed: number, createModel: ModelFactory, classNames: string[]) {
    this.scenario = scenario;
    this.seed = seed;
    this.random = new Random(seed);
    const random = this.random;
    // beanstalkd may give a job to any waiting worker (docs/semantics.md h.2); the seed decides.
    this.model = createModel({ pickWaiter: (candidates) => random.below(candidates.length) });
    this.tubes = scenarioTubes(scenario);
    this.warmupUs = Math.round(scenario.warmupSeconds * US);
    const sampleUs = Math.max(1, Math.round(scenario.sampleEverySeconds * US));
    this.series = new QueueSeriesRecorder(sampleUs, MAX_SAMPLE_POINTS);
    this.tubeSeries = this.tubes.map(() => new QueueSeriesRecorder(sampleUs, MAX_SAMPLE_POINTS));
    this.classNames = classNames;
    this.groups.push(...newJobGroups(this.tubes.length, classNames.length));
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

  removeLive(): void {
    if (--this.liveJobs === 0 && this.drainedUs === undefined) this.drainedUs = this.nowUs;
  }
}
