// Everything the load runner knows about the jobs it put, indexed by server job id minus the
// id the server was at when the run began (beanstalkd ids only grow). Typed arrays, grown by
// doubling: a closed-loop run puts hundreds of thousands of jobs a second and must not allocate
// an object per job. Producers, workers and the HTTP front end report here; the latencies go
// into per-group HDR histograms (a group is one tube and priority class, as in the simulator).
import { LatencyHistogram } from '../metrics/histogram.js';
import { newJobGroups, type JobGroup } from '../metrics/result.js';
import { MAX_LISTED_IDS } from '../metrics/load-result.js';
import type { BodyFields } from './body.js';

const ACKED = 1;
const DONE = 2;
const BURIED = 4;
/** Its work ran more than once (TTR expiry, crashed worker), retries aside: jobs.duplicated. */
const DUPLICATED = 8;
/** Its worker died or gave it up without finishing: the next reservation repeats work. */
const ABANDONED = 16;

/**
 * A second reservation this much sooner than the first holder's TTR allows is the server
 * handing out a job that is still reserved. The first reservation is dated from when its
 * reserve was sent (no later than the server's reservation), so timer jitter cannot flag it.
 */
const TTR_TOLERANCE_US = 50_000;

/** The simulator's group, plus the put latency only a real server has. */
export interface GroupStats extends JobGroup {
  putUs: LatencyHistogram;
}

export type ReserveOutcome = 'first' | 'again' | 'foreign';

export class JobTracker {
  readonly groups: GroupStats[] = [];
  /** Totals the sampler turns into per-second series. */
  putCount = 0;
  completedCount = 0;
  /** Jobs acknowledged and neither completed nor buried: what draining waits for. */
  live = 0;
  retries = 0;
  duplicateExecutions = 0;
  lateCompletions = 0;
  crashes = 0;
  kicked = 0;
  foreignJobs = 0;
  duplicateDeliveries = 0;
  readonly duplicatedIds: number[] = [];
  private capacity = 0;
  private flags = new Uint8Array(0);
  private group = new Uint16Array(0);
  private dueUs = new Float64Array(0);
  private ttrUs = new Float64Array(0);
  /** Worker index + 1 holding the job now; 0 when nobody does. */
  private holder = new Int32Array(0);
  private heldSinceUs = new Float64Array(0);
  private executions = new Uint16Array(0);
  /** Releases after a failure so far: the next backoff and when to bury instead. */
  private retryCounts = new Uint16Array(0);
  private highest = -1;

  constructor(
    /** Ids at or below this belong to jobs put before the run. */
    readonly baseId: number,
    tubes: number,
    priorityClasses: number,
    private readonly warmupUs: number,
  ) {
    for (const group of newJobGroups(tubes, priorityClasses)) this.groups.push({ ...group, putUs: new LatencyHistogram() });
  }

  /** The server acknowledged a put; `intendedUs` is when it was meant to be sent (open loop) or was sent. */
  putAcked(id: number, group: number, dueUs: number, ttrSeconds: number, intendedUs: number, nowUs: number): void {
    const i = this.slot(id);
    if (i < 0) return;
    if (this.flags[i] & ACKED) {
      // Two INSERTED replies with one id: two jobs became one.
      this.flagDuplicate(id);
      return;
    }
    this.flags[i] |= ACKED;
    this.group[i] = group;
    this.dueUs[i] = dueUs;
    this.ttrUs[i] = ttrSeconds * 1e6;
    const stats = this.groups[group];
    stats.put += 1;
    this.putCount += 1;
    // A worker may have finished it before this reply was read (replies on different sockets).
    if (!(this.flags[i] & (DONE | BURIED))) this.live += 1;
    if (intendedUs >= this.warmupUs) stats.putUs.record(Math.max(0, Math.round(nowUs - intendedUs)));
  }

  /** A worker got a job; `sentUs` is when it sent the reserve. */
  reserved(worker: number, id: number, fields: BodyFields | undefined, sentUs: number, nowUs: number): ReserveOutcome {
    const i = fields === undefined || fields.group >= this.groups.length ? -1 : this.slot(id);
    if (i < 0) {
      this.foreignJobs += 1;
      return 'foreign';
    }
    const flags = this.flags[i];
    const stats = this.groups[fields!.group];
    const first = this.executions[i] === 0;
    if (flags & DONE) {
      this.flagDuplicate(id);
    } else if (this.holder[i] !== 0 && this.holder[i] !== worker + 1) {
      const ttrUs = this.ttrUs[i];
      if (ttrUs > 0 && nowUs - this.heldSinceUs[i] < ttrUs - TTR_TOLERANCE_US) this.flagDuplicate(id);
      else this.markRerun(i, stats);
    } else if (flags & ABANDONED) {
      this.markRerun(i, stats);
    }
    if (flags & BURIED) {
      // Kicked back and reserved again.
      this.flags[i] &= ~BURIED;
      if (flags & ACKED) this.live += 1;
    }
    this.flags[i] &= ~ABANDONED;
    if (first) {
      this.group[i] = fields!.group;
      this.dueUs[i] = fields!.dueUs;
      if (fields!.dueUs >= this.warmupUs) stats.queueWaitUs.record(Math.max(0, Math.round(nowUs - fields!.dueUs)));
    }
    if (this.executions[i] < 65535) this.executions[i] += 1;
    this.holder[i] = worker + 1;
    this.heldSinceUs[i] = sentUs;
    return first ? 'first' : 'again';
  }

