// The model's mutable records. Plain classes with every field set in the constructor so V8
// gives each a single stable shape (fast property access, no dictionary mode).
import type { ConnId } from './api.js';

/** A job's body as the model keeps it (see BodyPacking): its length is the body's size either way. */
export type StoredBody = Uint8Array | string;
import { JobHeap } from './heap.js';

export const READY = 0;
export const RESERVED = 1;
export const DELAYED = 2;
export const BURIED = 3;
export type JobStateCode = typeof READY | typeof RESERVED | typeof DELAYED | typeof BURIED;
export const STATE_NAMES = ['ready', 'reserved', 'delayed', 'buried'] as const;

/**
 * Zero, for fields holding microsecond times. Times pass 2^31 µs (36 minutes of model time) and
 * leave V8's small-integer range; a field that started as a small integer is then converted to
 * a double, which discards the optimised code of every function that touched it, in the middle
 * of a run. -0 equals 0 in every comparison and sum (and prints as 0), but it is a double, so
 * the field is one from the start.
 */
export const ZERO_US = -0;

export class Job {
  state: JobStateCode = READY;
  /** Position in whichever heap holds the job (tube ready/delay heap, or its owner's reservations). */
  heapIndex = -1;
  /**
   * What only a job that has left READY needs, allocated the first time it does: its deadline,
   * owner, list links, delay and the stats-job counters but reserves (each counts something
   * that happens to a job out of READY, or kicks it back). A held READY job, the common case and
   * the most numerous, is 56 bytes smaller without them.
   */
  private away: JobAway | null = null;
  reserves = 0;

  constructor(
    readonly id: number,
    readonly tube: Tube,
    public pri: number,
    delaySeconds: number,
    readonly ttrSeconds: number,
    /** Model time (µs since the model's start), like every time inside the core. */
    readonly createdUs: number,
    readonly body: StoredBody,
  ) {
    if (delaySeconds !== 0) this.awayFields().delaySeconds = delaySeconds;
  }

  /** The job is deleted: its JobAway goes back to the spares (put, reserve, delete then allocates none). */
  retire(): void {
    const away = this.away;
    if (away === null) return;
    this.away = null;
    if (spareAways.length < MAX_SPARE_AWAYS) {
      away.deadlineUs = ZERO_US;
      away.owner = null;
      away.prev = away.next = null;
      away.delaySeconds = away.timeouts = away.releases = away.buries = away.kicks = 0;
      spareAways.push(away);
    }
  }

  /** The counters but reserves, to count with (`job.counters.kicks++`). */
  get counters(): JobCounters {
    return this.awayFields();
  }

  /** The job's JobAway, allocated (or taken from the spares) on first use. */
  awayFields(): JobAway {
    return this.away ?? (this.away = takeAway());
  }



  /** DELAYED: ready time. RESERVED: TTR deadline. Otherwise stale (reported as 0). */
  get deadlineUs(): number {
    return this.away === null ? ZERO_US : this.away.deadlineUs;
  }

  set deadlineUs(us: number) {
    (this.away ??= takeAway()).deadlineUs = us;
  }

  get owner(): Conn | null {
    return this.away === null ? null : this.away.owner;
  }

  set owner(conn: Conn | null) {
    if (conn !== null || this.away !== null) (this.away ??= takeAway()).owner = conn;
  }

  /**
   * Neighbours in a FIFO list: the tube's buried list while BURIED, the owner's reservations
   * (in reservation order, which is the order beanstalkd returns them on close) while RESERVED.
   */
  get prev(): Job | null {
    return this.away === null ? null : this.away.prev;
  }

  set prev(job: Job | null) {
    if (job !== null || this.away !== null) (this.away ??= takeAway()).prev = job;
  }

  get next(): Job | null {
    return this.away === null ? null : this.away.next;
  }

  set next(job: Job | null) {
    if (job !== null || this.away !== null) (this.away ??= takeAway()).next = job;
  }

  /** A job with a delay has been DELAYED, so only jobs out of READY keep one other than 0. */
  get delaySeconds(): number {
    return this.away === null ? 0 : this.away.delaySeconds;
  }

  set delaySeconds(seconds: number) {
    if (seconds !== 0 || this.away !== null) this.awayFields().delaySeconds = seconds;
  }

  get timeouts(): number {
    return this.away === null ? 0 : this.away.timeouts;
  }

  get releases(): number {
    return this.away === null ? 0 : this.away.releases;
  }

  get buries(): number {
    return this.away === null ? 0 : this.away.buries;
  }

  get kicks(): number {
    return this.away === null ? 0 : this.away.kicks;
  }
}

/**
 * A put whose line was accepted while its body is still arriving (put-begin, semantics a.1 step
 * 5): it holds a job id and a reference to its tube, and shows as `state: invalid` to peek and
 * stats-job, but it is in no queue and no current-jobs count. Not a Job, so the Job shape and
 * every command that needs a real job stay as they are.
 */
