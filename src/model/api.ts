// The reference model's public contract. The model is pure: no I/O, no clock, no randomness.
// Time is always an argument, in integer microseconds on one monotonic axis chosen by the
// caller (virtual time in the simulator, the real clock in the embedded server).
import type { JobId, Profile, Reply, Request } from '../protocol/types.js';

export type ConnId = number;

/** Per-process values a real server reports in `stats`; the embedded server passes real ones. */
export interface ServerInfo {
  pid: number;
  /** 16 lower-case hex digits in beanstalkd. */
  instanceId: string;
  hostname: string;
  os: string;
  platform: string;
  /** CPU use, for rusage-utime / rusage-stime; the model itself reports zeros when absent. */
  rusage?: () => { userUs: number; systemUs: number };
}

/**
 * Picks which waiting connection receives a job. `candidates` are the connections waiting on
 * the job's tube, in the order of that tube's waiting set. Return an index into it.
 * The default follows beanstalkd's `ms_take` (rotating index, swap-with-last removal), so the
 * embedded server hands jobs out exactly as beanstalkd does; the simulator may pass a seeded pick.
 */
export type WaiterPicker = (candidates: readonly ConnId[], tube: string) => number;

/**
 * How the model keeps job bodies. Without one it keeps the Uint8Array each put hands it (the
 * simulator shares one per size, so that costs nothing). A Uint8Array is an object of about
 * 100 bytes besides its bytes, more than a typical body; the embedded server packs small
 * bodies into one-byte strings instead (16 bytes of header, no backing store), which the model
 * unpacks for the replies that carry a body.
 */
export interface BodyPacking {
  /** What to keep for `body`: the array itself, or a string of exactly body.length chars. */
  pack(body: Uint8Array): Uint8Array | string;
  /** The bytes of a body pack() returned as a string. */
  unpack(packed: string): Uint8Array;
}

export interface ModelOptions {
  profile?: Profile; // default '1.12'
  maxJobSize?: number; // default 65535
  /** The model's time zero, for `uptime` and job `age`. */
  startUs?: number;
  info?: Partial<ServerInfo>;
  pickWaiter?: WaiterPicker;
  bodyPacking?: BodyPacking;
}

export type Output =
  /**
   * A reply to send on `conn`. For a RESERVED handed to one of several waiting connections,
   * `candidates` lists every connection that could have received it (beanstalkd is free to
   * choose among them, docs/semantics.md h.2); checkers accept any of them.
   */
  | { conn: ConnId; reply: Reply; candidates?: readonly ConnId[] }
  /** The server closes this connection (after `quit`). */
  | { conn: ConnId; close: true };

export type JobState = 'ready' | 'reserved' | 'delayed' | 'buried';

/** A read-only view of one job, for tests, the simulator and invariant checks. */
export interface JobView {
  id: JobId;
  tube: string;
  state: JobState;
  pri: number;
  delaySeconds: number;
  ttrSeconds: number;
  createdUs: number;
  /** READY/BURIED: 0. DELAYED: ready time. RESERVED: TTR deadline. */
  deadlineUs: number;
  reservedBy?: ConnId;
  bodyBytes: number;
  reserves: number;
  timeouts: number;
  releases: number;
  buries: number;
  kicks: number;
}

/** Per-job counters shown by stats-job, carried over when a job is restored. */
export interface JobCounterValues {
  reserves: number;
  timeouts: number;
  releases: number;
  buries: number;
  kicks: number;
}

/**
 * A job brought back from outside the model (a binlog replayed at start). Times are on the
 * caller's axis, like nowUs: the caller converts whatever clock it persisted.
 */
export interface RestoredJob {
  id: JobId;
  tube: string;
  pri: number;
  delaySeconds: number;
  ttrSeconds: number;
  /** A reservation is never restored: beanstalkd does not persist one (semantics b.7). */
  state: 'ready' | 'delayed' | 'buried';
  /** DELAYED: when it becomes ready; a time already passed makes it ready at once. */
  readyAtUs: number;
  createdUs: number;
  body: Uint8Array;
  counters: JobCounterValues;
}

export interface ReferenceModel {
  readonly profile: Profile;
  readonly maxJobSize: number;
  /** Opens a connection: it uses and watches `default`. */
  connect(nowUs: number): ConnId;
  /**
   * Applies one parsed request from `conn`. Due timed events up to nowUs run first and their
   * outputs come first. The caller must not apply requests for a connection that is waiting
   * in reserve (beanstalkd does not read them until the reserve completes, a.0/9).
   */
  apply(conn: ConnId, request: Request, nowUs: number): Output[];
  /** Runs every timed transition due at or before nowUs: delays, TTRs, DEADLINE_SOON, timeouts, unpauses. */
  tick(nowUs: number): Output[];
  /** The earliest time (µs) at which tick would change anything; undefined if never. */
  nextDeadline(): number | undefined;
  /** The client half-closed (FIN): a waiting reserve answers TIMED_OUT (a.3). */
  hangup(conn: ConnId, nowUs: number): Output[];
  /** The connection is gone: its reserved jobs return to READY, which may serve other waiters. */
  disconnect(conn: ConnId, nowUs: number): Output[];
  /** True while `conn` is blocked in reserve / reserve-with-timeout. */
  isWaiting(conn: ConnId): boolean;
  /** SIGUSR1: every later put answers DRAINING. */
  enterDrainMode(): void;
  /** Throws an Error describing the first broken invariant. */
  checkInvariants(): void;
  /**
   * A queued job. A put in flight (put-begin, its body still arriving) is not one: it has an id
   * and shows as `invalid` to peek and stats-job, but job() gives undefined and jobCount() omits it.
   */
  job(id: JobId): JobView | undefined;
  jobCount(): number;
}

/**
 * The model createModel makes: the contract above plus what a binlog's replay needs. Kept apart
 * so the other ReferenceModel implementations (fault wrappers, test doubles) stay as they are.
 */
export interface RestorableModel extends ReferenceModel {
  /**
   * Places a job that existed before this model did (binlog replay), as put, bury or a delayed
   * release would have left it: its tube is created if needed, later puts get larger ids, and
   * it does not count in total-jobs (a restart resets the counters). Throws if the id is in use.
   * Returns the outputs of due events and of a waiter that takes the job at once.
   */
  restoreJob(job: RestoredJob, nowUs: number): Output[];
  /** Ids up to and including `lastId` were handed out before (a binlog's deleted jobs): later puts get larger ones. */
  skipIdsThrough(lastId: JobId): void;
}
