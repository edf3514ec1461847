// The final audit: nothing lost, nothing kept that should be gone, and only verdicts the server
// itself gave. Over a fresh connection (the run's own may have failed), within a time bound:
//  - every acknowledged put that no worker completed must still be on the server: each is looked
//    up by id (`stats-job`, pipelined). NOT_FOUND is a job the server acknowledged and lost. When
//    the server was started for this run and the unfinished jobs are many (a closed-loop put run
//    leaves hundreds of thousands), the tubes' job counts are checked first and the per-id
//    lookups are only made if the counts disagree;
//  - every job a worker deleted (the server answered DELETED) must be gone: completed ids (all of
//    them, or an even spread of COMPLETED_CHECKS) must answer NOT_FOUND, allowing a server
//    SETTLE_MS to apply its deletes; one still there was not deleted;
//  - each tube the run used must hold only the jobs reported as remaining or buried (plus what it
//    held before the run);
//  - a job the audit could not ask about (the server stopped answering, refused the connection,
//    or the time ran out) is unverified, with the reason, never lost.
// A shard of a sharded run (shard.ts) audits its own puts the same way, with two differences:
// a job its workers did not finish and the server no longer has is `gone`, not lost, because a
// sibling shard's workers may have completed it (`beanlab merge` decides, from every shard's
// facts: src/metrics/shard-merge.ts); and the tubes hold every shard's jobs, so their counts are
// recorded for the merge to check instead of being checked here. The outcome of every unfinished
// job is kept by id, for the merge.
import { Client, ConnectionError } from '../client/client.js';
import type { Reply } from '../protocol/types.js';
import type { Address } from '../target/address.js';
import { MAX_LISTED_IDS } from '../metrics/load-result.js';
import type { JobTracker } from './tracker.js';

/** Lookups kept in flight at once: enough to stream, few enough to bound memory. */
const LOOKUP_WINDOW = 512;
/** Above this many unfinished jobs on a server of our own, counting comes before looking up. */
const COUNT_FIRST_ABOVE = 20_000;
/** Completed ids checked for being gone: all up to this many, else this many spread evenly. */
export const COMPLETED_CHECKS = 10_000;
/** How long a completed job that is still there gets to disappear before it counts as not deleted. */
const SETTLE_MS = 1000;

export interface AuditOptions {
  address: Address;
  tubes: readonly string[];
  /** Started for this run: nobody else's jobs are in it. */
  serverIsOurs: boolean;
  /** A kicker moved buried jobs behind the workers' backs: counts cannot tell buried from queued. */
  kicked: boolean;
  /** Each tube's job count before the run, or null where it could not be read. */
  tubeJobsAtStart: ReadonlyArray<number | null>;
  /** Puts that got no answer: their jobs may or may not be on the server. */
  unansweredPuts: number;
  requestTimeoutMs: number;
  /** The whole audit's bound. */
  budgetMs: number;
  /** One shard of a sharded run: see the file comment. */
  shard?: boolean;
}

/** A shard's unfinished jobs by group and by what the audit found; ids unsorted. */
export interface OutcomesById {
  gone: number[][];
  buried: number[][];
  remaining: number[][];
  unverified: number[][];
}

export interface Fates {
  buried: number[];
  remaining: number[];
  lost: number[];
  unverified: number[];
  lostIds: number[];
  unverifiedIds: number[];
  /** Why jobs are unverified; null when none is. */
  unverifiedReason: string | null;
  /** Completed jobs (answered DELETED) the server still held at the end. */
  undeleted: number;
  undeletedIds: number[];
  /** The states the server gave the jobs not deleted (delayed, ready ...), with how many in each. */
  undeletedByState: Record<string, number>;
  completedChecked: number;
  completedTotal: number;
  /** Tubes holding other than the jobs reported left in them. */
  tubeMismatches: string[];
  /** Something the audit noticed that is not a failure by itself (a shared server's tube counts). */
  notes: string[];
  /** Shards only: unfinished jobs the server no longer had (completed by a sibling, or lost), per group. */
  gone?: number[];
  /** Shards only: every unfinished job's outcome by id. */
  byId?: OutcomesById;
  /** Shards only: each tube's job count at the audit, or null where it could not be read. */
  tubeJobsAtEnd?: Array<number | null>;
}

function emptyFates(tracker: JobTracker, shard = false): Fates {
  const zeros = () => tracker.groups.map(() => 0);
  const lists = () => tracker.groups.map((): number[] => []);
  const fates: Fates = {
    buried: zeros(),
    remaining: zeros(),
    lost: [...tracker.collisionLost],
    unverified: zeros(),
    lostIds: [...tracker.collisionIds],
    unverifiedIds: [],
    unverifiedReason: null,
    undeleted: 0,
    undeletedIds: [],
    undeletedByState: {},
    completedChecked: 0,
    completedTotal: 0,
    tubeMismatches: [],
    notes: [],
  };
  if (shard) {
    fates.gone = zeros();
    fates.byId = { gone: lists(), buried: lists(), remaining: lists(), unverified: lists() };
  }
  return fates;
}

