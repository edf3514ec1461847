// One load run's measurements, laid out by the one result assembler (src/metrics/assemble.ts) as
// the simulator's are, plus the `load` section: what only a real run has (the audit, CPU, the
// harness, HTTP, shards).
import type { HistogramSummary } from '../metrics/histogram.js';
import { assembleRunResult, breakdowns, eventCounts, perSecond, round3 } from '../metrics/assemble.js';
import { repeatSampleOf } from '../metrics/load-merge.js';
import { encodeIds } from '../metrics/id-list.js';
import type { LoadDetails, LoadResult, RepeatSample, ShardDetails, ShardFacts } from '../metrics/load-result.js';
import { MACHINE_BUSY_WARNING } from '../metrics/load-harness.js';
import type { RunResult } from '../metrics/result.js';
import { isSound } from '../metrics/load-verdict.js';
import type { Fates } from './accounting.js';
import type { LoadPlan } from './plan.js';
import type { Sampler } from './sampler.js';
import type { JobTracker } from './tracker.js';

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
  const queueByTube: RunResult['queue']['byTube'] = {};
  plan.tubes.forEach((tube, t) => (queueByTube[tube] = sampler.byTube[t].snapshot()));
  const groups = breakdowns(tracker.groups, plan.tubes, plan.classNames, fates);
  const measured = assembleRunResult({
    kind: 'load',
    scenario: plan.scenario,
    seed: facts.seed,
    durationUs,
    drainUs: (sampler.drainedUs ?? durationUs) - sampler.peakBacklogUs,
    breakdowns: groups,
    events: eventCounts(tracker, facts.ttrExpiries),
    producingUs: facts.producingUs,
    completedWhileProducing: facts.completedWhileProducing,
    queue: { all: sampler.all.snapshot(), byTube: queueByTube },
  });
  const httpUs: HistogramSummary | undefined = facts.details.http?.latencyUs;
  const load: LoadDetails = {
    ...facts.details,
    mode: plan.mode,
    targetRatePerSecond: plan.targetRatePerSecond,
    achievedRatePerSecond: perSecond(measured.jobs.put, facts.producingUs),
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
    repeats: [sampleOf(measured, httpUs, facts.details.harness?.warnings ?? [])],
  };
  if (facts.shard) load.shard = facts.shard;
  return { ...measured, kind: 'load', pass: isSound(measured.jobs, load) && measured.pass, load };
}

/** The run as compare's sample, marked when other processes held the machine's cores. */
function sampleOf(measured: Parameters<typeof repeatSampleOf>[0], httpUs: Parameters<typeof repeatSampleOf>[1], warnings: readonly string[]): RepeatSample {
  const sample = repeatSampleOf(measured, httpUs);
  if (warnings.some((w) => w.startsWith(MACHINE_BUSY_WARNING))) sample.machineBusy = true;
  return sample;
}
