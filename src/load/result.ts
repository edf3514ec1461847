// One load run's measurements, laid out in the simulator's result schema plus the `load` section.
import type { HistogramSummary } from '../metrics/histogram.js';
import { LatencyHistogram } from '../metrics/histogram.js';
import { repeatSampleOf } from '../metrics/load-merge.js';
import { encodeIds } from '../metrics/id-list.js';
import type { LoadDetails, LoadResult, ShardDetails, ShardFacts } from '../metrics/load-result.js';
import { RESULT_VERSION, sumJobCounts, type Breakdown, type RunResult } from '../metrics/result.js';
import { isSound } from '../metrics/load-verdict.js';
import { evaluateSlos } from '../metrics/slo.js';
import type { Fates } from './accounting.js';
import type { LoadPlan } from './plan.js';
import type { Sampler } from './sampler.js';
import type { GroupStats, JobTracker } from './tracker.js';

export interface RunFacts {
  plan: LoadPlan;
  seed: number;
  tracker: JobTracker;
  fates: Fates;
  sampler: Sampler;
  durationUs: number;
  /** How long the producers were putting. */
  producingUs: number;
  /** Jobs completed by the end of the producing phase. */
  completedWhileProducing: number;
  ttrExpiries: number;
  serverCpuSeconds: number | null;
  loadgenCpuSeconds: number;
  details: Pick<LoadDetails, 'target' | 'driver' | 'producerConnections' | 'workerConnections' | 'interrupted' | 'errors' | 'http' | 'unanswered' | 'harness'>;
  /** One shard of a sharded run: its details and facts (shardDetailsOf). */
  shard?: ShardDetails;
}

/** What a shard's result says about the run beyond its own figures: see ShardDetails. */
export function shardDetailsOf(
  tracker: JobTracker,
  fates: Fates,
  run: Pick<ShardDetails, 'runId' | 'index' | 'count' | 'tubes' | 'classNames' | 'startedAtMs' | 'coordinated' | 'tubeJobsAtStart' | 'serverIsOurs'>,
): ShardDetails {
  const known = tracker.shardFacts();
  const byId = fates.byId;
  const unfinished: ShardFacts['unfinished'] = [];
  if (byId) {
    tracker.groups.forEach((_, group) => {
      const lists = [byId.gone[group], byId.buried[group], byId.remaining[group], byId.unverified[group]];
      if (lists.every((l) => l.length === 0)) return;
      unfinished.push({ group, gone: encodeIds(lists[0]), buried: encodeIds(lists[1]), remaining: encodeIds(lists[2]), unverified: encodeIds(lists[3]) });
    });
  }
  const byGroup = (lists: number[][]) => lists.flatMap((ids, group) => (ids.length === 0 ? [] : [{ group, ids: encodeIds(ids) }]));
  return {
    ...run,
    gone: (fates.gone ?? []).reduce((a, b) => a + b, 0),
    tubeJobsAtEnd: fates.tubeJobsAtEnd ?? run.tubes.map(() => null),
    facts: {
      unfinished,
      completedForSiblings: byGroup(known.completedForSiblings),
      buriedForSiblings: byGroup(known.buriedForSiblings),
      dropped: byGroup(known.dropped),
      reran: byGroup(known.reran),
    },
  };
}

