// beanstalkd semantics as they show up in simulation: the workers talk to the reference model in
// real requests, so priorities, delays, TTRs, bury and kick behave as the server does.
import { describe, expect, it } from 'vitest';
import { simulate } from '../../src/sim/run.js';
import { scenario } from './helpers.js';

const SEED = 42;

describe('simulated beanstalkd semantics (seed 42)', () => {
  it('serves more urgent jobs first: criticals queued behind nothing, lows behind every critical', () => {
    const result = simulate(
      scenario(`
name: priorities
jobs: 200
producers:
  - arrival: { process: bursts, jobsPerBurst: 200, everySeconds: 1000 }
    priority: { critical: 1, low: 1 }
workers:
  - count: 1
    service: { distribution: constant, seconds: 1 }
`),
      SEED,
    );
    const critical = result.byPriority.critical;
    const low = result.byPriority.low;
    expect(critical.jobs.put + low.jobs.put).toBe(200);
    expect(critical.jobs.put).toBeGreaterThan(50);
    // The first put goes straight to the idle worker whatever its class; every other critical
    // job overtakes all low ones, so criticals finish within their own count of seconds.
    expect(critical.latency.queueWaitUs.max).toBeLessThanOrEqual(critical.jobs.put * 1e6);
    expect(low.latency.queueWaitUs.p50).toBeGreaterThanOrEqual((critical.jobs.put - 1) * 1e6);
  });

  it('honours delays: delayed jobs wait in DELAYED and start when due', () => {
    const result = simulate(
      scenario(`
name: delays
durationSeconds: 10
sampleEverySeconds: 1
producers:
  - arrival: { process: constant, ratePerSecond: 1 }
    delaySeconds: 30
workers:
  - count: 1
    service: { distribution: constant, seconds: 0.1 }
`),
      SEED,
    );
    expect(result.jobs.completed).toBe(10);
    // Measured from the due time, the wait is zero: the idle worker gets each job as it wakes.
    expect(result.latency.queueWaitUs.max).toBe(0);
    expect(result.latency.endToEndUs.max).toBe(100_000);
    // The last job, put at 9 s, is due at 39 s; nothing ran early.
    expect(result.durationUs).toBe(39_100_000);
    const series = result.queue.all;
    const at5s = series.tUs.indexOf(5_000_000);
    expect(series.delayed[at5s]).toBe(6);
    expect(series.ready[at5s] + series.reserved[at5s]).toBe(0);
  });

  it("re-runs a hung worker's job after its TTR and counts the duplicate execution", () => {
    const result = simulate(
      scenario(`
name: crash
jobs: 1
producers:
  - arrival: { process: constant, ratePerSecond: 1 }
    ttrSeconds: 5
workers:
  - name: doomed
    count: 1
    service: { distribution: constant, seconds: 2 }
    crash: { probability: 1, mode: hang, restartSeconds: 1000 }
  - name: healthy
    count: 1
    startSeconds: 1
    service: { distribution: constant, seconds: 2 }
`),
      SEED,
    );
    expect(result.events.crashes).toBe(1);
    expect(result.events.ttrExpiries).toBe(1);
    expect(result.events.duplicateExecutions).toBe(1);
    expect(result.jobs).toMatchObject({ put: 1, completed: 1, duplicated: 1, lost: 0, remaining: 0 });
    // Reserved at 0, TTR expiry at 5 s hands it to the healthy worker, done 2 s later.
    expect(result.latency.endToEndUs.max).toBe(7_000_000);
  });

  it('returns a disconnected worker’s job at once, without waiting for the TTR', () => {
    const result = simulate(
      scenario(`
name: crash-disconnect
jobs: 1
producers:
  - arrival: { process: constant, ratePerSecond: 1 }
    ttrSeconds: 60
workers:
  - count: 1
    service: { distribution: constant, seconds: 2 }
    crash: { probability: 1, mode: disconnect, restartSeconds: 1000 }
  - count: 1
    startSeconds: 1
    service: { distribution: constant, seconds: 2 }
`),
      SEED,
    );
    expect(result.events.ttrExpiries).toBe(0);
    expect(result.events.duplicateExecutions).toBe(1);
    expect(result.jobs.completed).toBe(1);
    expect(result.latency.endToEndUs.max).toBeLessThan(4_000_000);
  });

  it('retries with exponential backoff in whole seconds, then buries', () => {
    const result = simulate(
      scenario(`
name: retries
jobs: 1
producers:
  - arrival: { process: constant, ratePerSecond: 1 }
workers:
  - count: 1
    service: { distribution: constant, seconds: 0.5 }
    failure: { probability: 1, policy: retry, maxRetries: 3, backoffSeconds: 1, backoffFactor: 2 }
`),
      SEED,
    );
    // Attempts at 0, 1.5, 4 and 8.5 s (backoffs 1, 2, 4 s); the fourth failure buries at 9 s.
    expect(result.events.retries).toBe(3);
    expect(result.latency.serviceUs.count).toBe(4);
    expect(result.jobs).toMatchObject({ put: 1, completed: 0, buried: 1, remaining: 0, lost: 0 });
    expect(result.durationUs).toBe(9_000_000);
  });

  it('puts kicked jobs back in service until every job completes', () => {
    const yaml = (kickers: string) => `
name: kicks
jobs: 200
producers:
  - arrival: { process: poisson, ratePerSecond: 5 }
workers:
  - count: 2
    service: { distribution: constant, seconds: 0.1 }
    failure: { probability: 0.3, policy: bury }
${kickers}`;
    const withoutKicker = simulate(scenario(yaml('')), SEED);
    expect(withoutKicker.jobs.buried).toBeGreaterThan(20);
    expect(withoutKicker.jobs.completed + withoutKicker.jobs.buried).toBe(200);

    const withKicker = simulate(scenario(yaml('kickers: [{ everySeconds: 30 }]')), SEED);
    expect(withKicker.events.kicked).toBeGreaterThan(20);
    expect(withKicker.jobs).toMatchObject({ put: 200, completed: 200, buried: 0, lost: 0 });
    // Kicked jobs are re-runs by design, not duplicates.
    expect(withKicker.jobs.duplicated).toBe(0);
  });

  it('stops at maxDurationSeconds and reports what did not drain', () => {
    const result = simulate(
      scenario(`
name: overloaded
durationSeconds: 100
maxDurationSeconds: 200
producers:
  - arrival: { process: constant, ratePerSecond: 10 }
workers:
  - count: 1
    service: { distribution: constant, seconds: 1 }
slos:
  - { metric: queueWait, stat: p99, maxSeconds: 1000 }
`),
      SEED,
    );
    expect(result.durationUs).toBe(200_000_000);
    expect(result.jobs.put).toBe(1000);
    expect(result.jobs.completed).toBe(200);
    expect(result.jobs.remaining).toBe(800);
    // The measured waits are under the limit, but 800 jobs never started: the SLO fails.
    expect(result.slo[0].pass).toBe(false);
    expect(result.pass).toBe(false);
  });
});
