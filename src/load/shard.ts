// Shards: one scenario run by N load generators at once (processes, pods, machines), each a
// deterministic slice, so that the N slices together are the scenario. The idea of k6's
// execution segments: shard I of N takes the arrivals, workers and jobs whose position k has
// k ≡ I (mod N), with the position rotated by the item's index so that remainders spread over the
// shards instead of piling onto the last ones. Concretely, for shard I of N:
//  - every shard draws the whole run's decision streams (src/workload) with the run's seed, and
//    puts decisions k ≡ position (mod N) of each producer's stream (src/workload/slice.ts): the N
//    shards together put exactly the jobs a lone run of the same seed puts, at the same intended
//    times with the same priorities, delays and bodies, whatever the arrival process. A shard's
//    spec shows its share (rates divided, the producer's `jobs` shared out) for the report and for
//    HTTP mode, which paces a constant rate itself; a producer whose share of jobs is 0 is left out;
//  - counts are shared out: a pool of 5 workers over 2 shards is 3 + 2; the scenario's `jobs`,
//    closed-loop connections likewise (open loop keeps at least one connection per producer);
//    kicker k runs in shard k mod N;
//  - a pool's decisions are shared by the shards that have some of its workers, the same way:
//    with its workers over m shards, the one at position q takes decisions q, q + m, q + 2m ...
//    of the pool's stream (each a decision of the run, though not the lone run's prefix, since
//    the shards consume at their own pace); a pool on one shard keeps its whole stream;
//  - tubes, priority classes and so the metrics groups are those of the whole scenario, so a
//    job's group in its body means the same in every shard;
//  - every shard's jobs carry the run's token, from --run-id or derived from the scenario and the
//    seed (and --start-at), so that each shard's workers take a sibling's job as the run's own.
import type { ArrivalSpec, ProducerSpec, Scenario } from '../scenario/schema.js';
import type { StreamSlice } from '../workload/index.js';
import { PlanError, type LoadPlan, type ProducerPlan } from './plan.js';

export interface ShardSpec {
  /** 0-based. */
  index: number;
  count: number;
}

/** The most shards a run may have: every shard is a process with connections of its own. */
export const MAX_SHARDS = 1024;

/** `I/N` with 0 <= I < N; throws PlanError naming what was expected. */
export function parseShard(text: string): ShardSpec {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) throw new PlanError(`--shard must be I/N (shard I of N, I from 0 to N-1), got '${text}'`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || count > MAX_SHARDS) throw new PlanError(`--shard ${text}: N must be from 1 to ${MAX_SHARDS}`);
  if (index >= count) throw new PlanError(`--shard ${text}: I must be from 0 to ${count - 1} (shards count from 0)`);
  return { index, count };
}

/** How many of the positions 0 .. total-1 are ≡ position (mod count): position's share of total. */
export function shareOf(total: number, count: number, position: number): number {
  return total <= position ? 0 : Math.floor((total - position + count - 1) / count);
}

/** Shard `index`'s position for item `item`: rotated, so that remainders spread over the shards. */
export function positionOf(shard: ShardSpec, item: number): number {
  return (shard.index + item) % shard.count;
}

