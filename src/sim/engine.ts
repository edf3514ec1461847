// The discrete-event simulator: the reference model under an integer-microsecond virtual clock,
// driven by simulated producers, workers and kickers that speak to it in real requests (put,
// reserve, delete, release, bury, touch, kick), so every run exercises beanstalkd's semantics.
// One event queue, one seeded random source, no clock and no I/O: a scenario and a seed give the
// same result, byte for byte.
import type { ConnId, Output, ReferenceModel, WaiterPicker } from '../model/api.js';
import type { Reply, Request } from '../protocol/types.js';
import type { Scenario } from '../scenario/schema.js';
import { scenarioTubes } from '../scenario/schema.js';
import { LatencyHistogram } from '../metrics/histogram.js';
import type { Breakdown, RunResult } from '../metrics/result.js';
import { RESULT_VERSION, sumJobCounts } from '../metrics/result.js';
import { evaluateSlos } from '../metrics/slo.js';
import { QueueSeriesRecorder } from '../metrics/timeseries.js';
import { createArrivals, type ArrivalProcess } from '../scenario/arrivals.js';
import { EventQueue, ZERO_US } from './event-queue.js';
import { JobTable, Phase } from './jobs.js';
import { Random } from '../scenario/random.js';
import { backoffSeconds, createServiceTime, type ServiceTimeSampler } from '../scenario/service.js';
import { readDepths, readCounter } from './server-stats.js';
import { classifyPriorities, type PriorityPicker } from '../scenario/priorities.js';

/** A reply the simulated clients cannot have caused: the model broke its contract. */
export class SimulationError extends Error {
  override name = 'SimulationError';
}

export type ModelFactory = (options: { pickWaiter: WaiterPicker }) => ReferenceModel;

const EV_ARRIVAL = 1;
const EV_SERVICE_END = 2;
const EV_CRASH = 3;
const EV_TOUCH = 4;
const EV_RESTART = 5;
const EV_WORKER_START = 6;
const EV_KICK = 7;
const EV_SAMPLE = 8;

const US = 1_000_000;
const RESERVE: Request = Object.freeze({ kind: 'reserve' });
const STATS: Request = Object.freeze({ kind: 'stats' });
const MAX_SAMPLE_POINTS = 600;
const MAX_PRESIZED_JOBS = 1 << 21;

interface Producer {
  conn: ConnId;
  tube: number;
  arrivals: ArrivalProcess;
  stopUs: number;
  limit: number;
  put: number;
  active: boolean;
  priority: PriorityPicker;
  bodyBytes: (random: Random) => number;
  delaySeconds: (random: Random, nowUs: number) => number;
  ttrSeconds: number;
}

interface Pool {
  watch: readonly string[];
  /** Service time per tube index, for pools whose tubes take different work. */
  serviceByTube: ServiceTimeSampler[];
  failure: Scenario['workers'][number]['failure'];
  crash: Scenario['workers'][number]['crash'];
  touchUs: number;
}

interface Worker {
  pool: Pool;
  conn: ConnId;
  /** The job being worked on, 0 when idle or crashed. */
  job: number;
  /** Bumped per job and per crash, so events of an earlier job are recognised as stale. */
  epoch: number;
  startUs: number;
  endUs: number;
  fails: boolean;
}

interface Group {
  tube: number;
  priorityClass: number;
  put: number;
  completed: number;
  duplicated: number;
  queueWaitUs: LatencyHistogram;
  serviceUs: LatencyHistogram;
  endToEndUs: LatencyHistogram;
}

export interface SimulationOptions {
  scenario: Scenario;
  seed: number;
  createModel: ModelFactory;
}

export class Simulation {
  nowUs = ZERO_US;
  finished = false;

  private readonly scenario: Scenario;
  private readonly seed: number;
  private readonly random: Random;
  private readonly model: ReferenceModel;
  private readonly queue = new EventQueue();
  private readonly jobs = new JobTable();
  private readonly tubes: string[];
  private readonly classNames: string[];
  private readonly groups: Group[] = [];
  private readonly producers: Producer[] = [];
  private readonly workers: Worker[] = [];
  private readonly workerOfConn: Array<number | undefined> = [];
  private readonly kickerConns: ConnId[] = [];
  private readonly observer: ConnId;
  private readonly series: QueueSeriesRecorder;
  private readonly tubeSeries: QueueSeriesRecorder[];
  private readonly warmupUs: number;
  private readonly limitUs: number;
  private readonly bodies = new Map<number, Uint8Array>();
  private lastBody: Uint8Array = new Uint8Array(0);

