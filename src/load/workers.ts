// Workers over real connections, behaving as the scenario's pools say: reserve, and for each job
// of the run take the pool's next workload decision (src/workload: one stream per pool, shared by
// its workers in the order their reservations arrive, decided at reservation as the simulator
// does): work for its service time (touching the job to keep its TTR), then delete, or when it
// fails release with backoff or bury; or crash part-way (hang or disconnect) and come back after
// a restart delay. Each worker is driven by its replies (callbacks, no
// promise per job). With no service time the delete and the next reserve leave in one write,
// which is how a closed-loop put/reserve/delete cycle reaches full speed. Service times are
// timed with Deadlines (timer.ts), which never fire early; the time each job really took next
// to the time it was configured to take goes to the harness monitor.
import type { WorkerPoolSpec } from '../scenario/schema.js';
import { failureAction, poolStream, type PoolStream, type WorkloadObserver } from '../workload/index.js';
import type { BodyFields, RunBodies } from './body.js';
import type { RunClock } from './clock.js';
import type { Done, Driver, QueueConnection, ReservedJob } from './driver.js';
import type { HarnessMonitor } from './harness.js';
import { noAnswer, type OutstandingOps } from './outstanding.js';
import type { LoadPlan } from './plan.js';
import { Deadline } from './timer.js';
import type { JobTracker } from './tracker.js';
import type { Address } from '../target/address.js';

/** Idle workers come back from reserve this often, so a stop never waits on the server. */
const RESERVE_TIMEOUT_SECONDS = 1;
/** A reserve unanswered this long past its timeout counts as unanswered at the end of a run. */
const RESERVE_GRACE_US = 1_000_000;
/** A job the run did not put has no priority we know; it goes back at beanstalkd's default. */
const FOREIGN_PRIORITY = 1024;
export interface WorkerContext {
  plan: LoadPlan;
  clock: RunClock;
  tracker: JobTracker;
  /** The run's seed: the pools' decision streams. */
  seed: number;
  /** Sees every workload decision this run takes (tests). */
  observer?: WorkloadObserver;
  driver: Driver;
  address: Address;
  requestTimeoutMs: number;
  harness: HarnessMonitor;
  /** Decodes job bodies, whichever shard of the run put them (body.ts). */
  bodies: RunBodies;
  /** delete, release, bury and touch requests (and the kickers' kicks) not yet answered. */
  pendingOps: OutstandingOps;
  fail(error: unknown): void;
}

interface PoolRuntime {
  spec: WorkerPoolSpec;
  /** The pool's decisions, shared by its workers (a shard's: its slice of the run's). */
  stream: PoolStream;
}

class Worker {
  private conn: QueueConnection | undefined;
  /** Connections of crashed-and-hung incarnations, kept open (as a hung process would) until the end. */
  private readonly hung: QueueConnection[] = [];
  private stopping = false;
  /** A reserve is outstanding, or a job is in hand: one at a time, as a worker process does. */
  private occupied = false;
  /** delete/release/bury/touch requests not yet answered: a stop waits for them, so no outcome is lost. */
  private acksOutstanding = 0;
  private acksSettled: (() => void) | undefined;
  /** Start delay, service times, touches and restarts: a stop clears them. */
  private readonly timers = new Set<NodeJS.Timeout | Deadline>();
  /** When the reserve in flight was sent; -1 when it was answered. Kept when it failed unanswered. */
  reserveSentUs = -1;

  constructor(
    private readonly index: number,
    private readonly pool: PoolRuntime,
    private readonly ctx: WorkerContext,
  ) {}

  async connect(): Promise<void> {
    const conn = await this.ctx.driver.connect(this.ctx.address, this.ctx.requestTimeoutMs);
    for (const tube of this.pool.spec.watch) await conn.watch(tube);
    if (!this.pool.spec.watch.includes('default')) await conn.ignore('default');
    // A restart that finishes after stop() would otherwise leave its connection open.
    if (this.stopping) await conn.close();
    else this.conn = conn;
  }

