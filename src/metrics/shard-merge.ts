// Merging the shards of one sharded load run into the run's result, reconciling their job
// accounting by job id. Each shard audited its own puts (src/load/accounting.ts) but could not
// know what its siblings did with them; every shard's facts (load.shard.facts) say:
//  - its puts its own workers did not finish, by what its audit found: gone (NOT_FOUND),
//    buried, remaining (ready, delayed or reserved) or unverified;
//  - the jobs its workers completed or buried that another shard put;
//  - the jobs whose reservation here ended without an outcome (dropped), and those re-run here.
// Over the union:
//  - a job a sibling completed is completed, whatever its owner's audit saw (gone, remaining,
//    buried, or unverified): it was counted completed by the sibling that deleted it;
//  - a gone job no shard completed is lost; if a shard is missing from the merge it may have
//    completed it, so it is unverified instead (never lost on a guess);
//  - a remaining job a sibling buried is buried;
//  - a job dropped by one shard and finished by another ran more than once (duplicated);
//  - a job completed by two shards, or completed by a shard while no shard claims it as put and
//    unfinished, is an unclaimed completion: delivered twice, or left by an earlier run with the
//    same run id. It fails the run.
// Histograms merge exactly (they travel encoded). Figures the shards read from the server (queue
// depths, command rates, CPU, TTR expiries) are the same server seen N times: one shard's, not
// their sum. Coordinated shards (a barrier or --start-at) audited the run's final state after
// every shard stopped, so the tubes' job counts are checked here, over the union. Pure.
import { decodeIds } from './id-list.js';
import type { JobCounts, RunResult } from './result.js';
import { mergeLoadResults } from './load-merge.js';
import { isSound } from './load-verdict.js';
import { latencyStats, MAX_LISTED_IDS, type LoadResult, type ShardDetails, type ShardSummary } from './load-result.js';
import { evaluateSlos, type SloSpec } from './slo.js';

export class ShardMergeError extends Error {
  override name = 'ShardMergeError';
}

/** A result of one shard (not yet merged). */
export function isShardResult(result: LoadResult): boolean {
  return result.load.shard?.facts !== undefined;
}

type Fate = 'lost' | 'remaining' | 'buried' | 'unverified';
type Delta = Record<Fate | 'completed' | 'duplicated', number>;

