// Workers over real connections, behaving as the scenario's pools say: reserve, work for a
// service time drawn from the pool's distribution (touching the job to keep its TTR), then
// delete, or on a failure release with backoff or bury; sometimes crash (hang or disconnect)
// and come back after a restart delay. With no service time the delete and the next reserve
// leave in one write, which is how a closed-loop put/reserve/delete cycle reaches full speed.
import type { WorkerPoolSpec } from '../scenario/schema.js';
import type { Random } from '../sim/random.js';
import { backoffSeconds, createServiceTime, type ServiceTimeSampler } from '../sim/service.js';
import { decodeBody } from './body.js';
import type { RunClock } from './clock.js';
import type { Driver, QueueConnection, ReservedJob } from './driver.js';
import { streamRandom, type LoadPlan } from './plan.js';
import type { JobTracker } from './tracker.js';

/** Idle workers come back from reserve this often, so a stop never waits on the server. */
const RESERVE_TIMEOUT_SECONDS = 1;
/** A job the run did not put has no priority we know; it goes back at beanstalkd's default. */
const FOREIGN_PRIORITY = 1024;

export interface WorkerContext {
  plan: LoadPlan;
  clock: RunClock;
  tracker: JobTracker;
  seed: number;
  driver: Driver;
  host: string;
  port: number;
  fail(error: unknown): void;
}

interface PoolRuntime {
  spec: WorkerPoolSpec;
  serviceByTube: ServiceTimeSampler[];
}

class Worker {
  private conn: QueueConnection | undefined;
  /** Connections of crashed-and-hung incarnations, kept open (as a hung process would) until the end. */
  private readonly hung: QueueConnection[] = [];
  private stopping = false;
  /** delete/release/bury requests not yet answered: a stop waits for them, so no outcome is lost. */
  private readonly acks = new Set<Promise<unknown>>();
  private wake: (() => void) | undefined;
  private loopDone: Promise<void> = Promise.resolve();

  constructor(
    private readonly index: number,
    private readonly pool: PoolRuntime,
    private readonly ctx: WorkerContext,
    private readonly random: Random,
  ) {}

  async connect(): Promise<void> {
    const conn = await this.ctx.driver.connect(this.ctx.host, this.ctx.port);
    for (const tube of this.pool.spec.watch) await conn.watch(tube);
    if (!this.pool.spec.watch.includes('default')) await conn.ignore('default');
    this.conn = conn;
  }