export function buildResult(facts: RunFacts): LoadResult {
  const { plan, tracker, fates, sampler, durationUs } = facts;
  const breakdown = (members: readonly GroupStats[]): Breakdown => {
    const merged = { putUs: new LatencyHistogram(), queueWaitUs: new LatencyHistogram(), serviceUs: new LatencyHistogram(), endToEndUs: new LatencyHistogram() };
    for (const g of members) {
      for (const key of ['putUs', 'queueWaitUs', 'serviceUs', 'endToEndUs'] as const) merged[key].add(g[key]);
    }
    return {
      jobs: sumJobCounts(members, tracker.groups, fates),
      latency: {
        queueWaitUs: merged.queueWaitUs.summary(),
        serviceUs: merged.serviceUs.summary(),
        endToEndUs: merged.endToEndUs.summary(),
        putUs: merged.putUs.summary(),
      },
    };
  };
  const all = breakdown(tracker.groups);
  const byTube: Record<string, Breakdown> = {};
  plan.tubes.forEach((tube, t) => (byTube[tube] = breakdown(tracker.groups.filter((g) => g.tube === t))));
  const byPriority: Record<string, Breakdown> = {};
  plan.classNames.forEach((name, c) => (byPriority[name] = breakdown(tracker.groups.filter((g) => g.priorityClass === c))));
  const queueByTube: RunResult['queue']['byTube'] = {};
  plan.tubes.forEach((tube, t) => (queueByTube[tube] = sampler.byTube[t].snapshot()));

  const perSecond = (n: number, us: number) => (us <= 0 ? 0 : round3((n * 1e6) / us));
  const measured: Omit<RunResult, 'slo' | 'pass'> = {
    kind: 'load',
    version: RESULT_VERSION,
    scenario: plan.scenario.name,
    seed: facts.seed,
    clock: 'real',
    durationUs: Math.round(durationUs),
    drainUs: Math.round(Math.max(0, (sampler.drainedUs ?? durationUs) - sampler.peakBacklogUs)),
    jobs: all.jobs,
    events: {
      retries: tracker.retries,
      ttrExpiries: facts.ttrExpiries,
      duplicateExecutions: tracker.duplicateExecutions,
      lateCompletions: tracker.lateCompletions,
      crashes: tracker.crashes,
      kicked: tracker.kicked,
    },
    // Both rates over the producing window: the drain's length swings with retry backoff.
    throughput: { jobsPerSecond: perSecond(facts.completedWhileProducing, facts.producingUs), putsPerSecond: perSecond(all.jobs.put, facts.producingUs) },
    latency: all.latency,
    byTube,
    byPriority,
    queue: { all: sampler.all.snapshot(), byTube: queueByTube },
  };
  const httpUs: HistogramSummary | undefined = facts.details.http?.latencyUs;
  const load: LoadDetails = {
    ...facts.details,
    mode: plan.mode,
    targetRatePerSecond: plan.targetRatePerSecond,
    achievedRatePerSecond: perSecond(all.jobs.put, facts.producingUs),
    producingUs: Math.round(facts.producingUs),
    completedWhileProducing: facts.completedWhileProducing,
    pipeline: plan.mode === 'closed' ? plan.pipeline : 1,
    cpu: {
      serverSeconds: facts.serverCpuSeconds === null ? null : round3(facts.serverCpuSeconds),
      serverPercent: facts.serverCpuSeconds === null ? null : round3(perSecond(facts.serverCpuSeconds * 100, durationUs)),
      loadgenSeconds: round3(facts.loadgenCpuSeconds),
      loadgenPercent: round3(perSecond(facts.loadgenCpuSeconds * 100, durationUs)),
    },
    series: sampler.snapshot(),
    integrity: {
      lostIds: fates.lostIds,
      duplicatedIds: [...tracker.duplicatedIds],
      duplicateDeliveries: tracker.duplicateDeliveries,
      foreignJobs: tracker.foreignJobs,
      idCollisions: tracker.collisionLost.reduce((a, b) => a + b, 0),
      unverifiedIds: fates.unverifiedIds,
      unverifiedReason: fates.unverifiedReason,
      undeleted: fates.undeleted,
      undeletedIds: fates.undeletedIds,
      undeletedByState: fates.undeletedByState,
      completedChecked: fates.completedChecked,
      completedTotal: fates.completedTotal,
      tubeMismatches: fates.tubeMismatches,
      notes: fates.notes,
    },
    repeats: [repeatSampleOf(measured, httpUs)],
  };
  if (facts.shard) load.shard = facts.shard;
  const slo = evaluateSlos(measured, plan.scenario.slos);
  return { ...measured, kind: 'load', slo, pass: isSound(measured.jobs, load) && slo.every((s) => s.pass), load };
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
