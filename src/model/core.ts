// The model's state and the primitive moves beanstalkd makes on it (prot.c's enqueue_job,
// process_queue, reserve_job, wait/remove_waiting_conn, conn_timeout, connclose, tube GC).
// Commands (commands.ts) are sequences of these moves. Outputs accumulate in `out`.
//
// Matching ready jobs to waiters is incremental instead of prot.c's scan of every tube: after
// every move no tube is "eligible" (unpaused, with both waiters and ready jobs). A move can only
// make the tube it touched eligible (a job became ready there, it was unpaused) or the tubes of
// the one connection that started waiting, so only those are examined. The result is the same
// as the global scan: the smallest (pri, id) among eligible tubes, to a waiter of that tube.
import type { CounterName, Profile, Reply } from '../protocol/types.js';
import { URGENT_PRIORITY_LIMIT } from '../protocol/types.js';
import type { BodyPacking, ConnId, Output, ServerInfo, WaiterPicker } from './api.js';
import { BURIED, Conn, DELAYED, InFlightPut, Job, READY, RESERVED, Tube, ZERO_US, type StoredBody } from './entities.js';
import { ConnTimerHeap, DelayTubeHeap, PausedTubeHeap } from './heap.js';
import { JobIndex } from './job-index.js';
import { US_PER_SECOND } from '../units.js';

export { US_PER_SECOND };
/** beanstalkd's SAFETY_MARGIN: the last second before a reservation's deadline. */
export const SAFETY_MARGIN_US = US_PER_SECOND;
export const DEFAULT_TUBE = 'default';

/** Every cmd-* counter, in the order `stats` prints them. */
export const COUNTER_NAMES: readonly CounterName[] = [
  'put', 'peek', 'peek-ready', 'peek-delayed', 'peek-buried', 'reserve', 'reserve-with-timeout',
  'delete', 'release', 'use', 'watch', 'ignore', 'bury', 'kick', 'touch', 'stats', 'stats-job',
  'stats-tube', 'list-tubes', 'list-tube-used', 'list-tubes-watched', 'pause-tube',
];

export const TIMED_OUT: Reply = Object.freeze({ kind: 'TIMED_OUT' });
export const DEADLINE_SOON: Reply = Object.freeze({ kind: 'DEADLINE_SOON' });

function jobOrderLess(a: Job, b: Job): boolean {
  return a.pri < b.pri || (a.pri === b.pri && a.id < b.id);
}

export interface CoreOptions {
  profile: Profile;
  maxJobSize: number;
  info: ServerInfo;
  pickWaiter?: WaiterPicker;
  bodyPacking?: BodyPacking;
}

export class ModelCore {
  readonly profile: Profile;
  readonly maxJobSize: number;
  readonly info: ServerInfo;
  private readonly customPicker: WaiterPicker | undefined;
  private readonly bodyPacking: BodyPacking | undefined;

  /**
   * The model's clock in µs since the model's start (the caller's startUs), so times stay exact
   * doubles far from 2^53 even under a wall-clock base. Never goes backwards; timed events run
   * at their own instants.
   */
  clockUs = ZERO_US;
  nextJobId = 1;
  nextConnId = 1;
  private nextTubeSeq = 0;

  readonly jobs = new JobIndex();
  /** Puts whose body is still arriving, by their already allocated id (at most one per conn). */
  readonly inFlight = new Map<number, InFlightPut>();
  readonly tubesByName = new Map<string, Tube>();
  /** The server's tube list: creation order, swap-with-last on removal (b.6). */
  readonly tubeList: Tube[] = [];
  readonly defaultTube: Tube;
  readonly conns = new Map<ConnId, Conn>();

  readonly delayTubes = new DelayTubeHeap();
  readonly pausedTubes = new PausedTubeHeap();
  readonly connTimers = new ConnTimerHeap();

