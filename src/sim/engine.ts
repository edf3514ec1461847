// The discrete-event simulator: the reference model under an integer-microsecond virtual clock,
// driven by simulated producers, workers and kickers that speak to it in real requests (put,
// reserve, delete, release, bury, touch, kick), so every run exercises beanstalkd's semantics.
// One event queue, one seeded random source, no clock and no I/O: a scenario and a seed give the
// same result, byte for byte. This file holds the event loop; the run's state is in state.ts, and
// each kind of client in its own module (producers, workers, worker-lifecycle, periodic).
import type { RunResult } from '../metrics/result.js';
import type { Scenario } from '../scenario/schema.js';
import type { WorkloadObserver } from '../workload/index.js';
import { US } from './event-queue.js';
import { startProducers, arrive } from './producers.js';
import { kick, sample, startKickers } from './periodic.js';
import { checkSimulation } from './paranoid.js';
import { SimulationError } from './replies.js';
import { buildResult } from './result.js';
import {
  EV_ARRIVAL,
  EV_CRASH,
  EV_DELIVER,
  EV_HAS_SLOT,
  EV_KICK,
  EV_RESTART,
  EV_SAMPLE,
  EV_SERVICE_END,
  EV_TOUCH,
  EV_WORKER_START,
  SimState,
  type ModelFactory,
} from './state.js';
import { connectWorker, crash, restart, startWorkers } from './worker-lifecycle.js';
import { deliver, dispatch, finishJob, touch } from './workers.js';

export { SimulationError };
export type { ModelFactory };


export interface SimulationOptions extends SimulateOptions {
  scenario: Scenario;
  seed: number;
  createModel: ModelFactory;
}

/** How a run is interpreted, beyond the scenario and the seed. */
export interface SimulateOptions {
  /** Check the model's and the simulator's invariants every this many events (checkSimulation). */
  paranoidEvery?: number;
  /** Sees every workload decision the run makes (src/workload: WorkloadObserver). */
  observer?: WorkloadObserver;
  /**
   * Every work period (a job's service, or the work before a crash) lasts this much longer than
   * its decision says, when it is not zero: the real run's timer lateness, as a load run measured
   * it (validate). Not a change of the workload: its decisions stay the same.
   */
  serviceLateUs?: number;
}

export class Simulation {
  finished = false;
  /** Events (and model ticks) handled so far. */
  events = 0;
  /** Invariant checks run so far (paranoid runs). */
  checks = 0;

  private readonly state: SimState;
  private readonly limitUs: number;
  private readonly paranoidEvery: number;

  constructor(options: SimulationOptions) {
    const { scenario, seed } = options;
    const state = new SimState(scenario, seed, options.createModel, options);
    this.state = state;
    this.limitUs = Math.round(scenario.maxDurationSeconds * US);
    const every = options.paranoidEvery ?? 0;
    if (!Number.isInteger(every) || every < 0) throw new RangeError(`paranoidEvery must be a whole number of events, got ${every}`);
    this.paranoidEvery = every;
    startProducers(state);
    startWorkers(state);
    startKickers(state);
    state.queue.push(0, EV_SAMPLE, 0, 0);
  }

  /** The virtual time reached so far. */
  get nowUs(): number {
    return this.state.nowUs;
  }

  /** Runs up to maxEvents events; returns true once the run is over. */
  step(maxEvents: number): boolean {
    const state = this.state;
    const queue = state.queue;
    const model = state.model;
    for (let n = 0; n < maxEvents && !this.finished; n++) {
      const eventUs = queue.peekTimeUs();
      const modelUs = model.nextDeadline() ?? Infinity;
      const nextUs = Math.max(state.nowUs, Math.min(eventUs, modelUs));
      if (nextUs > this.limitUs) {
        state.nowUs = this.limitUs;
        this.finished = true;
        break;
      }
      state.nowUs = nextUs;
      // Replies leave now unless a command's cost says later (the command handlers set it).
      state.replyAtUs = nextUs;
      if (modelUs <= eventUs) {
        dispatch(state, model.tick(nextUs));
        // A deadline that does not move would spin this loop forever at one instant.
        if ((model.nextDeadline() ?? Infinity) <= nextUs) {
          throw new SimulationError(`model.nextDeadline() still ${nextUs} after tick(${nextUs})`);
        }
      } else {
        queue.pop();
        this.handleEvent(queue.poppedKind, queue.poppedTarget, queue.poppedEpoch);
      }
      this.events++;
      if (this.paranoidEvery > 0 && this.events % this.paranoidEvery === 0) this.check();
      if (state.producersActive === 0 && state.putsWaiting === 0 && state.liveJobs === 0 && (state.kickerConns.length === 0 || state.buriedJobs === 0)) {
        this.finished = true;
      }
    }
    return this.finished;
  }

  /** Rough fraction done, for progress bars: the producing phase against its bound. */
  progress(): number {
    if (this.finished) return 1;
    const { scenario, nowUs, totalPut } = this.state;
    let fraction = 0;
    if (scenario.jobs !== undefined) fraction = Math.max(fraction, totalPut / scenario.jobs);
    if (scenario.durationSeconds !== undefined) fraction = Math.max(fraction, nowUs / (scenario.durationSeconds * US));
    fraction = Math.max(fraction, nowUs / this.limitUs);
    return Math.min(1, fraction);
  }

  result(): RunResult {
    if (!this.finished) throw new SimulationError('result() before the run finished');
    if (this.paranoidEvery > 0) this.check();
    return buildResult(this.state);
  }

  private check(): void {
    this.checks++;
    checkSimulation(this.state);
  }

  private handleEvent(kind: number, target: number, epoch: number): void {
    const state = this.state;
    // A command that waited for its turn at the server is applied now, without asking again.
    const hasSlot = (kind & EV_HAS_SLOT) !== 0;
    switch (kind & ~EV_HAS_SLOT) {
      case EV_ARRIVAL:
        return arrive(state, target, hasSlot);
      case EV_SERVICE_END:
        if (state.workers[target].epoch === epoch) finishJob(state, target, hasSlot);
        return;
      case EV_TOUCH:
        if (state.workers[target].epoch === epoch) touch(state, target, hasSlot);
        return;
      case EV_DELIVER:
        if (state.workers[target].epoch === epoch) deliver(state, target);
        return;
      case EV_CRASH:
        if (state.workers[target].epoch === epoch) crash(state, target);
        return;
      case EV_RESTART:
        return restart(state, target);
      case EV_WORKER_START:
        return connectWorker(state, target);
      case EV_KICK:
        return kick(state, target);
      case EV_SAMPLE:
        return sample(state);
    }
  }
}