/** Shard I's slice of a whole scenario's plan (see the file comment). Shard 0 of 1 is the plan itself. */
export function shardPlan(plan: LoadPlan, shard: ShardSpec): LoadPlan {
  if (shard.count === 1) return plan;
  const n = shard.count;
  const closed = plan.mode === 'closed';
  const connections = closed ? shareOf(plan.connections, n, shard.index) : Math.max(1, shareOf(plan.connections, n, shard.index));
  const producers: ProducerPlan[] = [];
  const specs: ProducerSpec[] = [];
  if (connections > 0) {
    for (const p of plan.producers) {
      const position = positionOf(shard, p.index);
      const spec = sliceProducer(p.spec, n, position);
      if (spec === undefined) continue;
      producers.push({ ...p, spec, slice: { count: n, position } });
      specs.push(spec);
    }
  }
  const workers = plan.scenario.workers.map((w, k) => ({ ...w, count: shareOf(w.count, n, positionOf(shard, k)) }));
  const poolSlices = plan.scenario.workers.map((w, k): StreamSlice => poolSlice(w.count, n, positionOf(shard, k)));
  const kickers = plan.scenario.kickers.filter((_, k) => k % n === shard.index);
  const http = plan.scenario.load.http;
  const scenario: Scenario = {
    ...plan.scenario,
    jobs: plan.scenario.jobs === undefined ? undefined : shareOf(plan.scenario.jobs, n, shard.index),
    producers: specs,
    workers,
    kickers,
    load: { ...plan.scenario.load, http: http === undefined ? undefined : { connections: Math.max(1, shareOf(http.connections, n, shard.index)) } },
  };
  const jobsLimit = Number.isFinite(plan.jobsLimit) ? shareOf(plan.jobsLimit, n, shard.index) : plan.jobsLimit;
  return {
    ...plan,
    scenario,
    poolSlices,
    producers,
    connections: Math.max(1, connections),
    jobsLimit,
    targetRatePerSecond: plan.targetRatePerSecond === null ? null : Math.round((plan.targetRatePerSecond / n) * 1000) / 1000,
  };
}

/**
 * A producer's spec at `position` of n: its share of the job count and of the rate, for HTTP mode
 * and the report (the puts themselves are the stream's slice); undefined when its share of the
 * jobs is none. Bursts keep their spec: the stream shares each burst's jobs out in turn.
 */
function sliceProducer(spec: ProducerSpec, n: number, position: number): ProducerSpec | undefined {
  let jobs = spec.jobs;
  if (jobs !== undefined) {
    jobs = shareOf(jobs, n, position);
    if (jobs === 0) return undefined;
  }
  return { ...spec, jobs, arrival: sliceArrival(spec.arrival, n) };
}

function sliceArrival(arrival: ArrivalSpec, n: number): ArrivalSpec {
  switch (arrival.process) {
    case 'constant':
    case 'poisson':
      return { ...arrival, ratePerSecond: arrival.ratePerSecond / n };
    case 'schedule':
      return { ...arrival, steps: arrival.steps.map((s) => ({ ...s, ratePerSecond: s.ratePerSecond / n })) };
    case 'bursts':
      return arrival;
  }
}

/**
 * Which decisions of a pool of `count` workers the shard at `position` of n takes: the pool's
 * workers sit on the first min(n, count) positions, which share its stream among themselves.
 */
export function poolSlice(count: number, n: number, position: number): StreamSlice {
  const holders = Math.min(n, count);
  return position < holders ? { count: holders, position } : { count: 1, position: 0 };
}

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A run id as the user gave it, checked: it names tubes and travels in results. */
export function checkRunId(runId: string): string {
  if (!RUN_ID.test(runId)) throw new PlanError(`--run-id must be 1-64 of A-Z a-z 0-9 . _ - (starting with a letter or digit), got '${runId}'`);
  return runId;
}

/**
 * The run id shards agree on without being told: the scenario's name, the seed, a hash of the
 * whole scenario (so an edited file is another run) and the start time when there is one. The
 * same command run twice against one server gets the same id: give --run-id (or --start-at)
 * when an earlier run may have left jobs in the tubes.
 */
export function deriveRunId(scenario: Scenario, seed: number, startAtMs?: number): string {
  const slug = scenario.name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 24) || 'run';
  const hash = fnv1a(JSON.stringify(scenario)).toString(16).padStart(8, '0');
  return `${slug}-${seed}-${hash}${startAtMs === undefined ? '' : `-${startAtMs}`}`;
}

/** The body token of a run id: a positive integer below 2^31 (body.ts). */
export function runTokenOf(runId: string): number {
  return fnv1a(runId) % 0x7fffffff || 1;
}

/** FNV-1a, 32 bits: stable across processes and machines (the token must be). */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