  /** DELETED: the job is done. */
  completed(worker: number, id: number, startUs: number, nowUs: number): void {
    const i = this.slot(id);
    if (i < 0) return;
    const stats = this.groups[this.group[i]];
    const measured = this.dueUs[i] >= this.warmupUs;
    if (measured) stats.serviceUs.record(Math.max(0, Math.round(nowUs - startUs)));
    if (this.flags[i] & DONE) return;
    this.flags[i] |= DONE;
    if (this.holder[i] === worker + 1) this.holder[i] = 0;
    stats.completed += 1;
    this.completedCount += 1;
    if (this.flags[i] & ACKED) this.live -= 1;
    if (measured) stats.endToEndUs.record(Math.max(0, Math.round(nowUs - this.dueUs[i])));
  }

  /** RELEASED after a failed attempt (with backoff). */
  released(worker: number, id: number, startUs: number, nowUs: number): void {
    const i = this.slot(id);
    if (i < 0) return;
    this.retries += 1;
    if (this.retryCounts[i] < 65535) this.retryCounts[i] += 1;
    this.recordService(i, startUs, nowUs);
    if (this.holder[i] === worker + 1) this.holder[i] = 0;
  }

  buried(worker: number, id: number, startUs: number, nowUs: number): void {
    const i = this.slot(id);
    if (i < 0) return;
    this.recordService(i, startUs, nowUs);
    if (this.holder[i] === worker + 1) this.holder[i] = 0;
    if (!(this.flags[i] & (BURIED | DONE))) {
      this.flags[i] |= BURIED;
      if (this.flags[i] & ACKED) this.live -= 1;
    }
  }

  /** delete/release/bury answered NOT_FOUND: the reservation had expired and the job moved on. */
  late(worker: number, id: number): void {
    const i = this.slot(id);
    this.lateCompletions += 1;
    if (i >= 0 && this.holder[i] === worker + 1) this.holder[i] = 0;
  }

  /** The worker died holding the job: disconnect (released now) or hang (released at its TTR). */
  abandoned(worker: number, id: number, disconnected: boolean): void {
    const i = this.slot(id);
    this.crashes += 1;
    if (i < 0) return;
    this.flags[i] |= ABANDONED;
    if (disconnected && this.holder[i] === worker + 1) this.holder[i] = 0;
  }

  /** Acknowledged jobs neither completed nor buried by a worker, for the final accounting. */
  unfinishedIds(): number[] {
    const ids: number[] = [];
    for (let i = 0; i <= this.highest; i++) {
      const flags = this.flags[i];
      if (flags & ACKED && !(flags & DONE)) ids.push(this.baseId + 1 + i);
    }
    return ids;
  }

  retriesOf(id: number): number {
    const i = this.slot(id);
    return i < 0 ? 0 : this.retryCounts[i];
  }

  groupOf(id: number): number {
    return this.group[this.slot(id)];
  }

  wasBuriedByWorker(id: number): boolean {
    return (this.flags[this.slot(id)] & BURIED) !== 0;
  }

  private recordService(i: number, startUs: number, nowUs: number): void {
    if (this.dueUs[i] >= this.warmupUs) this.groups[this.group[i]].serviceUs.record(Math.max(0, Math.round(nowUs - startUs)));
  }

  private markRerun(i: number, stats: GroupStats): void {
    this.duplicateExecutions += 1;
    if (!(this.flags[i] & DUPLICATED)) {
      this.flags[i] |= DUPLICATED;
      stats.duplicated += 1;
    }
  }

  private flagDuplicate(id: number): void {
    this.duplicateDeliveries += 1;
    if (this.duplicatedIds.length < MAX_LISTED_IDS && !this.duplicatedIds.includes(id)) this.duplicatedIds.push(id);
  }

  /** The array index of a job id, growing the arrays; -1 for ids from before the run. */
  private slot(id: number): number {
    const i = id - this.baseId - 1;
    if (i < 0) return -1;
    if (i >= this.capacity) this.grow(i);
    if (i > this.highest) this.highest = i;
    return i;
  }

  private grow(i: number): void {
    let capacity = Math.max(4096, this.capacity);
    while (capacity <= i) capacity *= 2;
    const grown = <T extends Uint8Array | Uint16Array | Int32Array | Float64Array>(from: T, to: T): T => {
      to.set(from);
      return to;
    };
    this.flags = grown(this.flags, new Uint8Array(capacity));
    this.group = grown(this.group, new Uint16Array(capacity));
    this.dueUs = grown(this.dueUs, new Float64Array(capacity));
    this.ttrUs = grown(this.ttrUs, new Float64Array(capacity));
    this.holder = grown(this.holder, new Int32Array(capacity));
    this.heldSinceUs = grown(this.heldSinceUs, new Float64Array(capacity));
    this.executions = grown(this.executions, new Uint16Array(capacity));
    this.retryCounts = grown(this.retryCounts, new Uint16Array(capacity));
    this.capacity = capacity;
  }
}