  start(): void {
    const startUs = this.pool.spec.startSeconds * 1e6 - this.ctx.clock.nowUs();
    if (startUs > 0) this.after(startUs, () => this.reserve());
    else this.reserve();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const timer of this.timers) {
      if (timer instanceof Deadline) timer.cancel();
      else clearTimeout(timer);
    }
    this.timers.clear();
    if (this.acksOutstanding > 0) await new Promise<void>((resolve) => (this.acksSettled = resolve));
    await Promise.all([this.conn, ...this.hung].map((c) => c?.close()));
  }

  /**
   * Asks for the next job. One reserve at a time: while a connection waits in reserve the
   * server reads nothing else from it (semantics a.0/9), so a delete sent behind a second
   * reserve would wait for the next job to arrive.
   */
  private reserve(): void {
    const conn = this.conn;
    if (conn === undefined || this.stopping || this.occupied) return;
    this.occupied = true;
    const sentUs = this.ctx.clock.nowUs();
    this.reserveSentUs = sentUs;
    conn.reserveWithTimeout(RESERVE_TIMEOUT_SECONDS, (error, job) => {
      this.occupied = false;
      if (error) {
        if (!noAnswer(error)) this.reserveSentUs = -1;
        if (!this.stopping) this.ctx.fail(error);
        return;
      }
      this.reserveSentUs = -1;
      if (this.stopping) return;
      try {
        if (job) this.work(conn, job, sentUs);
        this.reserve();
      } catch (failure) {
        this.ctx.fail(failure);
      }
    });
  }

  private work(conn: QueueConnection, job: ReservedJob, sentUs: number): void {
    const { clock, tracker } = this.ctx;
    const startUs = clock.nowUs();
    const fields = this.ctx.bodies.decode(job.body);
    const outcome = tracker.reserved(this.index, job.id, fields, sentUs, startUs);
    if (outcome === 'foreign') {
      // Not ours (a tube shared with other clients): hand it back, a second later so the
      // workers do not spin on it. Load runs want tubes of their own.
      conn.release(job.id, FOREIGN_PRIORITY, 1, this.acked(() => undefined));
      return;
    }
    // A shard: was it the job's first reservation, or a sibling's retry? Answered before the
    // delete (one connection, replies in order); a measurement only, so a failure just drops it.
    if (outcome === 'unsure') conn.reserves(job.id, (error, reserves) => !error && reserves === 1 && tracker.firstConfirmed(job.id, startUs));
    const spec = this.pool.spec;
    const tubeIndex = Math.floor(fields!.group / this.ctx.plan.classNames.length);
    // The pool's next decision, for this reservation: how long, crash or not, fail or not.
    const { workUs, crashes: crash, fails } = this.pool.stream.next(tubeIndex);
    if (workUs <= 0) {
      this.finish(conn, job.id, fields!, startUs, crash, fails);
      return;
    }
    this.occupied = true;
    const touchSeconds = spec.touchEverySeconds;
    const touches =
      touchSeconds === undefined ? undefined : setInterval(() => conn.touch(job.id, this.acked(() => undefined)), touchSeconds * 1000);
    if (touches) this.timers.add(touches);
    this.after(workUs, () => {
      if (touches) {
        clearInterval(touches);
        this.timers.delete(touches);
      }
      this.ctx.harness.service(workUs, clock.nowUs() - startUs);
      this.occupied = false;
      this.finish(conn, job.id, fields!, startUs, crash, fails);
      this.reserve();
    });
  }

  /** The job's outcome, as its decision said: crash, delete, or on a failure release with backoff or bury. */
  private finish(conn: QueueConnection, id: number, fields: BodyFields, startUs: number, crash: boolean, fails: boolean): void {
    if (crash) return this.crash(conn, id);
    const { clock, tracker } = this.ctx;
    if (!fails) {
      conn.delete(
        id,
        this.acked((deleted) => (deleted ? tracker.completed(this.index, id, startUs, clock.nowUs()) : tracker.late(this.index, id))),
      );
      return;
    }
    const action = failureAction(this.pool.spec.failure!, tracker.retriesOf(id));
    if (action.kind === 'release') {
      conn.release(
        id,
        fields.pri,
        action.delaySeconds,
        this.acked((released) => (released ? tracker.released(this.index, id, startUs, clock.nowUs()) : tracker.late(this.index, id))),
      );
    } else {
      conn.bury(id, fields.pri, this.acked((buried) => (buried ? tracker.buried(this.index, id, startUs, clock.nowUs()) : tracker.late(this.index, id))));
    }
  }

  /** Dies holding the job; a new incarnation connects after the restart delay. */
  private crash(conn: QueueConnection, id: number): void {
    const crash = this.pool.spec.crash!;
    const disconnect = crash.mode === 'disconnect';
    this.ctx.tracker.abandoned(this.index, id, disconnect);
    // Replies come in order, so every earlier request on this connection is answered by now.
    if (disconnect) void conn.close();
    else this.hung.push(conn);
    this.conn = undefined;
    this.after(crash.restartSeconds * 1e6, () => {
      this.connect().then(
        () => this.reserve(),
        (error: unknown) => {
          if (!this.stopping) this.ctx.fail(error);
        },
      );
    });
  }

  /** The callback of a delete/release/bury/touch, counted so that a stop waits for its answer. */
  private acked<T>(onAnswer: (result: T) => void): Done<T> {
    this.acksOutstanding += 1;
    const pending = this.ctx.pendingOps;
    const seq = pending.begin(this.ctx.clock.nowUs(), 0);
    return (error, result) => {
      this.acksOutstanding -= 1;
      if (error) {
        if (!noAnswer(error)) pending.end(seq);
        if (!this.stopping) this.ctx.fail(error);
      } else {
        pending.end(seq);
        onAnswer(result!);
      }
      if (this.acksOutstanding === 0) this.acksSettled?.();
    };
  }

  /** Runs `then` once durationUs have passed (never sooner), unless the worker is stopped first. */
  private after(durationUs: number, then: () => void): void {
    const deadline: Deadline = new Deadline(this.ctx.clock, this.ctx.clock.nowUs() + durationUs, () => {
      this.timers.delete(deadline);
      if (!this.stopping) then();
    });
    this.timers.add(deadline);
  }
}