  readonly cmd = Object.fromEntries(COUNTER_NAMES.map((n) => [n, 0])) as Record<CounterName, number>;
  readyCount = 0;
  urgentCount = 0;
  reservedCount = 0;
  delayedCount = 0;
  buriedCount = 0;
  waitingCount = 0;
  jobTimeouts = 0;
  totalJobs = 0;
  totalConnections = 0;
  producers = 0;
  workers = 0;
  draining = false;

  /** Outputs of the call in progress. */
  out: Output[] = [];

  constructor(options: CoreOptions) {
    this.profile = options.profile;
    this.maxJobSize = options.maxJobSize;
    this.info = options.info;
    this.customPicker = options.pickWaiter;
    this.bodyPacking = options.bodyPacking;
    this.defaultTube = this.findOrMakeTube(DEFAULT_TUBE);
  }

  /** What to keep of a put's body. */
  storeBody(body: Uint8Array): StoredBody {
    return this.bodyPacking === undefined ? body : this.bodyPacking.pack(body);
  }

  /** The job's body as bytes, for a reply. */
  bodyBytes(job: Job): Uint8Array {
    const { body } = job;
    return typeof body === 'string' ? (this.bodyPacking as BodyPacking).unpack(body) : body;
  }

  reply(conn: Conn, reply: Reply): void {
    this.out.push({ conn: conn.id, reply });
  }

  // ---- tubes (b.6) ----

  findOrMakeTube(name: string): Tube {
    let tube = this.tubesByName.get(name);
    if (tube === undefined) {
      tube = new Tube(name, this.nextTubeSeq++);
      tube.listIndex = this.tubeList.length;
      this.tubeList.push(tube);
      this.tubesByName.set(name, tube);
    }
    return tube;
  }

  /** Deletes the tube at once when nothing refers to it any more; its pause and counters go with it. */
  maybeDropTube(tube: Tube): void {
    if (tube === this.defaultTube || tube.jobs > 0 || tube.using > 0 || tube.watching > 0) return;
    this.tubesByName.delete(tube.name);
    const last = this.tubeList.pop() as Tube;
    if (last !== tube) {
      this.tubeList[tube.listIndex] = last;
      last.listIndex = tube.listIndex;
    }
    tube.listIndex = -1;
    this.pausedTubes.remove(tube);
  }

  // ---- puts in flight (a.1 step 5) ----

  /** The put line was accepted: the id is taken and the job exists, `invalid`, until its body ends. */
  beginInFlight(conn: Conn, pri: number, delaySeconds: number, ttrSeconds: number, body: Uint8Array, trailer: Uint8Array): void {
    if (conn.inFlight !== null) throw new Error(`conn ${conn.id} began a put while job ${conn.inFlight.id} is in flight`);
    const put = new InFlightPut(
      this.nextJobId++,
      conn,
      conn.use,
      pri,
      delaySeconds,
      ttrSeconds === 0 ? 1 : ttrSeconds,
      this.clockUs,
      body,
      trailer,
    );
    this.inFlight.set(put.id, put);
    conn.inFlight = put;
    put.tube.jobs++; // make_job's TUBE_ASSIGN: the in-flight job holds its tube
  }

  /** The in-flight job goes away: completed (the caller makes the real job), discarded, or its conn closed. */
  endInFlight(put: InFlightPut): void {
    this.inFlight.delete(put.id);
    put.conn.inFlight = null;
    put.tube.jobs--;
    this.maybeDropTube(put.tube);
  }

  // ---- job placement ----

  addReady(job: Job): void {
    job.state = READY;
    job.tube.ready.push(job);
    this.readyCount++;
    if (job.pri < URGENT_PRIORITY_LIMIT) {
      this.urgentCount++;
      job.tube.urgent++;
    }
  }

  /** Counts a job that has just left its tube's ready heap. */
  private leftReady(job: Job): void {
    this.readyCount--;
    if (job.pri < URGENT_PRIORITY_LIMIT) {
      this.urgentCount--;
      job.tube.urgent--;
    }
  }

