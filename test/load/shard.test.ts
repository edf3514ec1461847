// Shard slicing (k6's execution segments): N shards of a scenario together are the scenario,
// deterministically, with remainders spread; and the run id every shard derives alike.
import { describe, expect, it } from 'vitest';
import { createArrivals } from '../../src/scenario/arrivals.js';
import { planLoad, PlanError } from '../../src/load/plan.js';
import { deriveRunId, parseShard, runTokenOf, shardPlan, shardSeed, shareOf, checkRunId } from '../../src/load/shard.js';
import { Random } from '../../src/scenario/random.js';
import { scenario } from './helpers.js';

const mixed = scenario(`
name: mixed
durationSeconds: 10
jobs: 1001
tubes: [a, b]
producers:
  - { tube: a, arrival: { process: constant, ratePerSecond: 30 }, jobs: 7 }
  - { tube: b, arrival: { process: poisson, ratePerSecond: 12 }, priority: { high: 1, low: 2 } }
  - { tube: b, arrival: { process: bursts, jobsPerBurst: 5, everySeconds: 2 } }
  - { tube: a, arrival: { process: schedule, steps: [{ fromSeconds: 0, ratePerSecond: 9 }, { fromSeconds: 5, ratePerSecond: 3 }] } }
workers:
  - { count: 5, watch: [a], service: { distribution: constant, seconds: 0 } }
  - { count: 1, watch: [b], service: { distribution: constant, seconds: 0 } }
  - { count: 1, watch: [a, b], service: { distribution: constant, seconds: 0 } }
kickers:
  - { tube: a, everySeconds: 1 }
  - { tube: b, everySeconds: 1 }
  - { tube: b, everySeconds: 2 }
load: { connections: 3 }
`);

const slices = (n: number) => Array.from({ length: n }, (_, index) => shardPlan(planLoad(mixed), { index, count: n }));

describe('--shard I/N', () => {
  it('parses I/N and says what it expected otherwise', () => {
    expect(parseShard('1/3')).toEqual({ index: 1, count: 3 });
    expect(() => parseShard('3/3')).toThrow(/I must be from 0 to 2/);
    expect(() => parseShard('0/0')).toThrow(/N must be from 1/);
    expect(() => parseShard('1-3')).toThrow(PlanError);
    expect(() => checkRunId('bad id')).toThrow(/--run-id/);
  });

  it('shares counts out so that they add up, remainders spread rather than piled on one shard', () => {
    for (const n of [1, 2, 3, 7]) {
      for (const total of [0, 1, 2, 5, 7, 1001]) {
        const shares = Array.from({ length: n }, (_, i) => shareOf(total, n, i));
        expect(shares.reduce((a, b) => a + b, 0)).toBe(total);
        expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
      }
    }
    for (const n of [2, 3, 4]) {
      const plans = slices(n);
      plans[0].scenario.workers.forEach((_, k) => {
        expect(plans.reduce((sum, p) => sum + p.scenario.workers[k].count, 0)).toBe(mixed.workers[k].count);
      });
      expect(plans.reduce((sum, p) => sum + p.jobsLimit, 0)).toBe(1001);
      expect(plans.reduce((sum, p) => sum + p.scenario.kickers.length, 0)).toBe(3);
      // Each pool of one worker lands on a different shard, not all on shard 0 or N-1.
      const owners = [1, 2].map((k) => plans.findIndex((p) => p.scenario.workers[k].count === 1));
      expect(owners[0]).not.toBe(owners[1]);
    }
  });

  it('divides rates; a constant producer keeps its phase, so the shards together put exactly its arrivals', () => {
    const whole = planLoad(mixed);
    const times = (spec: (typeof whole.producers)[number]['spec'], limit: number) => {
      const arrivals = createArrivals(spec.arrival, spec.startSeconds, new Random(1));
      const out: number[] = [];
      for (let t = arrivals.next(); t !== undefined && t < 10 && out.length < limit; t = arrivals.next()) out.push(Math.round(t * 1e6));
      return out;
    };
    for (const n of [2, 3]) {
      const plans = slices(n);
      const constant = plans.flatMap((p) => p.producers.filter((q) => q.index === 0));
      const union = constant.flatMap((q) => times(q.spec, q.spec.jobs!)).sort((a, b) => a - b);
      expect(union).toEqual(times(whole.producers[0].spec, 7));
      expect(constant.reduce((sum, q) => sum + q.spec.jobs!, 0)).toBe(7);
      for (const p of plans) {
        const poisson = p.producers.find((q) => q.index === 1)!.spec.arrival;
        expect(poisson).toMatchObject({ ratePerSecond: 12 / n });
        const schedule = p.producers.find((q) => q.index === 3)!.spec.arrival;
        expect(schedule.process === 'schedule' && schedule.steps.map((s) => s.ratePerSecond)).toEqual([9 / n, 3 / n]);
      }
      const burst = plans.flatMap((p) => p.producers.filter((q) => q.index === 2));
      expect(burst.reduce((sum, q) => sum + (q.spec.arrival.process === 'bursts' ? q.spec.arrival.jobsPerBurst : 0), 0)).toBe(5);
      // Groups (tube x priority class) are the whole scenario's in every shard: bodies mean the same everywhere.
      for (const p of plans) expect([p.tubes, p.classNames]).toEqual([whole.tubes, whole.classNames]);
      expect(plans.reduce((sum, p) => sum + (p.targetRatePerSecond ?? 0), 0)).toBeCloseTo(whole.targetRatePerSecond!, 2);
    }
  });

  it('leaves a plan of one shard as it is, and gives closed-loop connections out whole', () => {
    const whole = planLoad(mixed);
    expect(shardPlan(whole, { index: 0, count: 1 })).toBe(whole);
    const closed = planLoad(mixed, { pipeline: 8, connections: 3 });
    const conns = [0, 1, 2, 3].map((index) => {
      const p = shardPlan(closed, { index, count: 4 });
      return p.producers.length === 0 ? 0 : p.connections;
    });
    expect(conns.reduce((a, b) => a + b, 0)).toBe(3);
  });

  it('gives each shard its own random streams, the same for the same seed, and a lone run its seed', () => {
    expect(shardSeed(7, undefined)).toBe(7);
    expect(shardSeed(7, { index: 0, count: 1 })).toBe(7);
    const seeds = [0, 1, 2, 3].map((index) => shardSeed(7, { index, count: 4 }));
    expect(new Set(seeds).size).toBe(4);
    expect([0, 1, 2, 3].map((index) => shardSeed(7, { index, count: 4 }))).toEqual(seeds);
  });

  it('derives the same run id from the same scenario, seed and start, and a different one otherwise', () => {
    const id = deriveRunId(mixed, 1);
    expect(deriveRunId(scenario(JSON.stringify(mixed)), 1)).toBe(id);
    expect(deriveRunId(mixed, 2)).not.toBe(id);
    expect(deriveRunId({ ...mixed, durationSeconds: 11 }, 1)).not.toBe(id);
    expect(deriveRunId(mixed, 1, 1767225600000)).toBe(`${id}-1767225600000`);
    expect(checkRunId(id)).toBe(id);
    const token = runTokenOf(id);
    expect(token).toBeGreaterThan(0);
    expect(token).toBeLessThan(2 ** 31);
    expect(runTokenOf(id)).toBe(token);
    expect(runTokenOf(`${id}x`)).not.toBe(token);
  });
});
