// Nothing lost: at the end, every acknowledged put that no worker completed must still be on the
// server, buried or queued. Each such job is looked up by id (`stats-job`, pipelined); NOT_FOUND
// means the server lost a job it had acknowledged. When the server was started for this run and
// the unfinished jobs are many (a closed-loop put run leaves hundreds of thousands), the tubes'
// job counts are checked first and the per-id lookups are only made if the counts disagree.
import type { Client } from '../client/client.js';
import { MAX_LISTED_IDS } from '../metrics/load-result.js';
import type { JobTracker } from './tracker.js';

/** Lookups kept in flight at once: enough to stream, few enough to bound memory. */
const LOOKUP_WINDOW = 512;
/** Above this many unfinished jobs on a server of our own, counting comes before looking up. */
const COUNT_FIRST_ABOVE = 20_000;

export interface Fates {
  buried: number[];
  remaining: number[];
  lost: number[];
  lostIds: number[];
}

export async function accountJobs(
  client: Client,
  tracker: JobTracker,
  tubes: readonly string[],
  serverIsOurs: boolean,
  kicked: boolean,
): Promise<Fates> {
  const ids = tracker.unfinishedIds();
  const fates: Fates = {
    buried: tracker.groups.map(() => 0),
    remaining: tracker.groups.map(() => 0),
    lost: tracker.groups.map(() => 0),
    lostIds: [],
  };
  // Counting only works where every job in our tubes is ours, and only tells buried from
  // queued without a kicker moving buried jobs behind the workers' backs.
  if (serverIsOurs && !kicked && ids.length > COUNT_FIRST_ABOVE && (await countsAgree(client, tubes, ids.length))) {
    for (const id of ids) {
      const group = tracker.groupOf(id);
      if (tracker.wasBuriedByWorker(id)) fates.buried[group] += 1;
      else fates.remaining[group] += 1;
    }
    return fates;
  }
  for (let start = 0; start < ids.length; start += LOOKUP_WINDOW) {
    const batch = ids.slice(start, start + LOOKUP_WINDOW);
    const replies = await Promise.all(batch.map((id) => client.request({ kind: 'stats-job', id })));
    batch.forEach((id, k) => {
      const reply = replies[k];
      const group = tracker.groupOf(id);
      if (reply.kind === 'NOT_FOUND') {
        fates.lost[group] += 1;
        if (fates.lostIds.length < MAX_LISTED_IDS) fates.lostIds.push(id);
      } else if (reply.kind === 'OK' && /^state: buried$/m.test(Buffer.from(reply.body).toString('latin1'))) {
        fates.buried[group] += 1;
      } else {
        fates.remaining[group] += 1;
      }
    });
  }
  return fates;
}

/** Every unfinished job counted lost: the server is gone, and so are they. */
export function everythingLost(tracker: JobTracker): Fates {
  const fates: Fates = { buried: tracker.groups.map(() => 0), remaining: tracker.groups.map(() => 0), lost: tracker.groups.map(() => 0), lostIds: [] };
  for (const id of tracker.unfinishedIds()) {
    fates.lost[tracker.groupOf(id)] += 1;
    if (fates.lostIds.length < MAX_LISTED_IDS) fates.lostIds.push(id);
  }
  return fates;
}

async function countsAgree(client: Client, tubes: readonly string[], expected: number): Promise<boolean> {
  let total = 0;
  for (const tube of tubes) {
    const stats = await client.statsTube(tube);
    for (const key of ['ready', 'reserved', 'delayed', 'buried']) total += Number(stats?.get(`current-jobs-${key}`) ?? 0);
  }
  return total === expected;
}
