// The simulator held to queueing theory. Each case's job count is sized from the spread of the
// mean wait across seeds (measured at 200k jobs: relative sd 1.8% for M/M/2 at 0.5, 2.7% for
// M/M/10 at 0.8, 4.3% for M/M/3 at 0.9, 2.2% for M/D/1 at 0.8), so the 3% tolerance is about
// three standard errors or more. The first 2% of the run is warm-up (an empty system is not steady state).
import { describe, expect, it } from 'vitest';
import { simulate } from '../../src/sim/run.js';
import { md1MeanWaitSeconds, mmcMeanWaitSeconds } from './queueing-theory.js';
import { scenario } from './helpers.js';

const TOLERANCE = 0.03;

function meanWaitSeconds(opts: { servers: number; rate: number; jobs: number; service: string; seed: number }): number {
  const warmupSeconds = Math.round((opts.jobs / opts.rate) * 0.02);
  const result = simulate(
    scenario(`
name: queueing-check
jobs: ${opts.jobs}
warmupSeconds: ${warmupSeconds}
sampleEverySeconds: 10000
maxDurationSeconds: ${Math.ceil((opts.jobs / opts.rate) * 2)}
producers:
  - arrival: { process: poisson, ratePerSecond: ${opts.rate} }
    ttrSeconds: 100000
workers:
  - count: ${opts.servers}
    service: ${opts.service}
`),
    opts.seed,
  );
  expect(result.jobs.completed).toBe(opts.jobs);
  return result.latency.queueWaitUs.mean / 1e6;
}

describe('M/M/c mean queue wait against Erlang C', () => {
  const cases = [
    { utilisation: 0.5, servers: 2, jobs: 1_000_000, seed: 501 },
    { utilisation: 0.8, servers: 10, jobs: 2_000_000, seed: 801 },
    { utilisation: 0.9, servers: 3, jobs: 3_000_000, seed: 901 },
  ];
  for (const c of cases) {
    it(`utilisation ${c.utilisation}: M/M/${c.servers}, ${c.jobs} jobs, seed ${c.seed}`, () => {
      const rate = c.utilisation * c.servers;
      const expected = mmcMeanWaitSeconds(c.servers, rate, 1);
      const actual = meanWaitSeconds({
        servers: c.servers,
        rate,
        jobs: c.jobs,
        service: '{ distribution: exponential, meanSeconds: 1 }',
        seed: c.seed,
      });
      console.log(`seed ${c.seed}: M/M/${c.servers} rho ${c.utilisation}: mean wait ${actual.toFixed(4)} s, Erlang C ${expected.toFixed(4)} s`);
      expect(Math.abs(actual / expected - 1)).toBeLessThan(TOLERANCE);
    });
  }
});

describe('M/D/1 mean queue wait against Pollaczek–Khinchine', () => {
  it('utilisation 0.8, 1,000,000 jobs, seed 1801', () => {
    const seed = 1801;
    const expected = md1MeanWaitSeconds(0.8, 1);
    const actual = meanWaitSeconds({ servers: 1, rate: 0.8, jobs: 1_000_000, service: '{ distribution: constant, seconds: 1 }', seed });
    console.log(`seed ${seed}: M/D/1 rho 0.8: mean wait ${actual.toFixed(4)} s, P-K ${expected.toFixed(4)} s`);
    expect(Math.abs(actual / expected - 1)).toBeLessThan(TOLERANCE);
  });
});

describe('the closed forms themselves', () => {
  it('match published values', () => {
    // M/M/1: Wq = rho / (mu - lambda); Erlang C for c=2, a=1 is 1/3.
    expect(mmcMeanWaitSeconds(1, 0.5, 1)).toBeCloseTo(1, 10);
    expect(mmcMeanWaitSeconds(2, 1, 1)).toBeCloseTo(1 / 3, 10);
    expect(md1MeanWaitSeconds(0.5, 1)).toBeCloseTo(0.5, 10);
  });
});
