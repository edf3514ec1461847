// Reconciling shards by job id (src/metrics/shard-merge.ts), on hand-made shard results: what a
// job's owner saw at its audit is corrected by what its siblings did, and nothing is called
// lost on a guess.
import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../src/metrics/histogram.js';
import { encodeIds } from '../../src/metrics/id-list.js';
import { loadResultSchema, type LoadResult, type ShardFacts } from '../../src/metrics/load-result.js';
import type { JobCounts } from '../../src/metrics/result.js';
import { mergeShards, ShardMergeError } from '../../src/metrics/shard-merge.js';

interface Ids {
  gone?: number[];
  buried?: number[];
  remaining?: number[];
  unverified?: number[];
  completedForSiblings?: number[];
  buriedForSiblings?: number[];
  dropped?: number[];
  reran?: number[];
}

const empty = () => new LatencyHistogram().summary();
const latency = () => ({ queueWaitUs: empty(), serviceUs: empty(), endToEndUs: empty(), putUs: empty() });
const queue = () => ({ intervalUs: 1e6, tUs: [], ready: [], reserved: [], delayed: [], buried: [] });

/** Shard `index` of `count` of run r1, one tube t and one class normal (group 0). */
function shard(index: number, count: number, jobs: Partial<JobCounts>, ids: Ids, extra: { runId?: string; coordinated?: boolean; atStart?: number; atEnd?: number } = {}): LoadResult {
  const counts: JobCounts = { put: 0, completed: 0, buried: 0, lost: 0, duplicated: 0, remaining: 0, unverified: 0, ...jobs };
  const group = (list?: number[]) => (list && list.length > 0 ? [{ group: 0, ids: encodeIds(list) }] : []);
  const facts: ShardFacts = {
    unfinished: [{ group: 0, gone: encodeIds(ids.gone ?? []), buried: encodeIds(ids.buried ?? []), remaining: encodeIds(ids.remaining ?? []), unverified: encodeIds(ids.unverified ?? []) }],
    completedForSiblings: group(ids.completedForSiblings),
    buriedForSiblings: group(ids.buriedForSiblings),
    dropped: group(ids.dropped),
    reran: group(ids.reran),
  };
  const breakdown = () => ({ jobs: { ...counts }, latency: latency() });
  const result = {
    kind: 'load',
    version: 1,
    scenario: 's',
    seed: 1,
    clock: 'real',
    durationUs: 1e6,
    drainUs: 0,
    jobs: counts,
    events: { retries: 0, ttrExpiries: 0, duplicateExecutions: 0, lateCompletions: 0, crashes: 0, kicked: 0 },
    throughput: { jobsPerSecond: 0, putsPerSecond: 0 },
    latency: latency(),
    byTube: { t: breakdown() },
    byPriority: { normal: breakdown() },
    queue: { all: queue(), byTube: { t: queue() } },
    slo: [],
    pass: true,
    load: {
      target: '127.0.0.1:1',
      driver: 'beanlab',
      mode: 'open',
      targetRatePerSecond: 1,
      achievedRatePerSecond: 1,
      producingUs: 1e6,
      producerConnections: 1,
      workerConnections: 1,
      pipeline: 1,
      interrupted: false,
      errors: [],
      cpu: { serverSeconds: 0, serverPercent: 0, loadgenSeconds: 0.1, loadgenPercent: 10 },
      series: { intervalUs: 1e6, tUs: [], putsPerSecond: [], completedPerSecond: [], serverCpuPercent: [], loadgenCpuPercent: [], commandsPerSecond: {} },
      integrity: { lostIds: [], duplicatedIds: [], duplicateDeliveries: 0, foreignJobs: 0, unverifiedIds: ids.unverified ?? [], unverifiedReason: null },
      repeats: [],
      shard: {
        runId: extra.runId ?? 'r1',
        count,
        index,
        tubes: ['t'],
        classNames: ['normal'],
        startedAtMs: 1e12 + index,
        coordinated: extra.coordinated ?? false,
        gone: ids.gone?.length ?? 0,
        tubeJobsAtStart: [extra.atStart ?? 0],
        tubeJobsAtEnd: [extra.atEnd ?? 0],
        serverIsOurs: true,
        facts,
      },
    },
  };
  return loadResultSchema.parse(result);
}