/** The audit could not start: every unfinished job is unverified, for this reason. */
export function nothingVerified(tracker: JobTracker, reason: string, shard = false): Fates {
  const fates = emptyFates(tracker, shard);
  markUnverified(fates, tracker, tracker.unfinishedIds(), reason);
  fates.completedTotal = tracker.completedIds(0).total;
  return fates;
}

export async function auditJobs(tracker: JobTracker, options: AuditOptions): Promise<Fates> {
  const deadline = { atMs: Date.now() + options.budgetMs, requestTimeoutMs: options.requestTimeoutMs };
  let client: Client;
  try {
    client = await Client.connect({ ...options.address, timeoutMs: options.requestTimeoutMs });
  } catch (error) {
    return nothingVerified(tracker, `the final audit could not connect: ${messageOf(error)}`, options.shard);
  }
  try {
    return await audit(client, tracker, options, deadline);
  } catch (error) {
    return nothingVerified(tracker, `the final audit failed: ${messageOf(error)}`, options.shard);
  } finally {
    await client.close();
  }
}

type Deadline = { atMs: number; requestTimeoutMs: number };

async function audit(client: Client, tracker: JobTracker, options: AuditOptions, deadline: Deadline): Promise<Fates> {
  const fates = emptyFates(tracker, options.shard);
  const ids = tracker.unfinishedIds();
  const byId = fates.byId;
  // Counting only works where every job in our tubes is ours (never with sibling shards), and
  // only tells buried from queued without a kicker moving buried jobs behind the workers' backs.
  const counted =
    !options.shard &&
    options.serverIsOurs && !options.kicked && ids.length > COUNT_FIRST_ABOVE && options.unansweredPuts === 0 && (await tubeTotal(client, options.tubes)) === ids.length;
  if (counted) {
    for (const id of ids) {
      const group = tracker.groupOf(id);
      if (tracker.wasBuriedByWorker(id)) fates.buried[group] += 1;
      else fates.remaining[group] += 1;
    }
  } else {
    const unchecked = await lookUp(client, ids, deadline, (id, reply) => {
      const group = tracker.groupOf(id);
      if (reply.kind === 'NOT_FOUND' && byId) {
        fates.gone![group] += 1;
        byId.gone[group].push(id);
      } else if (reply.kind === 'NOT_FOUND') {
        fates.lost[group] += 1;
        if (fates.lostIds.length < MAX_LISTED_IDS) fates.lostIds.push(id);
      } else if (reply.kind === 'OK' && stateOf(reply) === 'buried') {
        fates.buried[group] += 1;
        byId?.buried[group].push(id);
      } else {
        fates.remaining[group] += 1;
        byId?.remaining[group].push(id);
      }
    });
    if (unchecked.ids.length > 0) {
      markUnverified(fates, tracker, unchecked.ids, `the final audit could not ask about them: ${unchecked.reason}`);
      return fates;
    }
  }
  await checkCompletedGone(client, tracker, fates, deadline);
  if (options.shard) fates.tubeJobsAtEnd = await Promise.all(options.tubes.map((tube) => tubeJobCount(client, tube).catch(() => null)));
  else await checkTubes(client, tracker, fates, options);
  return fates;
}

/** Completed jobs must answer NOT_FOUND; those still there get SETTLE_MS to go. */
async function checkCompletedGone(client: Client, tracker: JobTracker, fates: Fates, deadline: Deadline): Promise<void> {
  const { ids, total } = tracker.completedIds(COMPLETED_CHECKS);
  fates.completedTotal = total;
  let present: number[] = [];
  const firstPass = await lookUp(client, ids, deadline, (id, reply) => {
    if (reply.kind !== 'NOT_FOUND') present.push(id);
  });
  fates.completedChecked = ids.length - firstPass.ids.length;
  if (firstPass.ids.length > 0) fates.notes.push(`${firstPass.ids.length} completed jobs were not checked: ${firstPass.reason}`);
  const settleUntilMs = Math.min(deadline.atMs, Date.now() + SETTLE_MS);
  const states = new Map<number, string>();
  while (present.length > 0 && Date.now() < settleUntilMs) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const still: number[] = [];
    await lookUp(client, present, deadline, (id, reply) => {
      if (reply.kind !== 'NOT_FOUND') {
        still.push(id);
        states.set(id, reply.kind === 'OK' ? (stateOf(reply) ?? 'present') : reply.kind);
      }
    });
    present = still;
  }
  fates.undeleted = present.length;
  fates.undeletedIds = present.slice(0, MAX_LISTED_IDS);
  for (const id of present) {
    const state = states.get(id) ?? 'present';
    fates.undeletedByState[state] = (fates.undeletedByState[state] ?? 0) + 1;
  }
}

