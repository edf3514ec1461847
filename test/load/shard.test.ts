// Shard slicing (k6's execution segments): N shards of a scenario together are the scenario,
// deterministically, with remainders spread; and the run id every shard derives alike.
import { describe, expect, it } from 'vitest';
import { planLoad, PlanError, type LoadPlan } from '../../src/load/plan.js';
import { deriveRunId, parseShard, poolSlice, runTokenOf, shardPlan, shareOf, checkRunId } from '../../src/load/shard.js';
import { poolStream, producerStream, type PutDecision, type WorkDecision } from '../../src/workload/index.js';
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

  it("puts, over N shards, exactly the lone run's decisions of the same seed, every arrival process alike", () => {
    const whole = planLoad(mixed);
    /** What a plan's producer streams put, as the producers interpret them (seed 9). */
    const putsOf = (plan: LoadPlan, producer: number): PutDecision[] => {
      const p = plan.producers.find((q) => q.index === producer);
      if (p === undefined) return [];
      const stream = producerStream(plan.workload, producer, 9, { slice: p.slice });
      const out: PutDecision[] = [];
      for (let d = stream.next(); d !== undefined; d = stream.next()) out.push(d);
      return out;
    };
    for (const n of [2, 3]) {
      const plans = slices(n);
      for (let producer = 0; producer < mixed.producers.length; producer++) {
        const lone = putsOf(whole, producer);
        expect(lone.length).toBeGreaterThan(6);
        const union = plans.flatMap((p) => putsOf(p, producer)).sort((a, b) => a.index - b.index);
        expect(union).toEqual(lone);
      }
      // The specs show each shard's share of the rate and of a producer's jobs.
      for (const p of plans) {
        const poisson = p.producers.find((q) => q.index === 1)!.spec.arrival;
        expect(poisson).toMatchObject({ ratePerSecond: 12 / n });
        const schedule = p.producers.find((q) => q.index === 3)!.spec.arrival;
        expect(schedule.process === 'schedule' && schedule.steps.map((s) => s.ratePerSecond)).toEqual([9 / n, 3 / n]);
      }
      expect(plans.flatMap((p) => p.producers.filter((q) => q.index === 0)).reduce((sum, q) => sum + q.spec.jobs!, 0)).toBe(7);
      // Groups (tube x priority class) are the whole scenario's in every shard: bodies mean the same everywhere.
      for (const p of plans) expect([p.tubes, p.classNames]).toEqual([whole.tubes, whole.classNames]);
      expect(plans.reduce((sum, p) => sum + (p.targetRatePerSecond ?? 0), 0)).toBeCloseTo(whole.targetRatePerSecond!, 2);
    }
  });

  it("gives a pool's decisions to the shards holding its workers, each a decision of the run's stream", () => {
    // A pool of one worker stays on one shard with its whole stream; five workers over 2 shards share it.
    expect([0, 1, 2].map((position) => poolSlice(1, 3, position))).toEqual([
      { count: 1, position: 0 },
      { count: 1, position: 0 },
      { count: 1, position: 0 },
    ]);
    for (const n of [2, 3]) {
      const plans = slices(n);
      const lone = poolStream(planLoad(mixed).workload, 0, 4);
      const run: WorkDecision[] = Array.from({ length: 90 }, () => ({ ...lone.next(0) }));
      const seen = new Set<number>();
      for (const p of plans) {
        if (p.scenario.workers[0].count === 0) continue;
        const stream = poolStream(p.workload, 0, 4, { slice: p.poolSlices[0] });
        for (let j = 0; j < 90 / n; j++) {
          const d = stream.next(0);
          expect(d).toEqual(run[d.index]);
          expect(seen.has(d.index)).toBe(false);
          seen.add(d.index);
        }
      }
      expect(seen.size).toBe(90);
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