  start(): void {
    this.loopDone = this.loop().catch((error: unknown) => {
      if (!this.stopping) this.ctx.fail(error);
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await Promise.allSettled([...this.acks]);
    await Promise.all([this.conn, ...this.hung].map((c) => c?.close()));
    await this.loopDone;
  }

  private async loop(): Promise<void> {
    const startUs = this.pool.spec.startSeconds * 1e6;
    if (startUs > 0) await this.sleepUs(startUs - this.ctx.clock.nowUs());
    while (!this.stopping) {
      const conn = this.conn!;
      const sentUs = this.ctx.clock.nowUs();
      const job = await conn.reserveWithTimeout(RESERVE_TIMEOUT_SECONDS);
      if (job === null || this.stopping) continue;
      await this.work(conn, job, sentUs);
    }
  }

  private async work(conn: QueueConnection, job: ReservedJob, sentUs: number): Promise<void> {
    const { clock, tracker } = this.ctx;
    const startUs = clock.nowUs();
    const fields = decodeBody(job.body);
    if (tracker.reserved(this.index, job.id, fields, sentUs, startUs) === 'foreign') {
      // Not ours (a tube shared with other clients): hand it back, a second later so the
      // workers do not spin on it. Load runs want tubes of their own.
      this.ack(conn.release(job.id, FOREIGN_PRIORITY, 1), () => undefined);
      return;
    }
    const spec = this.pool.spec;
    const tubeIndex = Math.floor(fields!.group / this.ctx.plan.classNames.length);
    const serviceUs = this.pool.serviceByTube[tubeIndex](this.random);
    const crash = spec.crash !== undefined && this.random.uniform() < spec.crash.probability;
    const workUs = crash ? Math.floor(this.random.uniform() * serviceUs) : serviceUs;
    if (workUs > 0) await this.serve(conn, job.id, workUs);
    if (this.stopping) return;
    if (crash) return this.crash(conn, job.id);
    const fails = spec.failure !== undefined && this.random.uniform() < spec.failure.probability;
    const id = job.id;
    if (!fails) {
      this.ack(conn.delete(id), (deleted) => (deleted ? tracker.completed(this.index, id, startUs, clock.nowUs()) : tracker.late(this.index, id)));
      return;
    }
    const failure = spec.failure!;
    const retries = tracker.retriesOf(id);
    if (failure.policy === 'retry' && retries < failure.maxRetries) {
      const delaySeconds = backoffSeconds(retries, failure.backoffSeconds, failure.backoffFactor, failure.maxBackoffSeconds);
      this.ack(conn.release(id, fields!.pri, delaySeconds), (released) =>
        released ? tracker.released(this.index, id, startUs, clock.nowUs()) : tracker.late(this.index, id),
      );
    } else {
      this.ack(conn.bury(id, fields!.pri), (buried) => (buried ? tracker.buried(this.index, id, startUs, clock.nowUs()) : tracker.late(this.index, id)));
    }
  }

  /** Works for workUs, touching the job every touchEverySeconds so a long job keeps its reservation. */
  private async serve(conn: QueueConnection, id: number, workUs: number): Promise<void> {
    const touchSeconds = this.pool.spec.touchEverySeconds;
    const touches = touchSeconds === undefined ? undefined : setInterval(() => this.ack(conn.touch(id), () => undefined), touchSeconds * 1000);
    try {
      await this.sleepUs(workUs);
    } finally {
      if (touches) clearInterval(touches);
    }
  }

  private async crash(conn: QueueConnection, id: number): Promise<void> {
    const crash = this.pool.spec.crash!;
    const disconnect = crash.mode === 'disconnect';
    this.ctx.tracker.abandoned(this.index, id, disconnect);
    if (disconnect) await conn.close();
    else this.hung.push(conn);
    this.conn = undefined;
    await this.sleepUs(crash.restartSeconds * 1e6);
    if (!this.stopping) await this.connect();
  }

  private ack<T>(request: Promise<T>, onReply: (reply: T) => void): void {
    const settled = request.then(onReply, (error: unknown) => {
      if (!this.stopping) this.ctx.fail(error);
    });
    this.acks.add(settled);
    void settled.finally(() => this.acks.delete(settled));
  }

  /** Sleeps, but wakes at once when the worker is stopped. */
  private sleepUs(durationUs: number): Promise<void> {
    if (durationUs <= 0 || this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.round(durationUs / 1000));
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}

export class Workers {
  private constructor(private readonly workers: Worker[]) {}

  static async connect(ctx: WorkerContext): Promise<Workers> {
    const workers: Worker[] = [];
    for (const spec of ctx.plan.scenario.workers) {
      const fallback = createServiceTime(spec.service);
      const pool: PoolRuntime = {
        spec,
        serviceByTube: ctx.plan.tubes.map((tube) => {
          const byTube = spec.serviceByTube?.[tube];
          return byTube ? createServiceTime(byTube) : fallback;
        }),
      };
      for (let i = 0; i < spec.count; i++) {
        const index = workers.length;
        workers.push(new Worker(index, pool, ctx, streamRandom(ctx.seed, 2000 + index)));
      }
    }
    await Promise.all(workers.map((w) => w.connect()));
    return new Workers(workers);
  }

  get count(): number {
    return this.workers.length;
  }

  start(): void {
    for (const worker of this.workers) worker.start();
  }

  /** Stops every worker: answers to delete/release/bury are awaited, then the connections close. */
  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop()));
  }
}