export class InFlightPut {
  constructor(
    readonly id: number,
    readonly conn: Conn,
    readonly tube: Tube,
    readonly pri: number,
    readonly delaySeconds: number,
    /** After the 0 → 1 rule, as stats-job shows it. */
    readonly ttrSeconds: number,
    /** Model time of the put line: the finished job's age counts from here. */
    readonly createdUs: number,
    /** The parser's live buffers (put-begin): bytes not yet received are 0. */
    readonly body: Uint8Array,
    readonly trailer: Uint8Array,
  ) {}
}

export interface JobCounters {
  timeouts: number;
  releases: number;
  buries: number;
  kicks: number;
}

/** The fields of a Job that only matter once it has left READY (see Job.away). */
export class JobAway implements JobCounters {
  deadlineUs = ZERO_US;
  owner: Conn | null = null;
  prev: Job | null = null;
  next: Job | null = null;
  delaySeconds = 0;
  timeouts = 0;
  releases = 0;
  buries = 0;
  kicks = 0;
}

/**
 * JobAways of deleted jobs, reused: a reserve would otherwise allocate one per job. Plain data,
 * reset when returned, so sharing them between model instances changes no result.
 */
const spareAways: JobAway[] = [];
const MAX_SPARE_AWAYS = 1024;

function takeAway(): JobAway {
  return spareAways.pop() ?? new JobAway();
}

/** An intrusive doubly linked FIFO of jobs (through Job.prev/next). */
export class JobList {
  head: Job | null = null;
  tail: Job | null = null;
  size = 0;

  append(job: Job): void {
    const links = job.awayFields();
    links.prev = this.tail;
    links.next = null;
    if (this.tail) this.tail.awayFields().next = job;
    else this.head = job;
    this.tail = job;
    this.size++;
  }

  unlink(job: Job): void {
    const links = job.awayFields();
    const { prev, next } = links;
    if (prev) prev.awayFields().next = next;
    else this.head = next;
    if (next) next.awayFields().prev = prev;
    else this.tail = prev;
    links.prev = links.next = null;
    this.size--;
  }
}

export class Tube {
  readonly ready = new JobHeap(true);
  readonly delayed = new JobHeap(false);
  readonly buried = new JobList();
  /** READY jobs with pri < 1024. */
  urgent = 0;
  reserved = 0;
  /** Jobs of this tube in any state: each holds a reference to the tube (b.6). */
  jobs = 0;
  totalJobs = 0;
  cmdDelete = 0;
  cmdPauseTube = 0;
  using = 0;
  watching = 0;
  /** beanstalkd's `t->waiting` multiset, in its order (append; swap-with-last removal). */
  readonly waiting: Conn[] = [];
  /** ms_take's rotating index into `waiting`. */
  waitLast = 0;
  /** The last pause duration while the pause is active, 0 otherwise. */
  pauseUs = 0;
  unpauseAtUs = ZERO_US;
  /** Positions in the model's tube timer heaps (-1: absent). */
  pausePos = -1;
  delayPos = -1;
  /** Position in the server's tube list (creation order, swap-with-last on removal). */
  listIndex = -1;

  constructor(
    readonly name: string,
    /** Creation sequence number: breaks ties between tubes deterministically. */
    readonly seq: number,
  ) {}

  get paused(): boolean {
    return this.pausePos >= 0;
  }
}

export class Conn {
  use: Tube;
  /** beanstalkd's `c->watch` multiset, in its order. */
  readonly watch: Tube[];
  /** waitPos[i] = this connection's index in watch[i].waiting while waiting. */
  readonly waitPos: number[] = [];
  waiting = false;
  /** Absolute reserve-with-timeout expiry while waiting; -1 = none (plain reserve or forever). */
  timeoutAtUs = -1;
  /** Reserved jobs by (deadline, id): the soonest drives TTR expiry and DEADLINE_SOON. */
  readonly reservedByDeadline = new JobHeap(false);
  /** The same jobs in reservation order. */
  readonly reservedInOrder = new JobList();
  producer = false;
  worker = false;
  /** The put whose body this connection is sending, between put-begin and its completion. */
  inFlight: InFlightPut | null = null;
  /** A put-too-big-begin counted cmd-put; the put-too-big that ends the discard must not again. */
  tooBigPutCounted = false;
  /** When this connection's timer fires (TTR, safety margin, timeout); Infinity = never. */
  tickAtUs = Infinity;
  timerPos = -1;

  constructor(
    readonly id: ConnId,
    defaultTube: Tube,
  ) {
    this.use = defaultTube;
    this.watch = [defaultTube];
    this.waitPos.push(-1);
  }
}