  removeReady(job: Job): void {
    job.tube.ready.remove(job);
    this.leftReady(job);
  }

  addDelayed(job: Job, delaySeconds: number): void {
    this.addDelayedUntil(job, this.clockUs + delaySeconds * US_PER_SECOND);
  }

  /** DELAYED until an absolute model time (a restored job keeps its original ready time). */
  addDelayedUntil(job: Job, readyAtUs: number): void {
    job.state = DELAYED;
    job.deadlineUs = readyAtUs;
    job.tube.delayed.push(job);
    this.delayedCount++;
    this.syncDelayTube(job.tube);
  }

  removeDelayed(job: Job): void {
    job.tube.delayed.remove(job);
    this.delayedCount--;
    this.syncDelayTube(job.tube);
  }

  addBuried(job: Job): void {
    job.state = BURIED;
    job.tube.buried.append(job);
    this.buriedCount++;
  }

  removeBuried(job: Job): void {
    job.tube.buried.unlink(job);
    this.buriedCount--;
  }

  /** Takes the job out of whatever structure holds it (the caller decides where it goes next). */
  detach(job: Job): void {
    switch (job.state) {
      case READY:
        return this.removeReady(job);
      case DELAYED:
        return this.removeDelayed(job);
      case BURIED:
        return this.removeBuried(job);
      case RESERVED:
        return this.unreserve(job);
    }
  }

  /** enqueue_job: READY (and maybe straight to a waiter) or DELAYED. */
  enqueue(job: Job, delaySeconds: number): void {
    if (delaySeconds > 0) this.addDelayed(job, delaySeconds);
    else this.makeReady(job);
  }

  makeReady(job: Job): void {
    this.addReady(job);
    this.processTube(job.tube);
  }

  // ---- reservations ----

  reserve(conn: Conn, job: Job, candidates?: readonly ConnId[]): void {
    job.state = RESERVED;
    const away = job.awayFields();
    away.owner = conn;
    away.deadlineUs = this.clockUs + job.ttrSeconds * US_PER_SECOND;
    job.reserves++;
    this.reservedCount++;
    job.tube.reserved++;
    conn.reservedByDeadline.push(job);
    conn.reservedInOrder.append(job);
    this.syncConnTimer(conn);
    const reply: Reply = { kind: 'RESERVED', id: job.id, body: this.bodyBytes(job) };
    this.out.push(candidates ? { conn: conn.id, reply, candidates } : { conn: conn.id, reply });
  }

  unreserve(job: Job): void {
    const owner = job.owner as Conn;
    owner.reservedByDeadline.remove(job);
    owner.reservedInOrder.unlink(job);
    this.reservedCount--;
    job.tube.reserved--;
    job.owner = null;
    this.syncConnTimer(owner);
  }

  /** A reservation inside its last second (conndeadlinesoon). */
  deadlineSoon(conn: Conn): boolean {
    const soonest = conn.reservedByDeadline.peek();
    return soonest !== undefined && this.clockUs >= soonest.deadlineUs - SAFETY_MARGIN_US;
  }

  /** conn_ready: some watched tube has a ready job, paused or not. */
  watchesReadyJob(conn: Conn): boolean {
    for (const tube of conn.watch) if (tube.ready.size > 0) return true;
    return false;
  }

  // ---- waiting connections ----

  startWaiting(conn: Conn, timeoutAtUs: number): void {
    conn.waiting = true;
    conn.timeoutAtUs = timeoutAtUs;
    this.waitingCount++;
    const watch = conn.watch;
    for (let i = 0; i < watch.length; i++) {
      conn.waitPos[i] = watch[i].waiting.length;
      watch[i].waiting.push(conn);
    }
    this.syncConnTimer(conn);
  }