export function mergeShards(parts: readonly LoadResult[], slos?: readonly SloSpec[]): LoadResult {
  const shards = checkShards(parts);
  const first = shards[0];
  const classes = first.classNames.length;
  const merged = mergeLoadResults(parts, 'concurrent', slos);
  const present = new Set(shards.map((s) => s.index!));
  const missing = Array.from({ length: first.count }, (_, i) => i).filter((i) => !present.has(i));

  // Everything the shards say, decoded once.
  const facts = shards.map((s) => s.facts!);
  const completedBy = new Map<number, number>(); // id -> how many shards completed it for a sibling
  const groupOfSibling = new Map<number, number>();
  const buriedBySibling = new Set<number>();
  for (const f of facts) {
    for (const { group, ids } of f.completedForSiblings) {
      for (const id of decodeIds(ids)) {
        completedBy.set(id, (completedBy.get(id) ?? 0) + 1);
        groupOfSibling.set(id, group);
      }
    }
    for (const { group, ids } of f.buriedForSiblings) for (const id of decodeIds(ids)) (buriedBySibling.add(id), groupOfSibling.set(id, group));
  }
  const unfinished = new Map<number, { group: number; fate: 'gone' | Exclude<Fate, 'lost'> }>();
  for (const f of facts) {
    for (const u of f.unfinished) {
      for (const fate of ['gone', 'buried', 'remaining', 'unverified'] as const) for (const id of decodeIds(u[fate])) unfinished.set(id, { group: u.group, fate });
    }
  }

  // A run of one shard has no siblings: its own audit is the run's (lost is lost there).
  const siblings = first.count > 1;
  if (!siblings) unfinished.clear();

  // Reconcile each unfinished job with what its siblings did.
  const deltas = new Map<number, Delta>();
  const delta = (group: number): Delta => {
    let d = deltas.get(group);
    if (!d) deltas.set(group, (d = { lost: 0, remaining: 0, buried: 0, unverified: 0, completed: 0, duplicated: 0 }));
    return d;
  };
  const lostIds: number[] = [];
  const unverifiedIds: number[] = [];
  let missingUnverified = 0;
  for (const [id, { group, fate }] of unfinished) {
    const d = delta(group);
    const completedElsewhere = completedBy.has(id);
    if (fate === 'gone') {
      // The shard counted it in nothing yet (gone is not a fate of its own).
      if (completedElsewhere) continue;
      if (missing.length > 0) {
        d.unverified += 1;
        missingUnverified += 1;
        if (unverifiedIds.length < MAX_LISTED_IDS) unverifiedIds.push(id);
      } else {
        d.lost += 1;
        if (lostIds.length < MAX_LISTED_IDS) lostIds.push(id);
      }
      continue;
    }
    if (completedElsewhere) {
      d[fate] -= 1;
      continue;
    }
    if (fate === 'remaining' && buriedBySibling.has(id)) {
      d.remaining -= 1;
      d.buried += 1;
    }
    if (fate === 'unverified' && unverifiedIds.length < MAX_LISTED_IDS) unverifiedIds.push(id);
  }

  // Completions no shard can account for: twice, or of a job no shard claims.
  const duplicatedIds: number[] = [];
  let unclaimed = 0;
  const unansweredPuts = parts.reduce((n, p) => n + (p.load.unanswered?.puts ?? 0), 0);
  for (const [id, times] of completedBy) {
    const owned = unfinished.has(id);
    const extra = times - 1 + (!owned && missing.length === 0 ? 1 : 0);
    if (extra <= 0) continue;
    unclaimed += 1;
    if (duplicatedIds.length < MAX_LISTED_IDS) duplicatedIds.push(id);
    // Counted completed once per shard that deleted it: once is the truth.
    if (times > 1) delta(groupOfSibling.get(id)!).completed -= times - 1;
  }

  // Work that ran in one shard and again in another.
  // A job re-run in k shards is counted in k shards' jobs.duplicated: once is the truth.
  const reranSomewhere = new Map<number, number>();
  for (const f of facts) {
    for (const { group, ids } of f.reran) {
      for (const id of decodeIds(ids)) {
        const times = (reranSomewhere.get(id) ?? 0) + 1;
        reranSomewhere.set(id, times);
        if (times > 1) delta(group).duplicated -= 1;
      }
    }
  }
  let crossReruns = 0;
  const countedRerun = new Set<number>();
  for (const f of siblings ? facts : []) {
    for (const { group, ids } of f.dropped) {
      for (const id of decodeIds(ids)) {
        if (reranSomewhere.has(id) || countedRerun.has(id)) continue;
        const state = unfinished.get(id);
        const finished = completedBy.has(id) || buriedBySibling.has(id) || state?.fate === 'buried' || (state === undefined && missing.length === 0);
        if (!finished) continue;
        countedRerun.add(id);
        crossReruns += 1;
        delta(group).duplicated += 1;
      }
    }
  }

  // Apply the deltas to the totals and to the tube and priority breakdowns.
  const apply = (jobs: JobCounts, d: Delta): void => {
    jobs.lost += d.lost;
    jobs.remaining += d.remaining;
    jobs.buried += d.buried;
    jobs.completed += d.completed;
    jobs.duplicated += d.duplicated;
    jobs.unverified = (jobs.unverified ?? 0) + d.unverified;
  };
  for (const [group, d] of deltas) {
    apply(merged.jobs, d);
    const tube = first.tubes[Math.floor(group / classes)];
    const priority = first.classNames[group % classes];
    if (merged.byTube[tube]) apply(merged.byTube[tube].jobs, d);
    if (merged.byPriority[priority]) apply(merged.byPriority[priority].jobs, d);
  }
  merged.events.duplicateExecutions += crossReruns;

  // The server seen by N shards is one server.
  const longest = parts.reduce((a, b) => (b.load.series.tUs.length > a.load.series.tUs.length ? b : a));
  merged.queue = structuredClone(longest.queue);
  merged.load.series.commandsPerSecond = structuredClone(longest.load.series.commandsPerSecond);
  merged.events.ttrExpiries = Math.max(...parts.map((p) => p.events.ttrExpiries));

  const integrity = merged.load.integrity;
  const own = (f: (p: LoadResult) => number[] | undefined) => parts.flatMap((p) => f(p) ?? []);
  integrity.lostIds = [...own((p) => p.load.integrity.lostIds), ...lostIds].slice(0, MAX_LISTED_IDS);
  integrity.unverifiedIds = [...new Set([...unverifiedIds, ...own((p) => p.load.integrity.unverifiedIds)])]
    .filter((id) => !completedBy.has(id))
    .slice(0, MAX_LISTED_IDS);
  integrity.duplicatedIds = [...own((p) => p.load.integrity.duplicatedIds), ...duplicatedIds].slice(0, MAX_LISTED_IDS);
  integrity.unclaimedCompletions = unclaimed;
  const notes = integrity.notes ?? (integrity.notes = []);
  if (missing.length > 0) {
    const reason = `shard${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${first.count} missing from the merge: they may have completed these jobs`;
    if (missingUnverified > 0) integrity.unverifiedReason = reason;
    notes.push(`merged ${shards.length} of ${first.count} shards; ${reason}`);
  }
  if (unclaimed > 0) {
    notes.push(
      `${unclaimed} jobs completed by a shard are claimed by no shard as put and unfinished: delivered and deleted twice, ` +
        `or left in the tubes by an earlier run with the same run id${unansweredPuts > 0 ? `, or put by one of the ${unansweredPuts} unanswered puts` : ''}`,
    );
  }
  checkTubesOverUnion(parts, shards, merged, missing.length === 0);

  const summaries: ShardSummary[] = parts.map((p) => summaryOf(p));
  const details: ShardDetails = {
    runId: first.runId,
    count: first.count,
    tubes: first.tubes,
    classNames: first.classNames,
    startedAtMs: Math.min(...shards.map((s) => s.startedAtMs)),
    coordinated: shards.every((s) => s.coordinated),
    gone: 0,
    tubeJobsAtStart: first.tubeJobsAtStart,
    tubeJobsAtEnd: first.tubeJobsAtEnd,
    serverIsOurs: shards.every((s) => s.serverIsOurs),
    shards: summaries.sort((a, b) => a.index - b.index),
  };
  merged.load.shard = details;
  const measured: Omit<RunResult, 'slo' | 'pass'> = merged;
  const slo = slos ? evaluateSlos(measured, slos) : merged.slo;
  const pass = isSound(merged.jobs, merged.load) && (slos ? slo.every((s) => s.pass) : parts.every((p) => p.pass));
  return { ...merged, slo, pass };
}

