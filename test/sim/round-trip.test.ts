// The scenario's `server` setting: the per-command round trip and the server's per-command cost,
// as the simulator models them. Exact values where the arithmetic is exact (idle workers), and
// queueing theory where it is not (a worker's turn between jobs grows by the round trip).
import { describe, expect, it } from 'vitest';
import { simulate } from '../../src/sim/run.js';
import { md1MeanWaitSeconds } from './queueing-theory.js';
import { scenario } from './helpers.js';

const idle = (server: string) =>
  scenario(`
name: idle-workers
durationSeconds: 20
producers:
  - arrival: { process: constant, ratePerSecond: 10 }
workers:
  - count: 4
    service: { distribution: constant, seconds: 0.01 }
${server}
`);

describe('round trip and command cost (seed 3)', () => {
  it('default to none: the same run, byte for byte, as a scenario that says 0', () => {
    const implicit = simulate(idle(''), 3);
    const explicit = simulate(idle('server: { roundTripUs: 0, commandCostUs: 0 }'), 3);
    expect(JSON.stringify(explicit)).toBe(JSON.stringify(implicit));
    expect(implicit.latency.queueWaitUs.max).toBe(0);
    expect(implicit.latency.serviceUs.max).toBe(10_000);
  });

  it('put a floor of one round trip plus the command costs under every wait, as a real run measures it', () => {
    const result = simulate(idle('server: { roundTripUs: 400, commandCostUs: 50 }'), 3);
    expect(result.jobs.completed).toBe(200);
    const { queueWaitUs, serviceUs, endToEndUs } = result.latency;
    // Every job takes the same time: the histogram's p50 is that value to its 3 significant digits.
    const exactly = (h: { p50: number; max: number }, us: number) => {
      expect(h.max).toBe(us);
      expect(Math.abs(h.p50 - us)).toBeLessThanOrEqual(us / 1000);
    };
    // put: 200 µs to the server, 50 µs there; RESERVED: 200 µs back to the idle worker.
    exactly(queueWaitUs, 450);
    // The attempt ends when the worker reads DELETED: 10 ms of work, then 200 + 50 + 200 µs.
    exactly(serviceUs, 10_450);
    exactly(endToEndUs, 10_900);
  });

  it("add the round trip to each worker's turn: M/D/1 with service 0.8 s and a 0.2 s round trip waits as P-K with D = 1 s", () => {
    const seed = 1802;
    const jobs = 1_000_000;
    const result = simulate(
      scenario(`
name: md1-round-trip
jobs: ${jobs}
warmupSeconds: 25000
sampleEverySeconds: 10000
maxDurationSeconds: 3000000
server: { roundTripUs: 200000 }
producers:
  - arrival: { process: poisson, ratePerSecond: 0.8 }
    ttrSeconds: 100000
workers:
  - count: 1
    service: { distribution: constant, seconds: 0.8 }
`),
      seed,
    );
    expect(result.jobs.completed).toBe(jobs);
    // The job waits at the server as in M/D/1 with D = 0.8 + 0.2 (rho 0.8), then travels to the
    // server and back to the worker: one round trip more.
    const expected = md1MeanWaitSeconds(0.8, 1) + 0.2;
    const actual = result.latency.queueWaitUs.mean / 1e6;
    console.log(`seed ${seed}: M/D/1 + round trip 0.2 s: mean wait ${actual.toFixed(4)} s, P-K + RTT ${expected.toFixed(4)} s`);
    expect(Math.abs(actual / expected - 1)).toBeLessThan(0.03);
    // Without the round trip the same arrivals would see rho 0.64: a wait of 0.71 s, not 2.2 s.
    expect(md1MeanWaitSeconds(0.8, 0.8)).toBeLessThan(0.72);
  });

  it('queue commands for a one-thread server: at 1 ms a command (put, delete, reserve) it completes 333 jobs/s at most', () => {
    const result = simulate(
      scenario(`
name: slow-server
durationSeconds: 10
server: { commandCostUs: 1000 }
producers:
  - arrival: { process: poisson, ratePerSecond: 500 }
workers:
  - count: 10
    service: { distribution: constant, seconds: 0 }
`),
      3,
    );
    // Every put sent is taken, late: the server works through its backlog after the producers stop.
    expect(result.jobs.put).toBeGreaterThan(4800);
    expect(result.jobs.completed).toBe(result.jobs.put);
    // Over the whole run: the server's own ceiling. The result's rate is over the producing
    // window (as a real run's), when the server was also taking the puts: below the ceiling.
    const wholeRunPerSecond = (result.jobs.completed * 1e6) / result.durationUs;
    expect(wholeRunPerSecond).toBeGreaterThan(328);
    expect(wholeRunPerSecond).toBeLessThan(334);
    expect(result.throughput.jobsPerSecond).toBeLessThan(328);
    expect(result.latency.queueWaitUs.max).toBeGreaterThan(4_000_000);
  });
});

describe("a real run's timer lateness (serviceLateUs, validate's calibration)", () => {
  it('lengthens every work period that is not zero by exactly that much, and changes no decision', () => {
    const decisions = (serviceLateUs: number) => {
      const seen: number[] = [];
      const result = simulate(idle('server: { roundTripUs: 400 }'), 3, undefined, {
        serviceLateUs,
        observer: { work: (_pool, _tube, d) => seen.push(d.index, d.serviceUs), put: (_p, d) => seen.push(d.atUs) },
      });
      return { result, seen };
    };
    const plain = decisions(0);
    const late = decisions(700);
    expect(late.seen).toEqual(plain.seen);
    // Idle workers: service is the 10 ms, plus the round trip of the delete, plus the lateness.
    expect(plain.result.latency.serviceUs.mean).toBe(10_400);
    expect(late.result.latency.serviceUs.mean).toBe(11_100);
    expect(late.result.latency.endToEndUs.mean - plain.result.latency.endToEndUs.mean).toBe(700);
    // A job with no work has no timer to be late.
    const instant = idle('').workers.map((w) => ({ ...w, service: { distribution: 'constant' as const, seconds: 0 } }));
    const zero = simulate({ ...idle(''), workers: instant }, 3, undefined, { serviceLateUs: 700 });
    expect(zero.latency.serviceUs.max).toBe(0);
    expect(() => simulate(idle(''), 3, undefined, { serviceLateUs: -1 })).toThrow(RangeError);
  });
});