  /** remove_waiting_conn: out of every watched tube's waiting set, by swap-with-last. */
  stopWaiting(conn: Conn): void {
    if (!conn.waiting) return;
    conn.waiting = false;
    conn.timeoutAtUs = -1;
    this.waitingCount--;
    const watch = conn.watch;
    for (let i = 0; i < watch.length; i++) {
      const set = watch[i].waiting;
      const pos = conn.waitPos[i];
      if (set[pos] !== conn) throw new Error(`conn ${conn.id} lost its place in ${watch[i].name}'s waiting set`);
      const last = set.pop() as Conn;
      if (last !== conn) {
        set[pos] = last;
        last.waitPos[last.watch.indexOf(watch[i])] = pos;
      }
    }
    this.syncConnTimer(conn);
  }

  /**
   * Matches ready jobs to waiters among the given tubes: repeatedly the smallest (pri, id)
   * among unpaused tubes that have both (prot.c process_queue over these tubes).
   */
  processTubes(tubes: readonly Tube[]): void {
    for (;;) {
      let best: Job | undefined;
      for (const tube of tubes) {
        if (tube.paused || tube.waiting.length === 0) continue;
        const top = tube.ready.peek();
        if (top !== undefined && (best === undefined || jobOrderLess(top, best))) best = top;
      }
      if (best === undefined) return;
      this.serveOne(best.tube);
    }
  }

  processTube(tube: Tube): void {
    while (!tube.paused && tube.waiting.length > 0 && tube.ready.size > 0) this.serveOne(tube);
  }

  private serveOne(tube: Tube): void {
    const job = tube.ready.pop() as Job;
    this.leftReady(job);
    const set = tube.waiting;
    const candidates = set.length > 1 ? set.map((c) => c.id) : undefined;
    let index: number;
    if (this.customPicker && candidates) {
      index = this.customPicker(candidates, tube.name);
      if (!Number.isInteger(index) || index < 0 || index >= set.length) {
        throw new Error(`pickWaiter returned ${index} for ${set.length} candidates`);
      }
    } else {
      // ms_take: a rotating index; the taken slot is refilled by the last element.
      tube.waitLast %= set.length;
      index = tube.waitLast++;
    }
    const conn = set[index];
    this.stopWaiting(conn);
    this.reserve(conn, job, candidates);
  }

  // ---- time ----

  /** When the connection's timer must fire (conntickat): margin or TTR, and the reserve timeout. */
  private connTickAt(conn: Conn): number {
    let at = Infinity;
    const soonest = conn.reservedByDeadline.peek();
    if (soonest !== undefined) at = soonest.deadlineUs - (conn.waiting ? SAFETY_MARGIN_US : 0);
    if (conn.waiting && conn.timeoutAtUs >= 0 && conn.timeoutAtUs < at) at = conn.timeoutAtUs;
    return at;
  }

  syncConnTimer(conn: Conn): void {
    const at = this.connTickAt(conn);
    if (at === conn.tickAtUs) return;
    conn.tickAtUs = at;
    if (at === Infinity) this.connTimers.remove(conn);
    else this.connTimers.upsert(conn);
  }

  syncDelayTube(tube: Tube): void {
    if (tube.delayed.size > 0) this.delayTubes.upsert(tube);
    else this.delayTubes.remove(tube);
  }

  pause(tube: Tube, delaySeconds: number): void {
    tube.pauseUs = delaySeconds * US_PER_SECOND;
    tube.unpauseAtUs = this.clockUs + tube.pauseUs;
    this.pausedTubes.upsert(tube);
  }

  /** The earliest instant at which a timed event is due; Infinity if none. */
  nextEventUs(): number {
    const delayTube = this.delayTubes.peek();
    const pausedTube = this.pausedTubes.peek();
    const conn = this.connTimers.peek();
    return Math.min(
      delayTube ? (delayTube.delayed.peek() as Job).deadlineUs : Infinity,
      pausedTube ? pausedTube.unpauseAtUs : Infinity,
      conn ? conn.tickAtUs : Infinity,
    );
  }

