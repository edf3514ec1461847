// One workload, two clocks: the same seed makes the same workload decisions in the simulator
// (virtual time) and in a real load run against the embedded server (real time). The decision
// streams are compared, not timings: each producer's puts (intended time, priority, delay, body
// size, TTR, group) in full, and each pool's decisions (service time, crash and its point,
// failure) over the prefix both runs consumed. Then the real run's outcome is held to the
// decisions it took, so a runner that drew its own numbers beside the stream would fail.
import { describe, expect, it } from 'vitest';
import { runLoad } from '../../src/load/run.js';
import { simulate } from '../../src/sim/run.js';
import type { PutDecision, WorkDecision, WorkloadObserver } from '../../src/workload/index.js';
import { scenario } from './helpers.js';

const SEED = 23;

// Each pool watches one tube, so decision k costs and means the same in both runs whatever order
// the reservations come in (src/workload/pools.ts); retries and crashes make a job take several.
const twoClocks = scenario(`
name: two-clocks
durationSeconds: 1.5
tubes: [a, b]
producers:
  - tube: a
    arrival: { process: poisson, ratePerSecond: 120 }
    priority: { high: 1, normal: 2 }
    bodyBytes: { minBytes: 60, maxBytes: 300 }
  - tube: b
    arrival: { process: constant, ratePerSecond: 40 }
    priority: low
    delaySeconds: { min: 0, max: 1 }
workers:
  - count: 3
    watch: [a]
    service: { distribution: exponential, meanSeconds: 0.004 }
    failure: { probability: 0.2, policy: retry, maxRetries: 1, backoffSeconds: 0 }
    crash: { probability: 0.05, mode: disconnect, restartSeconds: 0.05 }
  - count: 2
    watch: [b]
    service: { distribution: lognormal, meanSeconds: 0.003, sigma: 0.5 }
    failure: { probability: 0.1, policy: bury }
load: { drainSeconds: 10 }
`);

type Put = [index: number, atUs: number, pri: number, delaySeconds: number, bodyBytes: number, ttrSeconds: number, group: number];
type Work = [index: number, tube: number, serviceUs: number, crashes: boolean, workUs: number, fails: boolean];

function recorder(): { observer: WorkloadObserver; puts: Put[][]; work: Work[][] } {
  const puts: Put[][] = [[], []];
  const work: Work[][] = [[], []];
  const observer: WorkloadObserver = {
    put: (p, d: Readonly<PutDecision>) => puts[p].push([d.index, d.atUs, d.pri, d.delaySeconds, d.bodyBytes, d.ttrSeconds, d.group]),
    work: (pool, tube, d: Readonly<WorkDecision>) => work[pool].push([d.index, tube, d.serviceUs, d.crashes, d.workUs, d.fails]),
  };
  return { observer, puts, work };
}

describe('the same seed, sim and load', () => {
  it('makes the same workload decisions under both clocks, and the real run acts on the ones it took', async () => {
    const sim = recorder();
    simulate(twoClocks, SEED, undefined, { observer: sim.observer });
    const load = recorder();
    const result = await runLoad(twoClocks, { target: { kind: 'embedded' }, seed: SEED, observer: load.observer });
    expect(result.load.errors).toEqual([]);

    // Producers decide alone: every put of the real run is the simulator's, in the same order.
    for (const p of [0, 1]) {
      expect(load.puts[p].length).toBeGreaterThan(50);
      expect(load.puts[p]).toEqual(sim.puts[p]);
    }
    // Pools: decision k for the k-th reservation, in both; as far as both runs went.
    for (const pool of [0, 1]) {
      const common = Math.min(load.work[pool].length, sim.work[pool].length);
      expect(common).toBeGreaterThan(50);
      expect(load.work[pool].map((w) => w[0])).toEqual(load.work[pool].map((_, k) => k));
      expect(load.work[pool].slice(0, common)).toEqual(sim.work[pool].slice(0, common));
    }

    // What the server got and the workers did is what the decisions said.
    const count = <T>(list: T[], keep: (x: T) => boolean) => list.filter(keep).length;
    expect(result.jobs.put).toBe(load.puts[0].length + load.puts[1].length);
    expect(result.byPriority.high.jobs.put).toBe(count(load.puts[0], (d) => d[2] === 256));
    expect(result.byPriority.low.jobs.put).toBe(load.puts[1].length);
    expect(result.events.crashes).toBe(count(load.work[0], (w) => w[3]));
    // Pool a: a failed job is released once, then buried at its second failure.
    expect(result.events.retries + result.byTube.a.jobs.buried).toBe(count(load.work[0], (w) => w[5]));
    expect(result.byTube.b.jobs.buried).toBe(count(load.work[1], (w) => w[5]));
    expect(result.events.retries).toBeGreaterThan(0);
    expect(result.jobs.lost).toBe(0);
    expect(result.jobs.completed + result.jobs.buried).toBe(result.jobs.put);
  }, 60_000);
});