/** The shard details of every part, checked to be distinct shards of one run. */
function checkShards(parts: readonly LoadResult[]): ShardDetails[] {
  if (parts.length === 0) throw new ShardMergeError('nothing to merge');
  const shards = parts.map((p, i) => {
    const s = p.load.shard;
    if (!s?.facts || s.index === undefined) throw new ShardMergeError(`result ${i + 1} is ${s ? 'already a merge of shards' : 'not a shard (no load.shard)'}: merge every shard's own result at once`);
    return s;
  });
  const first = shards[0];
  for (const s of shards) {
    if (s.runId !== first.runId) throw new ShardMergeError(`the shards are of different runs: ${first.runId} and ${s.runId}`);
    if (s.count !== first.count) throw new ShardMergeError(`run ${first.runId}: shards of ${first.count} and of ${s.count}`);
    if (s.tubes.join('\n') !== first.tubes.join('\n') || s.classNames.join('\n') !== first.classNames.join('\n')) {
      throw new ShardMergeError(`run ${first.runId}: the shards' tubes or priority classes differ (different scenarios?)`);
    }
  }
  const seen = new Set<number>();
  for (const s of shards) {
    if (seen.has(s.index!)) throw new ShardMergeError(`shard ${s.index}/${s.count} of run ${s.runId} is given twice`);
    seen.add(s.index!);
  }
  return shards;
}

/**
 * A coordinated run's tubes must hold what they held before plus what the shards left in them,
 * reconciled; shards that did not all start together and stop before auditing saw different
 * moments, so their counts are only noted.
 */
function checkTubesOverUnion(parts: readonly LoadResult[], shards: readonly ShardDetails[], merged: LoadResult, complete: boolean): void {
  const integrity = merged.load.integrity;
  const notes = integrity.notes ?? (integrity.notes = []);
  const same = (f: (s: ShardDetails) => Array<number | null>) => shards.every((s) => JSON.stringify(f(s)) === JSON.stringify(f(shards[0])));
  if (!complete || !shards.every((s) => s.coordinated) || !same((s) => s.tubeJobsAtStart) || !same((s) => s.tubeJobsAtEnd)) {
    notes.push('the tubes\' job counts were not checked across shards (they need every shard, started together and audited after all stopped)');
    return;
  }
  const unanswered = parts.reduce((n, p) => n + (p.load.unanswered?.puts ?? 0), 0);
  const { tubes } = shards[0];
  tubes.forEach((tube, t) => {
    const before = shards[0].tubeJobsAtStart[t];
    const held = shards[0].tubeJobsAtEnd[t];
    const b = merged.byTube[tube]?.jobs;
    if (before === null || held === null || b === undefined) return;
    const left = b.remaining + b.buried;
    const expected = before + left;
    if (held === expected) return;
    const text = `tube ${tube} holds ${held} jobs; the run left ${left} there${before > 0 ? ` and it held ${before} before` : ''}`;
    if (shards[0].serverIsOurs && !(unanswered > 0 && held > expected && held <= expected + unanswered)) (integrity.tubeMismatches ??= []).push(text);
    else notes.push(`${text} (${shards[0].serverIsOurs ? 'unanswered puts may have been stored' : 'a shared server: other clients may use it'})`);
  });
}

function summaryOf(p: LoadResult): ShardSummary {
  const harness = p.load.harness;
  const summary: ShardSummary = {
    index: p.load.shard!.index!,
    startedAtMs: p.load.shard!.startedAtMs,
    durationUs: p.durationUs,
    producingUs: p.load.producingUs,
    puts: p.jobs.put,
    completed: p.jobs.completed,
    loadgenCpuSeconds: p.load.cpu.loadgenSeconds,
    interrupted: p.load.interrupted,
    pass: p.pass,
  };
  if (harness) {
    summary.eventLoopLagUs = latencyStats(harness.eventLoopLagUs);
    if (harness.sendLagUs.count > 0) summary.sendLagUs = latencyStats(harness.sendLagUs);
  }
  return summary;
}
