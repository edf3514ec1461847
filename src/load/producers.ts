// Producers over real connections, putting what their workload streams decide (src/workload:
// when each put is due, its priority, delay and body size; a shard its slice of each stream).
// Open loop: puts go out at their decisions' intended times and
// each is timed from the moment it was MEANT to be sent, so a server stall shows up as latency
// of every put that should have gone out during it (no coordinated omission). The scheduler
// sleeps on a timer until the next put is due and then sends every put due by then: it never
// spins (a spinning scheduler kept a core busy at 1,000 puts/s). A timer has millisecond
// granularity, so waking exactly on time is not possible without spinning; the scheduler wakes
// up to EARLY_SEND_US before a put is due and sends it then, and an early put is timed from
// when it went out (the server cannot answer before it has it). Waking for puts already due
// sent 0.9 ms late at the median, which a put timed from its intended time counted as server
// latency. A put that goes out late (a busy loop) is still timed from its intended time, and
// how late is measured (harness sendLagUs). Closed loop:
// each connection keeps `pipeline` puts outstanding and sends the next as soon as one is
// answered, for maximum throughput; those are timed from when they were sent. Every put still
// unanswered at the end of the run is counted and recorded at its age (outstanding.ts).
import { delaySecondsAt, producerStream, type ProducerStream, type PutDecision, type WorkloadObserver } from '../workload/index.js';
import type { RunBodies } from './body.js';
import type { RunClock } from './clock.js';
import type { Driver, QueueConnection } from './driver.js';
import type { HarnessMonitor } from './harness.js';
import { noAnswer, type OutstandingOps } from './outstanding.js';
import type { LoadPlan, ProducerPlan } from './plan.js';
import type { JobTracker } from './tracker.js';
import type { Address } from '../target/address.js';

/** Open loop: at most this many puts are issued in one scheduler turn, so replies get read in between. */
const MAX_PUTS_PER_TURN = 2000;
/** Open loop: a put due within this much of the scheduler's wake-up goes out with it (a timer's granularity). */
const EARLY_SEND_US = 1000;

export interface ProducerContext {
  plan: LoadPlan;
  clock: RunClock;
  tracker: JobTracker;
  /** The run's seed: the workload's streams (a shard's too: it takes its slices of the run's). */
  seed: number;
  /** Sees every workload decision this run takes (tests). */
  observer?: WorkloadObserver;
  /** This run's job bodies: its token and its clock (body.ts). */
  bodies: RunBodies;
  /** Puts sent and not yet answered. */
  pendingPuts: OutstandingOps;
  requestTimeoutMs: number;
  harness: HarnessMonitor;
  /** Any failure ends the run (a lost connection, an unexpected reply). */
  fail(error: unknown): void;
}

interface RunningProducer {
  plan: ProducerPlan;
  conns: QueueConnection[];
  nextConn: number;
  stream: ProducerStream;
  /** The next put, as its stream decided it; undefined once the stream ended. */
  next: PutDecision | undefined;
  /** The next put's intended send time; Infinity once done. */
  nextUs: number;
  stopUs: number;
  limit: number;
  issued: number;
}

/** The producing side of a run: direct connections (Producers) or the HTTP front end (http.ts). */
export interface ProducerSide {
  readonly connectionCount: number;
  /** When the producers finished putting; undefined while they still are. */
  readonly finishedUs: number | undefined;
  /** Resolves when every producer has reached its bound (or stop() was called). */
  start(): Promise<void>;
  /** Stops putting; resolves once every put already sent is answered. */
  stop(): Promise<void>;
  close(): Promise<void>;
}

export class Producers implements ProducerSide {
  private readonly running: RunningProducer[] = [];
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private issuedTotal = 0;
  private outstanding = 0;
  private settledWaiter: (() => void) | undefined;
  private finishedWaiter: (() => void) | undefined;
  /** When the producers finished putting (the end of the producing phase). */
  finishedUs: number | undefined;

  private constructor(private readonly ctx: ProducerContext) {}

  /** Opens every producer connection (and `use`s its tube); nothing is put until start(). */
  static async connect(ctx: ProducerContext, driver: Driver, address: Address): Promise<Producers> {
    const producers = new Producers(ctx);
    const { plan } = ctx;
    for (const p of plan.producers) {
      const conns = await Promise.all(Array.from({ length: plan.connections }, () => driver.connect(address, ctx.requestTimeoutMs)));
      producers.running.push({
        plan: p,
        conns,
        nextConn: 0,
        // A closed loop puts as fast as the server answers: it takes the decisions' attributes, not their times.
        stream: producerStream(plan.workload, p.index, ctx.seed, { untimed: plan.mode === 'closed', slice: p.slice, observer: ctx.observer }),
        next: undefined,
        nextUs: 0,
        stopUs: Math.min(plan.durationUs, p.spec.stopSeconds === undefined ? Infinity : p.spec.stopSeconds * 1e6),
        limit: p.spec.jobs ?? Infinity,
        issued: 0,
      });
      if (p.tubeName !== 'default') await Promise.all(conns.map((c) => c.use(p.tubeName)));
    }
    return producers;
  }

  get connectionCount(): number {
    return this.running.reduce((sum, p) => sum + p.conns.length, 0);
  }