  private producersActive = 0;
  private totalPut = 0;
  /** Jobs put and neither done nor buried (in the simulator's view). */
  private liveJobs = 0;
  private buriedJobs = 0;
  /** When the backlog (liveJobs) was largest, and when it was next empty: the drain time. */
  private peakBacklog = 0;
  private peakBacklogUs = ZERO_US;
  private drainedUs: number | undefined;
  private retries = 0;
  private duplicateExecutions = 0;
  private lateCompletions = 0;
  private crashes = 0;
  private kicked = 0;

  constructor(options: SimulationOptions) {
    const { scenario, seed } = options;
    this.scenario = scenario;
    this.seed = seed;
    this.random = new Random(seed);
    const random = this.random;
    // beanstalkd may give a job to any waiting worker (semantics doc h.2); the seed decides.
    this.model = options.createModel({ pickWaiter: (candidates) => random.below(candidates.length) });
    this.tubes = scenarioTubes(scenario);
    this.warmupUs = Math.round(scenario.warmupSeconds * US);
    this.limitUs = Math.round(scenario.maxDurationSeconds * US);
    const sampleUs = Math.max(1, Math.round(scenario.sampleEverySeconds * US));
    this.series = new QueueSeriesRecorder(sampleUs, MAX_SAMPLE_POINTS);
    this.tubeSeries = this.tubes.map(() => new QueueSeriesRecorder(sampleUs, MAX_SAMPLE_POINTS));

    const classes = classifyPriorities(scenario);
    this.classNames = classes.names;
    for (let tube = 0; tube < this.tubes.length; tube++) {
      for (let priorityClass = 0; priorityClass < this.classNames.length; priorityClass++) {
        this.groups.push({
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

    // Sized for the whole run up front when the scenario says how many jobs it puts, so a long run
    // does not copy its tables at every doubling (bounded: a huge count is usually cut by time).
    if (scenario.jobs !== undefined) this.jobs.ensure(Math.min(scenario.jobs, MAX_PRESIZED_JOBS));
    this.observer = this.model.connect(0);
    this.startProducers(classes.pickers);
    this.startWorkers();
    this.startKickers();
    this.queue.push(0, EV_SAMPLE, 0, 0);
  }

  /** Runs up to maxEvents events; returns true once the run is over. */
  step(maxEvents: number): boolean {
    const queue = this.queue;
    const model = this.model;
    for (let n = 0; n < maxEvents && !this.finished; n++) {
      const eventUs = queue.peekTimeUs();
      const modelUs = model.nextDeadline() ?? Infinity;
      const nextUs = Math.max(this.nowUs, Math.min(eventUs, modelUs));
      if (nextUs > this.limitUs) {
        this.nowUs = this.limitUs;
        this.finished = true;
        break;
      }
      this.nowUs = nextUs;
      if (modelUs <= eventUs) {
        this.dispatch(model.tick(nextUs));
        // A deadline that does not move would spin this loop forever at one instant.
        if ((model.nextDeadline() ?? Infinity) <= nextUs) {
          throw new SimulationError(`model.nextDeadline() still ${nextUs} after tick(${nextUs})`);
        }
      } else {
        queue.pop();
        this.handleEvent(queue.poppedKind, queue.poppedTarget, queue.poppedEpoch);
      }
      if (this.producersActive === 0 && this.liveJobs === 0 && (this.kickerConns.length === 0 || this.buriedJobs === 0)) {
        this.finished = true;
      }
    }
    return this.finished;
  }

  /** Rough fraction done, for progress bars: the producing phase against its bound. */
  progress(): number {
    if (this.finished) return 1;
    let fraction = 0;
    if (this.scenario.jobs !== undefined) fraction = Math.max(fraction, this.totalPut / this.scenario.jobs);
    if (this.scenario.durationSeconds !== undefined) fraction = Math.max(fraction, this.nowUs / (this.scenario.durationSeconds * US));
    fraction = Math.max(fraction, this.nowUs / this.limitUs);
    return Math.min(1, fraction);
  }

  private handleEvent(kind: number, target: number, epoch: number): void {
    switch (kind) {
      case EV_ARRIVAL:
        return this.arrive(target);
      case EV_SERVICE_END:
        if (this.workers[target].epoch === epoch) this.finishJob(target);
        return;
      case EV_TOUCH:
        if (this.workers[target].epoch === epoch) this.touch(target);
        return;
      case EV_CRASH:
        if (this.workers[target].epoch === epoch) this.crash(target);
        return;
      case EV_RESTART:
        return this.restart(target);
      case EV_WORKER_START:
        return this.connectWorker(target);
      case EV_KICK:
        return this.kick(target);
      case EV_SAMPLE:
        return this.sample();
    }
  }

  // ---- producers ---------------------------------------------------------------------------

  private startProducers(pickers: PriorityPicker[]): void {
    const scenario = this.scenario;
    const durationUs = scenario.durationSeconds === undefined ? Infinity : scenario.durationSeconds * US;
    scenario.producers.forEach((spec, index) => {
      const conn = this.model.connect(0);
      if (spec.tube !== 'default') this.request(conn, { kind: 'use', tube: spec.tube }, 'USING');
      const producer: Producer = {
        conn,
        tube: this.tubes.indexOf(spec.tube),
        arrivals: createArrivals(spec.arrival, spec.startSeconds, this.random),
        stopUs: Math.min(durationUs, spec.stopSeconds === undefined ? Infinity : spec.stopSeconds * US),
        limit: spec.jobs ?? Infinity,
        put: 0,
        active: true,
        priority: pickers[index],
        bodyBytes: bodySizeSampler(spec.bodyBytes),
        delaySeconds: delaySampler(spec.delaySeconds, spec.runAt),
        ttrSeconds: spec.ttrSeconds,
      };
      this.producers.push(producer);
      this.producersActive++;
      this.scheduleArrival(producer, index);
    });
  }

  private scheduleArrival(producer: Producer, index: number): void {
    const atSeconds = producer.put < producer.limit ? producer.arrivals.next() : undefined;
    const atUs = atSeconds === undefined ? Infinity : Math.round(atSeconds * US);
    if (atUs >= producer.stopUs) {
      this.stopProducer(producer);
      return;
    }
    this.queue.push(atUs, EV_ARRIVAL, index, 0);
  }

  private stopProducer(producer: Producer): void {
    if (!producer.active) return;
    producer.active = false;
    this.producersActive--;
  }

  private arrive(index: number): void {
    const producer = this.producers[index];
    if (!producer.active) return;
    const now = this.nowUs;
    const random = this.random;
    const choice = producer.priority(random);
    const delaySeconds = producer.delaySeconds(random, now);
    const request: Request = {
      kind: 'put',
      pri: choice.pri,
      delaySeconds,
      ttrSeconds: producer.ttrSeconds,
      body: this.body(producer.bodyBytes(random)),
    };
    const outputs = this.model.apply(producer.conn, request, now);
    const inserted = replyTo(outputs, producer.conn);
    if (inserted?.kind !== 'INSERTED') throw unexpected('put', inserted);
    const id = inserted.id;
    const jobs = this.jobs;
    jobs.ensure(id);
    jobs.phase[id] = Phase.Queued;
    jobs.dueUs[id] = now + delaySeconds * US;
    jobs.pri[id] = choice.pri;
    const group = producer.tube * this.classNames.length + choice.classIndex;
    jobs.group[id] = group;
    jobs.measured[id] = now >= this.warmupUs ? 1 : 0;
    this.groups[group].put++;
    this.addLive();
    this.totalPut++;
    producer.put++;
    // Only now that the job is on record may a waiting worker's RESERVED for it be handled.
    this.dispatch(outputs);
    if (this.scenario.jobs !== undefined && this.totalPut >= this.scenario.jobs) {
      for (const p of this.producers) this.stopProducer(p);
      return;
    }
    this.scheduleArrival(producer, index);
  }

  private body(bytes: number): Uint8Array {
    // Most producers put one size: the last body answers without a lookup.
    if (this.lastBody.length === bytes) return this.lastBody;
    let body = this.bodies.get(bytes);
    if (body === undefined) {
      body = new Uint8Array(bytes);
      this.bodies.set(bytes, body);
    }
    this.lastBody = body;
    return body;
  }

  // ---- workers -----------------------------------------------------------------------------

  private startWorkers(): void {
    for (const spec of this.scenario.workers) {
      const defaultService = createServiceTime(spec.service);
      const pool: Pool = {
        watch: spec.watch,
        serviceByTube: this.tubes.map((tube) => {
          const byTube = spec.serviceByTube?.[tube];
          return byTube ? createServiceTime(byTube) : defaultService;
        }),
        failure: spec.failure,
        crash: spec.crash,
        touchUs: spec.touchEverySeconds === undefined ? 0 : Math.round(spec.touchEverySeconds * US),
      };
      for (let i = 0; i < spec.count; i++) {
        const index = this.workers.length;
        this.workers.push({ pool, conn: -1, job: 0, epoch: 0, startUs: ZERO_US, endUs: ZERO_US, fails: false });
        this.queue.push(Math.round(spec.startSeconds * US), EV_WORKER_START, index, 0);
      }
    }
  }

  private connectWorker(index: number): void {
    const worker = this.workers[index];
    const conn = this.model.connect(this.nowUs);
    worker.conn = conn;
    this.workerOfConn[conn] = index;
    for (const tube of worker.pool.watch) this.request(conn, { kind: 'watch', tube }, 'WATCHING');
    if (!worker.pool.watch.includes('default')) this.request(conn, { kind: 'ignore', tube: 'default' }, 'WATCHING');
    this.reserve(index);
  }

  private reserve(index: number): void {
    // RESERVED comes back now if a job is ready, or later from another request or a tick.
    this.dispatch(this.model.apply(this.workers[index].conn, RESERVE, this.nowUs));
  }

  private onReserved(index: number, id: number): void {
    const now = this.nowUs;
    const jobs = this.jobs;
    const worker = this.workers[index];
    const group = this.groups[jobs.group[id]];
    const phase = jobs.phase[id];
    if (phase === Phase.Running || phase === Phase.Abandoned) {
      // An earlier execution is still going, or died: this one repeats work.
      this.duplicateExecutions++;
      if (jobs.duplicated[id] === 0) {
        jobs.duplicated[id] = 1;
        group.duplicated++;
      }
    } else if (phase === Phase.Buried) {
      this.buriedJobs--;
      this.addLive();
    }
    if (jobs.executions[id] === 0 && jobs.measured[id] === 1) {
      // A kick can make a delayed job ready before it was due.
      group.queueWaitUs.record(Math.max(0, now - jobs.dueUs[id]));
    }
    jobs.executions[id]++;
    jobs.phase[id] = Phase.Running;
    jobs.runner[id] = index;

    const random = this.random;
    const pool = worker.pool;
    const serviceUs = pool.serviceByTube[group.tube](random);
    worker.job = id;
    worker.epoch++;
    worker.startUs = now;
    let stopUs: number;
    if (pool.crash !== undefined && random.uniform() < pool.crash.probability) {
      stopUs = now + Math.floor(random.uniform() * serviceUs);
      this.queue.push(stopUs, EV_CRASH, index, worker.epoch);
    } else {
      stopUs = now + serviceUs;
      worker.fails = pool.failure !== undefined && random.uniform() < pool.failure.probability;
      this.queue.push(stopUs, EV_SERVICE_END, index, worker.epoch);
    }
    worker.endUs = stopUs;
    if (pool.touchUs > 0 && now + pool.touchUs < stopUs) this.queue.push(now + pool.touchUs, EV_TOUCH, index, worker.epoch);
  }

  private finishJob(index: number): void {
    const now = this.nowUs;
    const worker = this.workers[index];
    const id = worker.job;
    const jobs = this.jobs;
    const group = this.groups[jobs.group[id]];
    const measured = jobs.measured[id] === 1;
    if (measured) group.serviceUs.record(now - worker.startUs);
    worker.job = 0;
    if (!worker.fails) {
      const reply = this.request(worker.conn, { kind: 'delete', id }, 'DELETED', 'NOT_FOUND');
      if (reply.kind === 'DELETED') {
        jobs.phase[id] = Phase.Done;
        this.removeLive();
        group.completed++;
        if (measured) group.endToEndUs.record(Math.max(0, now - jobs.dueUs[id]));
      } else {
        this.finishedLate(id, index);
      }
    } else {
      this.fail(index, id);
    }
    this.reserve(index);
  }

  private fail(index: number, id: number): void {
    const failure = this.workers[index].pool.failure!;
    const jobs = this.jobs;
    if (failure.policy === 'retry' && jobs.retries[id] < failure.maxRetries) {
      const delaySeconds = backoffSeconds(jobs.retries[id], failure.backoffSeconds, failure.backoffFactor, failure.maxBackoffSeconds);
      const request: Request = { kind: 'release', id, pri: jobs.pri[id], delaySeconds };
      const reply = this.request(this.workers[index].conn, request, 'RELEASED', 'NOT_FOUND');
      if (reply.kind !== 'RELEASED') return this.finishedLate(id, index);
      jobs.retries[id]++;
      this.retries++;
      jobs.phase[id] = Phase.Retrying;
      return;
    }
    const reply = this.request(this.workers[index].conn, { kind: 'bury', id, pri: jobs.pri[id] }, 'BURIED', 'NOT_FOUND');
    if (reply.kind !== 'BURIED') return this.finishedLate(id, index);
    jobs.phase[id] = Phase.Buried;
    this.removeLive();
    this.buriedJobs++;
  }

  private addLive(): void {
    if (++this.liveJobs > this.peakBacklog) {
      this.peakBacklog = this.liveJobs;
      this.peakBacklogUs = this.nowUs;
      this.drainedUs = undefined;
    }
  }

  private removeLive(): void {
    if (--this.liveJobs === 0 && this.drainedUs === undefined) this.drainedUs = this.nowUs;
  }

  /** The worker finished after its TTR had expired: beanstalkd has taken the job back. */
  private finishedLate(id: number, index: number): void {
    this.lateCompletions++;
    if (this.jobs.runner[id] === index && this.jobs.phase[id] === Phase.Running) this.jobs.phase[id] = Phase.Abandoned;
  }

  private touch(index: number): void {
    const worker = this.workers[index];
    // NOT_FOUND: the TTR already ran out; the worker does not notice until it finishes.
    this.request(worker.conn, { kind: 'touch', id: worker.job }, 'TOUCHED', 'NOT_FOUND');
    const nextUs = this.nowUs + worker.pool.touchUs;
    if (nextUs < worker.endUs) this.queue.push(nextUs, EV_TOUCH, index, worker.epoch);
  }

  private crash(index: number): void {
    const worker = this.workers[index];
    const crash = worker.pool.crash!;
    const id = worker.job;
    this.crashes++;
    worker.job = 0;
    worker.epoch++;
    if (this.jobs.runner[id] === index && this.jobs.phase[id] === Phase.Running) this.jobs.phase[id] = Phase.Abandoned;
    // A dead process's socket closes at once; a hung one holds its job until the TTR or a restart.
    if (crash.mode === 'disconnect') this.closeWorkerConnection(worker);
    this.queue.push(this.nowUs + Math.round(crash.restartSeconds * US), EV_RESTART, index, 0);
  }

  private restart(index: number): void {
    const worker = this.workers[index];
    if (worker.conn >= 0) this.closeWorkerConnection(worker);
    this.connectWorker(index);
  }

  private closeWorkerConnection(worker: Worker): void {
    const conn = worker.conn;
    this.workerOfConn[conn] = undefined;
    worker.conn = -1;
    this.dispatch(this.model.disconnect(conn, this.nowUs));
  }

  // ---- kickers and sampling ----------------------------------------------------------------

  private startKickers(): void {
    this.scenario.kickers.forEach((spec, index) => {
      const conn = this.model.connect(0);
      if (spec.tube !== 'default') this.request(conn, { kind: 'use', tube: spec.tube }, 'USING');
      this.kickerConns.push(conn);
      this.queue.push(Math.round(spec.startSeconds * US), EV_KICK, index, 0);
    });
  }

  private kick(index: number): void {
    const spec = this.scenario.kickers[index];
    const reply = this.request(this.kickerConns[index], { kind: 'kick', bound: spec.bound }, 'KICKED');
    this.kicked += reply.kind === 'KICKED' ? (reply.count ?? 0) : 0;
    this.queue.push(this.nowUs + Math.round(spec.everySeconds * US), EV_KICK, index, 0);
  }

  private sample(): void {
    const now = this.nowUs;
    // Every job lives in one of the scenario's tubes, so the tubes' depths sum to the server's;
    // stats-tube is much cheaper for the model to format than the full stats document.
    const total = { ready: 0, reserved: 0, delayed: 0, buried: 0 };
    this.tubes.forEach((tube, i) => {
      // A tube nobody refers to has been garbage-collected: NOT_FOUND means all zeros.
      const depths = readDepths(this.request(this.observer, { kind: 'stats-tube', tube }, 'OK', 'NOT_FOUND'));
      this.tubeSeries[i].push(now, depths);
      total.ready += depths.ready;
      total.reserved += depths.reserved;
      total.delayed += depths.delayed;
      total.buried += depths.buried;
    });
    this.series.push(now, total);
    // The interval doubles when the series gets long, so the next sample lands on the new grid.
    const intervalUs = this.series.intervalUs;
    this.queue.push((Math.floor(now / intervalUs) + 1) * intervalUs, EV_SAMPLE, 0, 0);
  }

  // ---- talking to the model ----------------------------------------------------------------

  /** Applies a request and returns its own reply, which must be `expected` or `orElse`. */
  private request(conn: ConnId, request: Request, expected: Reply['kind'], orElse?: Reply['kind']): Reply {
    const outputs = this.model.apply(conn, request, this.nowUs);
    const reply = replyTo(outputs, conn);
    if (reply === undefined || (reply.kind !== expected && reply.kind !== orElse)) throw unexpected(request.kind, reply);
    this.dispatch(outputs);
    return reply;
  }

  /** Hands RESERVED replies to the workers that were waiting; everything else is the requester's. */
  private dispatch(outputs: Output[]): void {
    for (let i = 0; i < outputs.length; i++) {
      const output = outputs[i];
      // Producers' and the observer's replies are theirs alone: skip them before looking inside.
      const index = this.workerOfConn[output.conn];
      if (index === undefined || !('reply' in output)) continue;
      const reply = output.reply;
      if (reply.kind === 'RESERVED') this.onReserved(index, reply.id);
      else if (reply.kind === 'DEADLINE_SOON' || reply.kind === 'TIMED_OUT') throw unexpected('reserve', reply);
    }
  }

  // ---- the result --------------------------------------------------------------------------

  result(): RunResult {
    if (!this.finished) throw new SimulationError('result() before the run finished');
    const endUs = this.nowUs;
    const statsReply = this.model.apply(this.observer, STATS, endUs);
    const ttrExpiries = readCounter(replyTo(statsReply, this.observer), 'job-timeouts');
    const fates = this.finalFates();

    // With one tube or one priority class, the per-tube and per-class breakdowns cover the same
    // groups as the whole run: summarising a histogram (rebuild, encode, compress) is the
    // expensive part, so each distinct set of groups is summarised once and copied.
    const summarised = new Map<string, Breakdown>();
    const breakdown = (members: Group[]): Breakdown => {
      const key = members.map((g) => this.groups.indexOf(g)).join(',');
      const known = summarised.get(key);
      if (known !== undefined) return structuredClone(known);
      const queueWaitUs = new LatencyHistogram();
      const serviceUs = new LatencyHistogram();
      const endToEndUs = new LatencyHistogram();
      for (const g of members) {
        queueWaitUs.add(g.queueWaitUs);
        serviceUs.add(g.serviceUs);
        endToEndUs.add(g.endToEndUs);
      }
      const computed: Breakdown = {
        jobs: sumJobCounts(members, this.groups, fates),
        latency: { queueWaitUs: queueWaitUs.summary(), serviceUs: serviceUs.summary(), endToEndUs: endToEndUs.summary() },
      };
      summarised.set(key, computed);
      return computed;
    };

    const all = breakdown(this.groups);
    const byTube: Record<string, Breakdown> = {};
    this.tubes.forEach((tube, t) => {
      byTube[tube] = breakdown(this.groups.filter((g) => g.tube === t));
    });
    const byPriority: Record<string, Breakdown> = {};
    this.classNames.forEach((name, c) => {
      byPriority[name] = breakdown(this.groups.filter((g) => g.priorityClass === c));
    });
    const seriesByTube: RunResult['queue']['byTube'] = {};
    this.tubes.forEach((tube, t) => {
      seriesByTube[tube] = this.tubeSeries[t].snapshot();
    });

    const measured: Omit<RunResult, 'slo' | 'pass'> = {
      kind: 'sim',
      version: RESULT_VERSION,
      scenario: this.scenario.name,
      seed: this.seed,
      clock: 'virtual',
      durationUs: endUs,
      drainUs: (this.drainedUs ?? endUs) - this.peakBacklogUs,
      jobs: all.jobs,
      events: {
        retries: this.retries,
        ttrExpiries,
        duplicateExecutions: this.duplicateExecutions,
        lateCompletions: this.lateCompletions,
        crashes: this.crashes,
        kicked: this.kicked,
      },
      throughput: { jobsPerSecond: endUs === 0 ? 0 : round3((all.jobs.completed * US) / endUs) },
      latency: all.latency,
      byTube,
      byPriority,
      queue: { all: this.series.snapshot(), byTube: seriesByTube },
    };
    const slo = evaluateSlos(measured, this.scenario.slos);
    return { ...measured, slo, pass: slo.every((s) => s.pass) };
  }

  /** Where each unfinished job ended up, per group, as the model itself reports it. */
  private finalFates(): { buried: number[]; lost: number[]; remaining: number[] } {
    const buried = this.groups.map(() => 0);
    const lost = this.groups.map(() => 0);
    const remaining = this.groups.map(() => 0);
    const jobs = this.jobs;
    for (let id = 1; id < jobs.capacity; id++) {
      const phase = jobs.phase[id];
      if (phase === 0 || phase === Phase.Done) continue;
      const view = this.model.job(id);
      const group = jobs.group[id];
      if (view === undefined) lost[group]++;
      else if (view.state === 'buried') buried[group]++;
      else remaining[group]++;
    }
    return { buried, lost, remaining };
  }
}

function replyTo(outputs: Output[], conn: ConnId): Reply | undefined {
  for (let i = 0; i < outputs.length; i++) {
    const output = outputs[i];
    if (output.conn === conn && 'reply' in output) return output.reply;
  }
  return undefined;
}

function unexpected(command: string, reply: Reply | undefined): SimulationError {
  return new SimulationError(`the model answered ${command} with ${reply ? reply.kind : 'nothing'}`);
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function bodySizeSampler(spec: Scenario['producers'][number]['bodyBytes']): (random: Random) => number {
  if (typeof spec === 'number') return () => spec;
  const span = spec.maxBytes - spec.minBytes + 1;
  return (random) => spec.minBytes + random.below(span);
}

/** Whole seconds of delay for a job put at nowUs: a fixed or uniform delay, plus the wait for its run-at time. */
function delaySampler(
  spec: Scenario['producers'][number]['delaySeconds'],
  runAt: Scenario['producers'][number]['runAt'],
): (random: Random, nowUs: number) => number {
  const base =
    typeof spec === 'number' ? () => spec : (random: Random) => spec.min + random.below(spec.max - spec.min + 1);
  if (runAt === undefined) return base;
  const everyUs = runAt.everySeconds * US;
  const offsetUs = runAt.offsetSeconds * US;
  return (random, nowUs) => {
    const slots = Math.ceil((nowUs - offsetUs) / everyUs);
    const runAtUs = offsetUs + Math.max(0, slots) * everyUs;
    // beanstalkd delays are whole seconds: round up so the job never runs before its time.
    return base(random) + Math.ceil((runAtUs - nowUs) / US);
  };
}