  /**
   * Runs every timed event due at or before targetUs, each at its own instant and in time
   * order; at equal instants delays first, then unpauses, then connections (prottick's order).
   */
  runDue(targetUs: number): void {
    for (;;) {
      const delayTube = this.delayTubes.peek();
      const pausedTube = this.pausedTubes.peek();
      const conn = this.connTimers.peek();
      const delayAt = delayTube ? (delayTube.delayed.peek() as Job).deadlineUs : Infinity;
      const pauseAt = pausedTube ? pausedTube.unpauseAtUs : Infinity;
      const connAt = conn ? conn.tickAtUs : Infinity;
      const at = Math.min(delayAt, pauseAt, connAt);
      if (at > targetUs) break;
      // A safety margin that began in the past fires now, not back then.
      if (at > this.clockUs) this.clockUs = at;
      if (delayAt === at) this.expireDelay(delayTube as Tube);
      else if (pauseAt === at) this.expirePauses();
      else this.connTimeout(conn as Conn);
    }
    if (targetUs > this.clockUs) this.clockUs = targetUs;
  }

  private expireDelay(tube: Tube): void {
    const job = tube.delayed.pop() as Job;
    this.delayedCount--;
    this.syncDelayTube(tube);
    this.makeReady(job);
  }

  /** Every pause ending now ends together, then the freed tubes are served as one scan. */
  private expirePauses(): void {
    const unpaused: Tube[] = [];
    for (;;) {
      const tube = this.pausedTubes.peek();
      if (tube === undefined || tube.unpauseAtUs > this.clockUs) break;
      this.pausedTubes.remove(tube);
      tube.pauseUs = 0;
      unpaused.push(tube);
    }
    this.processTubes(unpaused);
  }

  /** conn_timeout: the safety margin, expired reservations, the reserve timeout. */
  private connTimeout(conn: Conn): void {
    if (conn.waiting && this.deadlineSoon(conn)) {
      this.stopWaiting(conn);
      this.reply(conn, DEADLINE_SOON);
    }
    for (;;) {
      const job = conn.reservedByDeadline.peek();
      if (job === undefined || job.deadlineUs > this.clockUs) break;
      this.unreserve(job);
      job.counters.timeouts++;
      this.jobTimeouts++;
      this.makeReady(job);
    }
    if (conn.waiting && conn.timeoutAtUs >= 0 && conn.timeoutAtUs <= this.clockUs) {
      this.stopWaiting(conn);
      this.reply(conn, TIMED_OUT);
    }
    this.syncConnTimer(conn);
  }

  // ---- connections ----

  openConn(): Conn {
    const conn = new Conn(this.nextConnId++, this.defaultTube);
    this.defaultTube.using++;
    this.defaultTube.watching++;
    this.conns.set(conn.id, conn);
    this.totalConnections++;
    return conn;
  }

  /** connclose: stop waiting, reserved jobs back to READY in reservation order, drop tube refs. */
  closeConn(conn: Conn): void {
    if (conn.inFlight !== null) this.endInFlight(conn.inFlight);
    if (conn.producer) this.producers--;
    if (conn.worker) this.workers--;
    this.stopWaiting(conn);
    for (let job = conn.reservedInOrder.head; job !== null; job = conn.reservedInOrder.head) {
      this.unreserve(job);
      this.makeReady(job);
    }
    // ms_clear deletes index 0 until empty, each time moving the last tube into slot 0.
    const watch = conn.watch;
    while (watch.length > 0) {
      const tube = watch[0];
      const last = watch.pop() as Tube;
      if (watch.length > 0) watch[0] = last;
      tube.watching--;
      this.maybeDropTube(tube);
    }
    conn.use.using--;
    this.maybeDropTube(conn.use);
    this.connTimers.remove(conn);
    this.conns.delete(conn.id);
  }

  setWorker(conn: Conn): void {
    if (conn.worker) return;
    conn.worker = true;
    this.workers++;
  }

  setProducer(conn: Conn): void {
    if (conn.producer) return;
    conn.producer = true;
    this.producers++;
  }
}