  start(): Promise<void> {
    const finished = new Promise<void>((resolve) => (this.finishedWaiter = resolve));
    if (this.ctx.plan.mode === 'open') {
      for (const p of this.running) this.advance(p);
      this.schedule();
    } else {
      const nowUs = this.ctx.clock.nowUs();
      for (const p of this.running) for (const conn of p.conns) for (let k = 0; k < this.ctx.plan.pipeline; k++) this.closedLoopPut(p, conn, nowUs);
      this.checkFinished();
    }
    return finished;
  }

  async stop(): Promise<void> {
    this.finish();
    if (this.outstanding > 0) await new Promise<void>((resolve) => (this.settledWaiter = resolve));
  }

  async close(): Promise<void> {
    await Promise.all(this.running.flatMap((p) => p.conns.map((c) => c.close())));
  }

  // ---- open loop -------------------------------------------------------------------------

  /** Moves a producer to its next decision, or marks it done (its stream ended, or the run's job count). */
  private advance(p: RunningProducer): void {
    p.next = p.issued < p.limit ? p.stream.next() : undefined;
    p.nextUs = p.next === undefined ? Infinity : p.next.atUs;
  }

  private schedule(): void {
    this.timer = undefined;
    this.immediate = undefined;
    if (this.stopped) return;
    let budget = MAX_PUTS_PER_TURN;
    const nowUs = this.ctx.clock.nowUs();
    const horizonUs = nowUs + EARLY_SEND_US;
    const sendLagUs = this.ctx.harness.sendLagUs;
    let earliestUs = Infinity;
    for (const p of this.running) {
      while (p.nextUs <= horizonUs && budget > 0 && !this.stopped) {
        // Late: timed from the intended time (no coordinated omission). Early: from now, when it goes out.
        sendLagUs.record(Math.max(0, Math.round(nowUs - p.nextUs)));
        this.put(p, p.next!, Math.min(p.nextUs, nowUs), null);
        budget -= 1;
        this.advance(p);
      }
      if (p.nextUs < earliestUs) earliestUs = p.nextUs;
    }
    if (this.stopped) return;
    if (earliestUs === Infinity) {
      this.finish();
      return;
    }
    // A full budget means puts are already due: go round again after the replies are read.
    if (budget === 0) {
      this.immediate = setImmediate(() => this.schedule());
      return;
    }
    // Waking up to EARLY_SEND_US early is fine: the put goes out then, and is timed from then.
    const waitUs = earliestUs - EARLY_SEND_US - this.ctx.clock.nowUs();
    this.timer = setTimeout(() => this.schedule(), Math.max(0, Math.ceil(waitUs / 1000)));
  }

  // ---- closed loop -----------------------------------------------------------------------

  /** Sends the next put on conn, at nowUs: the moment the previous one's answer was read. */
  private closedLoopPut(p: RunningProducer, conn: QueueConnection, nowUs: number): void {
    if (this.stopped) return;
    const decision = p.issued >= p.limit || nowUs >= p.stopUs ? undefined : p.stream.next();
    if (decision === undefined) {
      p.nextUs = Infinity;
      this.checkFinished();
      return;
    }
    this.put(p, decision, nowUs, conn);
  }

  private checkFinished(): void {
    if (this.running.every((p) => p.nextUs === Infinity)) this.finish();
  }

  // ---- both --------------------------------------------------------------------------------

  /**
   * Sends one put as its decision says, meant to go out at intendedUs (the decision's time, or
   * sooner when the scheduler woke early; a closed loop's send time); in closed loop, answers
   * trigger the next put on that connection.
   */
  private put(p: RunningProducer, decision: PutDecision, intendedUs: number, closedLoopConn: QueueConnection | null): void {
    const { plan, tracker, clock } = this.ctx;
    const ttrSeconds = decision.ttrSeconds;
    const pri = decision.pri;
    // A run-at job's delay depends on when it is sent: the decision's is for its intended time.
    const delaySeconds =
      intendedUs === decision.atUs ? decision.delaySeconds : delaySecondsAt(plan.workload.producers[p.plan.index], decision.baseDelaySeconds, intendedUs);
    const group = decision.group;
    const dueUs = intendedUs + delaySeconds * 1e6;
    const body = this.ctx.bodies.encode(dueUs, group, pri, ttrSeconds, decision.bodyBytes);
    const conn = closedLoopConn ?? p.conns[p.nextConn++ % p.conns.length];
    p.issued += 1;
    this.issuedTotal += 1;
    this.outstanding += 1;
    if (this.issuedTotal >= plan.jobsLimit) for (const other of this.running) other.limit = Math.min(other.limit, other.issued);
    const pending = this.ctx.pendingPuts;
    const seq = pending.begin(intendedUs, group);
    conn.put(body, pri, delaySeconds, ttrSeconds, (error, id) => {
      if (error) {
        // No answer: it stays pending, to be counted unanswered at the end.
        if (!noAnswer(error)) pending.end(seq);
        this.settle();
        if (!this.stopped) this.ctx.fail(error);
        return;
      }
      pending.end(seq);
      // One clock reading: the put's answer time, and the send time of the put that follows it.
      const nowUs = clock.nowUs();
      tracker.putAcked(id!, group, dueUs, ttrSeconds, intendedUs, nowUs);
      this.settle();
      if (closedLoopConn) this.closedLoopPut(p, closedLoopConn, nowUs);
    });
  }

  private settle(): void {
    this.outstanding -= 1;
    if (this.outstanding === 0 && this.settledWaiter) {
      this.settledWaiter();
      this.settledWaiter = undefined;
    }
  }

  private finish(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.finishedUs = this.ctx.clock.nowUs();
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.finishedWaiter?.();
  }
}