describe('merging the shards of a run', () => {
  it('counts a job put by one shard and completed by another as completed, and only an uncompleted gone job as lost', () => {
    // Shard 0 put 1-6 and completed 2 of them itself (5, 6); of the rest, shard 1 completed 1
    // (gone at 0's audit) and 3 (still there at 0's audit), buried 4 (ready at 0's audit); 2 is gone
    // and nobody completed it. Shard 1 put 11-12 and completed both, plus 1 and 3 for shard 0.
    const s0 = shard(0, 2, { put: 6, completed: 2, remaining: 2 }, { gone: [1, 2], remaining: [3, 4] });
    const s1 = shard(1, 2, { put: 2, completed: 4 }, { completedForSiblings: [1, 3], buriedForSiblings: [4] });
    const merged = mergeShards([s0, s1]);
    expect(merged.jobs).toMatchObject({ put: 8, completed: 6, lost: 1, buried: 1, remaining: 0, unverified: 0 });
    expect(merged.byTube.t.jobs).toMatchObject({ lost: 1, buried: 1, remaining: 0 });
    expect(merged.byPriority.normal.jobs.lost).toBe(1);
    expect(merged.load.integrity.lostIds).toEqual([2]);
    expect(merged.pass).toBe(false);
    expect(merged.load.shard).toMatchObject({ runId: 'r1', count: 2, gone: 0 });
    expect(merged.load.shard!.shards!.map((s) => s.index)).toEqual([0, 1]);
    expect(merged.load.shard!.facts).toBeUndefined();
    // Each shard alone passed: neither could know.
    expect([s0.pass, s1.pass, s0.jobs.lost]).toEqual([true, true, 0]);
  });

  it('passes when every gone job was completed by a sibling', () => {
    const merged = mergeShards([shard(0, 2, { put: 2, completed: 0 }, { gone: [1, 2] }), shard(1, 2, { put: 0, completed: 2 }, { completedForSiblings: [1, 2] })]);
    expect(merged.jobs).toMatchObject({ put: 2, completed: 2, lost: 0 });
    expect(merged.pass).toBe(true);
  });

  it('calls a gone job unverified, not lost, when a shard that may have completed it is missing', () => {
    const merged = mergeShards([shard(0, 3, { put: 2 }, { gone: [1, 2] }), shard(2, 3, { completed: 1 }, { completedForSiblings: [1] })]);
    expect(merged.jobs).toMatchObject({ lost: 0, unverified: 1, completed: 1 });
    expect(merged.load.integrity.unverifiedIds).toEqual([2]);
    expect(merged.load.integrity.unverifiedReason).toMatch(/shard 1 of 3 missing/);
    expect(merged.pass).toBe(false);
  });

  it('fails a job completed by two shards, and counts it completed once', () => {
    const merged = mergeShards([shard(0, 3, { put: 1 }, { gone: [7] }), shard(1, 3, { completed: 1 }, { completedForSiblings: [7] }), shard(2, 3, { completed: 1 }, { completedForSiblings: [7] })]);
    expect(merged.jobs.completed).toBe(1);
    expect(merged.load.integrity.unclaimedCompletions).toBe(1);
    expect(merged.load.integrity.duplicatedIds).toContain(7);
    expect(merged.pass).toBe(false);
  });

  it('fails a completion no shard claims (its owner completed it too, or an earlier run left it)', () => {
    const merged = mergeShards([shard(0, 2, { put: 1, completed: 1 }, {}), shard(1, 2, { completed: 1 }, { completedForSiblings: [9] })]);
    expect(merged.load.integrity.unclaimedCompletions).toBe(1);
    expect(merged.load.integrity.notes!.join('\n')).toMatch(/earlier run with the same run id/);
    expect(merged.pass).toBe(false);
  });

  it('counts work dropped by one shard and finished by another as run more than once, and a job re-run in two shards once', () => {
    const merged = mergeShards([
      shard(0, 2, { put: 2, duplicated: 1 }, { gone: [1, 2], dropped: [1], reran: [2] }),
      shard(1, 2, { completed: 2, duplicated: 1 }, { completedForSiblings: [1, 2], reran: [2] }),
    ]);
    expect(merged.jobs.duplicated).toBe(2);
    expect(merged.events.duplicateExecutions).toBe(1);
    expect(merged.pass).toBe(true);
  });

  it('takes a run of one shard as a lone run: its own audit is the verdict, a dropped job left queued ran once', () => {
    const merged = mergeShards([shard(0, 1, { put: 2, completed: 1, remaining: 1 }, { dropped: [1] })]);
    expect(merged.jobs).toMatchObject({ put: 2, completed: 1, remaining: 1, duplicated: 0, lost: 0 });
    expect(merged.events.duplicateExecutions).toBe(0);
  });

  it("checks a coordinated run's tubes over the union: what they held before plus what the shards left", () => {
    const parts = (atEnd: number) => [
      shard(0, 2, { put: 3, remaining: 2 }, { gone: [1], remaining: [2, 3] }, { coordinated: true, atStart: 5, atEnd }),
      shard(1, 2, { put: 1, completed: 1, remaining: 1 }, { remaining: [12], completedForSiblings: [1] }, { coordinated: true, atStart: 5, atEnd }),
    ];
    const sound = mergeShards(parts(8));
    expect(sound.load.integrity.tubeMismatches).toEqual([]);
    expect(sound.pass).toBe(true);
    const off = mergeShards(parts(9));
    expect(off.load.integrity.tubeMismatches).toEqual(['tube t holds 9 jobs; the run left 3 there and it held 5 before']);
    expect(off.pass).toBe(false);
    const uncoordinated = mergeShards([shard(0, 1, { put: 1, remaining: 1 }, { remaining: [1] }, { atEnd: 99 })]);
    expect(uncoordinated.load.integrity.tubeMismatches).toEqual([]);
    expect(uncoordinated.load.integrity.notes!.join('\n')).toMatch(/not checked across shards/);
  });

  it('refuses shards of different runs, a shard given twice, and a result already merged', () => {
    const s0 = shard(0, 2, {}, {});
    expect(() => mergeShards([s0, shard(1, 2, {}, {}, { runId: 'r2' })])).toThrow(/different runs/);
    expect(() => mergeShards([s0, shard(0, 2, {}, {})])).toThrow(/given twice/);
    expect(() => mergeShards([s0, shard(1, 3, {}, {})])).toThrow(ShardMergeError);
    const merged = mergeShards([s0, shard(1, 2, {}, {})]);
    expect(() => mergeShards([merged])).toThrow(/already a merge/);
  });
});