/** Each tube holds what it held before the run plus the run's jobs left in it, no more, no less. */
async function checkTubes(client: Client, tracker: JobTracker, fates: Fates, options: AuditOptions): Promise<void> {
  const classes = tracker.groups.length / Math.max(1, options.tubes.length);
  for (let t = 0; t < options.tubes.length; t++) {
    const tube = options.tubes[t];
    let left = 0;
    for (let g = t * classes; g < (t + 1) * classes; g++) left += fates.remaining[g] + fates.buried[g];
    let held: number;
    try {
      held = await tubeJobCount(client, tube);
    } catch (error) {
      fates.notes.push(`tube ${tube}: its job count could not be read (${messageOf(error)})`);
      continue;
    }
    const before = options.tubeJobsAtStart[t];
    if (before === null) continue;
    const expected = before + left;
    if (held === expected) continue;
    const text = `tube ${tube} holds ${held} jobs; the run left ${left} there${before > 0 ? ` and it held ${before} before` : ''}`;
    // Unanswered puts may have been stored; another client's jobs may come and go on a shared server.
    if (options.serverIsOurs && !(options.unansweredPuts > 0 && held > expected && held <= expected + options.unansweredPuts)) fates.tubeMismatches.push(text);
    else fates.notes.push(`${text} (${options.serverIsOurs ? 'unanswered puts may have been stored' : 'a shared server: other clients may use it'})`);
  }
}

/** A tube's jobs in any state. */
async function tubeJobCount(client: Client, tube: string): Promise<number> {
  const stats = await client.statsTube(tube);
  let held = 0;
  for (const key of ['ready', 'reserved', 'delayed', 'buried']) held += Number(stats?.get(`current-jobs-${key}`) ?? 0);
  return held;
}

function markUnverified(fates: Fates, tracker: JobTracker, ids: readonly number[], reason: string): void {
  for (const id of ids) {
    fates.unverified[tracker.groupOf(id)] += 1;
    fates.byId?.unverified[tracker.groupOf(id)].push(id);
    if (fates.unverifiedIds.length < MAX_LISTED_IDS) fates.unverifiedIds.push(id);
  }
  fates.unverifiedReason ??= reason;
}

/**
 * `stats-job` for each id, LOOKUP_WINDOW at a time, until done, the connection fails or the
 * deadline passes; returns the ids that got no answer and why.
 */
async function lookUp(
  client: Client,
  ids: readonly number[],
  deadline: { atMs: number; requestTimeoutMs: number },
  onReply: (id: number, reply: Reply) => void,
): Promise<{ ids: number[]; reason: string }> {
  for (let start = 0; start < ids.length; start += LOOKUP_WINDOW) {
    if (Date.now() >= deadline.atMs) return { ids: ids.slice(start), reason: 'the audit ran out of time' };
    const batch = ids.slice(start, start + LOOKUP_WINDOW);
    const timeoutMs = Math.max(1, Math.min(deadline.requestTimeoutMs, deadline.atMs - Date.now()));
    const replies = await Promise.allSettled(batch.map((id) => client.request({ kind: 'stats-job', id }, { timeoutMs })));
    let failure: unknown;
    const unanswered: number[] = [];
    replies.forEach((outcome, k) => {
      if (outcome.status === 'fulfilled') onReply(batch[k], outcome.value);
      else {
        failure ??= outcome.reason;
        unanswered.push(batch[k]);
      }
    });
    if (unanswered.length > 0) return { ids: [...unanswered, ...ids.slice(start + LOOKUP_WINDOW)], reason: messageOf(failure) };
  }
  return { ids: [], reason: '' };
}

async function tubeTotal(client: Client, tubes: readonly string[]): Promise<number> {
  let total = 0;
  for (const tube of tubes) {
    const stats = await client.statsTube(tube);
    for (const key of ['ready', 'reserved', 'delayed', 'buried']) total += Number(stats?.get(`current-jobs-${key}`) ?? 0);
  }
  return total;
}

function stateOf(reply: Reply): string | undefined {
  if (reply.kind !== 'OK') return undefined;
  return /^state: (\w+)$/m.exec(Buffer.from(reply.body).toString('latin1'))?.[1];
}

export function messageOf(error: unknown): string {
  if (error instanceof ConnectionError || error instanceof Error) return error.message;
  return String(error);
}