export class Workers {
  private constructor(private readonly workers: Worker[]) {}

  static async connect(ctx: WorkerContext): Promise<Workers> {
    const workers: Worker[] = [];
    const { plan } = ctx;
    plan.scenario.workers.forEach((spec, k) => {
      const stream = poolStream(plan.workload, k, ctx.seed, { slice: plan.poolSlices[k], observer: ctx.observer });
      const pool: PoolRuntime = { spec, stream };
      for (let i = 0; i < spec.count; i++) workers.push(new Worker(workers.length, pool, ctx));
    });
    await Promise.all(workers.map((w) => w.connect()));
    return new Workers(workers);
  }

  get count(): number {
    return this.workers.length;
  }

  /** Reserves unanswered well past their timeout at nowUs: how many, and when the oldest was sent. */
  overdueReserves(nowUs: number): { count: number; oldestUs: number | undefined } {
    let count = 0;
    let oldestUs: number | undefined;
    for (const w of this.workers) {
      const sentUs = w.reserveSentUs;
      if (sentUs >= 0 && nowUs - sentUs > RESERVE_TIMEOUT_SECONDS * 1e6 + RESERVE_GRACE_US) {
        count += 1;
        if (oldestUs === undefined || sentUs < oldestUs) oldestUs = sentUs;
      }
    }
    return { count, oldestUs };
  }

  start(): void {
    for (const worker of this.workers) worker.start();
  }

  /** Stops every worker: answers to delete/release/bury are awaited, then the connections close. */
  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop()));
  }
}
