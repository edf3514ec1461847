// Everything the load runner knows about the jobs it put, by server job id (any id: see
// job-table.ts). Producers, workers and the HTTP front end report here; the latencies go into
// per-group HDR histograms (a group is one tube and priority class, as in the simulator).
import { LatencyHistogram } from '../metrics/histogram.js';
import { newJobGroups, type JobGroup } from '../metrics/result.js';
import { MAX_LISTED_IDS } from '../metrics/load-result.js';
import type { BodyFields } from './body.js';
import { JobIndex, type JobTable } from './job-table.js';

const ACKED = 1;
const DONE = 2;
const BURIED = 4;
/** Its work ran more than once (TTR expiry, crashed worker, a duplicate delivery), retries aside: jobs.duplicated. */
const DUPLICATED = 8;
/** Its worker died or gave it up without finishing: the next reservation repeats work. */
const ABANDONED = 16;
/** A reservation of it here ended without an outcome (its worker crashed, or its TTR ran out first). */
const DROPPED = 32;

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

/** unsure: first here, but maybe not the job's first reservation (confirmFirstReservations). */
export type ReserveOutcome = 'first' | 'unsure' | 'again' | 'foreign';

/** Job ids (unsorted) that matter beyond this shard; see JobTracker.shardFacts. */
export interface ShardFacts {
  /** By group: deleted by this shard's workers, put by another shard. */
  completedForSiblings: number[][];
  /** By group: buried by this shard's workers (and not reserved again), put by another shard. */
  buriedForSiblings: number[][];
  /** By group: a reservation here ended without an outcome (crash, TTR expiry before the delete). */
  dropped: number[][];
  /** By group: the work ran more than once here (counted in this shard's jobs.duplicated). */
  reran: number[][];
}

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
  /** Reservations of a job still reserved by another worker within its TTR, or already deleted. */
  duplicateDeliveries = 0;
  readonly duplicatedIds: number[] = [];
  /**
   * Puts acknowledged with an id the server had already given to a job it still held: a server
   * holds one job per id, so one of the two is gone. Per group; counted lost in the accounting.
   */
  readonly collisionLost: number[];
  readonly collisionIds: number[] = [];
  /**
   * A shard's first reservation of a job may not be the job's first: a sibling may have reserved
   * and released it (a retry), or crashed holding it. When that can happen the put-to-reserve
   * wait is recorded only once the server confirms it (firstConfirmed), or it would count the
   * retry's backoff as waiting.
   */
  confirmFirstReservations = false;
  private readonly index: JobIndex;

  constructor(
    /** The server's job count when the run began: its ids are expected to start above it (a hint only). */
    baseId: number,
    tubes: number,
    priorityClasses: number,
    private readonly warmupUs: number,
    /** This run's body token (body.ts); 0 accepts any beanlab body. */
    private readonly runToken = 0,
  ) {
    for (const group of newJobGroups(tubes, priorityClasses)) this.groups.push({ ...group, putUs: new LatencyHistogram() });
    this.collisionLost = this.groups.map(() => 0);
    this.index = new JobIndex(baseId + 1);
  }

  /** The server acknowledged a put; `intendedUs` is when it was meant to be sent (open loop) or was sent. */
  putAcked(id: number, group: number, dueUs: number, ttrSeconds: number, intendedUs: number, nowUs: number): void {
    const s = this.index.locate(id);
    const t = s >= 0 ? this.index.dense : this.index.sparse;
    const i = s >= 0 ? s : ~s;
    const stats = this.groups[group];
    stats.put += 1;
    this.putCount += 1;
    if (this.measured(intendedUs)) stats.putUs.record(Math.max(0, Math.round(nowUs - intendedUs)));
    const flags = t.flags[i];
    if (flags & ACKED) {
      if (!(flags & DONE)) {
        // Two acknowledgements, one id, and the first job is still there: one of the two is gone.
        this.collisionLost[group] += 1;
        if (this.collisionIds.length < MAX_LISTED_IDS) this.collisionIds.push(id);
        return;
      }
      // The first job with this id was deleted: the server gave the id again, to a new job.
      t.clear(i);
    }
    t.flags[i] |= ACKED;
    t.group[i] = group;
    t.dueUs[i] = dueUs;
    t.ttrUs[i] = ttrSeconds * 1e6;
    // A worker may have finished it before this reply was read (replies on different sockets).
    if (!(t.flags[i] & (DONE | BURIED))) this.live += 1;
  }

  /** A put never answered by endUs: its latency is at least its age then. */
  unansweredPut(group: number, intendedUs: number, endUs: number): void {
    if (this.measured(intendedUs)) this.groups[group].putUs.record(Math.max(0, Math.round(endUs - intendedUs)));
  }

  /** A worker got a job; `sentUs` is when it sent the reserve. */
  reserved(worker: number, id: number, fields: BodyFields | undefined, sentUs: number, nowUs: number): ReserveOutcome {
    if (fields === undefined || fields.group >= this.groups.length || (this.runToken !== 0 && fields.run !== this.runToken)) {
      this.foreignJobs += 1;
      return 'foreign';
    }
    const s = this.index.locate(id);
    const t = s >= 0 ? this.index.dense : this.index.sparse;
    const i = s >= 0 ? s : ~s;
    const flags = t.flags[i];
    const stats = this.groups[fields.group];
    const first = t.executions[i] === 0;
    let unsure = false;
    if (flags & DONE) {
      this.flagDuplicate(t, i, id, stats);
    } else if (t.holder[i] !== 0 && t.holder[i] !== worker + 1) {
      const ttrUs = t.ttrUs[i];
      if (ttrUs > 0 && nowUs - t.heldSinceUs[i] < ttrUs - TTR_TOLERANCE_US) this.flagDuplicate(t, i, id, stats);
      else this.markRerun(t, i, stats);
    } else if (flags & ABANDONED) {
      this.markRerun(t, i, stats);
    }
    if (flags & BURIED) {
      // Kicked back and reserved again.
      t.flags[i] &= ~BURIED;
      if (flags & ACKED) this.live += 1;
    }
    t.flags[i] &= ~ABANDONED;
    if (first) {
      t.group[i] = fields.group;
      t.dueUs[i] = fields.dueUs;
      // A job another shard of the run put: its TTR comes from its body.
      if (!(flags & ACKED)) t.ttrUs[i] = fields.ttrSeconds * 1e6;
      if (this.confirmFirstReservations) unsure = true;
      else if (this.measured(fields.dueUs)) stats.queueWaitUs.record(Math.max(0, Math.round(nowUs - fields.dueUs)));
    }
    if (t.executions[i] < 65535) t.executions[i] += 1;
    t.holder[i] = worker + 1;
    t.heldSinceUs[i] = sentUs;
    return first ? (unsure ? 'unsure' : 'first') : 'again';
  }

  /** The server says the reservation at reservedUs was the job's first (reserves: 1). */
  firstConfirmed(id: number, reservedUs: number): void {
    const s = this.index.locate(id);
    const t = s >= 0 ? this.index.dense : this.index.sparse;
    const i = s >= 0 ? s : ~s;
    if (this.measured(t.dueUs[i])) this.groups[t.group[i]].queueWaitUs.record(Math.max(0, Math.round(reservedUs - t.dueUs[i])));
  }

  /** DELETED: the job is done. */
  completed(worker: number, id: number, startUs: number, nowUs: number): void {
    const s = this.index.locate(id);
    const t = s >= 0 ? this.index.dense : this.index.sparse;
    const i = s >= 0 ? s : ~s;
    const stats = this.groups[t.group[i]];
    const measured = this.measured(t.dueUs[i]);
    if (measured) stats.serviceUs.record(Math.max(0, Math.round(nowUs - startUs)));
    if (t.flags[i] & DONE) return;
    t.flags[i] |= DONE;
    if (t.holder[i] === worker + 1) t.holder[i] = 0;
    stats.completed += 1;
    this.completedCount += 1;
    if (t.flags[i] & ACKED) this.live -= 1;
    if (measured) stats.endToEndUs.record(Math.max(0, Math.round(nowUs - t.dueUs[i])));
  }

  /** RELEASED after a failed attempt (with backoff). */
  released(worker: number, id: number, startUs: number, nowUs: number): void {
    const s = this.index.locate(id);
    const t = s >= 0 ? this.index.dense : this.index.sparse;
    const i = s >= 0 ? s : ~s;
    this.retries += 1;
    if (t.retryCounts[i] < 65535) t.retryCounts[i] += 1;
    this.recordService(t, i, startUs, nowUs);
    if (t.holder[i] === worker + 1) t.holder[i] = 0;
  }

  buried(worker: number, id: number, startUs: number, nowUs: number): void {
    const s = this.index.locate(id);
    const t = s >= 0 ? this.index.dense : this.index.sparse;
    const i = s >= 0 ? s : ~s;
    this.recordService(t, i, startUs, nowUs);
    if (t.holder[i] === worker + 1) t.holder[i] = 0;
    if (!(t.flags[i] & (BURIED | DONE))) {
      t.flags[i] |= BURIED;
      if (t.flags[i] & ACKED) this.live -= 1;
    }
  }

  /** delete/release/bury answered NOT_FOUND: the reservation had expired and the job moved on. */
  late(worker: number, id: number): void {
    const s = this.index.locate(id);
    const t = s >= 0 ? this.index.dense : this.index.sparse;
    const i = s >= 0 ? s : ~s;
    this.lateCompletions += 1;
    // Its reservation ran out before the worker finished: whoever reserves it next repeats the work.
    t.flags[i] |= ABANDONED | DROPPED;
    if (t.holder[i] === worker + 1) t.holder[i] = 0;
  }

  /** The worker died holding the job: disconnect (released now) or hang (released at its TTR). */
  abandoned(worker: number, id: number, disconnected: boolean): void {
    const s = this.index.locate(id);
    const t = s >= 0 ? this.index.dense : this.index.sparse;
    const i = s >= 0 ? s : ~s;
    this.crashes += 1;
    t.flags[i] |= ABANDONED | DROPPED;
    if (disconnected && t.holder[i] === worker + 1) t.holder[i] = 0;
  }

  /** Acknowledged jobs neither completed nor buried by a worker, for the final accounting. */
  unfinishedIds(): number[] {
    const ids: number[] = [];
    this.forEach((flags, id) => {
      if (flags & ACKED && !(flags & DONE)) ids.push(id);
    });
    return ids;
  }

  /**
   * Up to `limit` ids of jobs a worker deleted (the server answered DELETED), spread evenly over
   * all of them, for the audit that they are really gone; and how many there are in all.
   */
  completedIds(limit: number): { ids: number[]; total: number } {
    let total = 0;
    this.forEach((flags) => {
      if (flags & DONE) total += 1;
    });
    const ids: number[] = [];
    if (limit <= 0 || total === 0) return { ids, total };
    const every = total / Math.min(limit, total);
    let seen = 0;
    let next = 0;
    this.forEach((flags, id) => {
      if (!(flags & DONE)) return;
      if (seen >= next && ids.length < limit) {
        ids.push(id);
        next += every;
      }
      seen += 1;
    });
    return { ids, total };
  }

  /**
   * What other shards of the run need to know about the jobs this one touched, for
   * `beanlab merge` to reconcile them (src/metrics/shard-merge.ts): this shard's puts that its
   * own workers did not finish (their audit outcome is added by the caller), and the jobs its
   * workers finished, dropped or ran again, by whoever put them.
   */
  shardFacts(): ShardFacts {
    const lists = () => this.groups.map((): number[] => []);
    const facts: ShardFacts = { completedForSiblings: lists(), buriedForSiblings: lists(), dropped: lists(), reran: lists() };
    const { dense, sparse, sparseIds, highest } = this.index;
    const visit = (t: JobTable, i: number, id: number): void => {
      const flags = t.flags[i];
      if (flags === 0) return;
      if (!(flags & ACKED)) {
        if (flags & DONE) facts.completedForSiblings[t.group[i]].push(id);
        else if (flags & BURIED) facts.buriedForSiblings[t.group[i]].push(id);
      }
      if (flags & DROPPED) facts.dropped[t.group[i]].push(id);
      if (flags & DUPLICATED) facts.reran[t.group[i]].push(id);
    };
    for (let i = 0; i <= highest; i++) visit(dense, i, this.index.denseId(i));
    for (let k = 0; k < sparseIds.length; k++) visit(sparse, k, sparseIds[k]);
    return facts;
  }

  retriesOf(id: number): number {
    const s = this.index.locate(id);
    return s >= 0 ? this.index.dense.retryCounts[s] : this.index.sparse.retryCounts[~s];
  }

  groupOf(id: number): number {
    const s = this.index.locate(id);
    return s >= 0 ? this.index.dense.group[s] : this.index.sparse.group[~s];
  }

  wasBuriedByWorker(id: number): boolean {
    const s = this.index.locate(id);
    const flags = s >= 0 ? this.index.dense.flags[s] : this.index.sparse.flags[~s];
    return (flags & BURIED) !== 0;
  }

  /** Every tracked job's flags and id: the dense table in id order, then the sparse one. */
  private forEach(visit: (flags: number, id: number) => void): void {
    const { dense, sparse, sparseIds, highest } = this.index;
    for (let i = 0; i <= highest; i++) if (dense.flags[i] !== 0) visit(dense.flags[i], this.index.denseId(i));
    for (let k = 0; k < sparseIds.length; k++) if (sparse.flags[k] !== 0) visit(sparse.flags[k], sparseIds[k]);
  }

  /**
   * Whether a job due (or a put meant) at dueUs counts in the latencies: not during the warm-up.
   * Without one every job counts, also a sibling shard's job due before this shard's clock began.
   */
  private measured(dueUs: number): boolean {
    return this.warmupUs <= 0 || dueUs >= this.warmupUs;
  }

  private recordService(t: JobTable, i: number, startUs: number, nowUs: number): void {
    if (this.measured(t.dueUs[i])) this.groups[t.group[i]].serviceUs.record(Math.max(0, Math.round(nowUs - startUs)));
  }

  private markRerun(t: JobTable, i: number, stats: GroupStats): void {
    this.duplicateExecutions += 1;
    if (!(t.flags[i] & DUPLICATED)) {
      t.flags[i] |= DUPLICATED;
      stats.duplicated += 1;
    }
  }

  /** The server handed out a job it must not have: its work runs more than once, wrongly. */
  private flagDuplicate(t: JobTable, i: number, id: number, stats: GroupStats): void {
    this.duplicateDeliveries += 1;
    this.markRerun(t, i, stats);
    if (this.duplicatedIds.length < MAX_LISTED_IDS && !this.duplicatedIds.includes(id)) this.duplicatedIds.push(id);
  }
}
