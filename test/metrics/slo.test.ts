import { describe, expect, it } from 'vitest';
import { evaluateSlos } from '../../src/metrics/slo.js';
import type { Breakdown, RunResult } from '../../src/metrics/result.js';
import { QueueSeriesRecorder } from '../../src/metrics/timeseries.js';

const h = (p99Us: number, count = 10) => ({ count, mean: p99Us / 2, p50: p99Us / 2, p90: p99Us, p99: p99Us, p999: p99Us, max: p99Us, hdr: '' });
const breakdown = (p99Us: number, remaining = 0): Breakdown => ({
  jobs: { put: 10, completed: 10 - remaining, buried: 0, lost: 0, duplicated: 0, remaining },
  latency: { queueWaitUs: h(p99Us), serviceUs: h(1000), endToEndUs: h(p99Us + 1000) },
});

function result(): Omit<RunResult, 'slo' | 'pass'> {
  const all = breakdown(1_500_000);
  const empty = { intervalUs: 1, tUs: [], ready: [], reserved: [], delayed: [], buried: [] };
  return {
    kind: 'sim', version: 1, scenario: 's', seed: 1, clock: 'virtual', durationUs: 10e6, drainUs: 4e6,
    jobs: { ...all.jobs, buried: 2 },
    events: { retries: 5, ttrExpiries: 0, duplicateExecutions: 0, lateCompletions: 0, crashes: 0, kicked: 0 },
    throughput: { jobsPerSecond: 1 },
    latency: all.latency,
    byTube: { emails: breakdown(2_500_000), slow: breakdown(100, 3) },
    byPriority: { critical: breakdown(500_000) },
    queue: { all: empty, byTube: {} },
  };
}

describe('evaluateSlos', () => {
  it('checks latency stats overall, per tube and per priority class, in seconds', () => {
    const outcomes = evaluateSlos(result(), [
      { metric: 'queueWait', stat: 'p99', maxSeconds: 2 },
      { metric: 'queueWait', stat: 'p99', tube: 'emails', maxSeconds: 2 },
      { metric: 'queueWait', stat: 'p99', priority: 'critical', maxSeconds: 0.5 },
    ]);
    expect(outcomes.map((o) => [o.pass, o.actual])).toEqual([[true, 1.5], [false, 2.5], [true, 0.5]]);
    expect(outcomes[1].name).toBe('p99 queueWait on tube emails <= 2 s');
  });

  it('fails a latency SLO when jobs in its scope never finished', () => {
    const [outcome] = evaluateSlos(result(), [{ metric: 'queueWait', stat: 'max', tube: 'slow', maxSeconds: 1 }]);
    expect(outcome).toMatchObject({ pass: false, actual: 0.0001 });
  });

  it('checks counts, throughput and drain time', () => {
    const outcomes = evaluateSlos(result(), [
      { name: 'nothing buried', metric: 'buried', max: 0 },
      { metric: 'retries', max: 5 },
      { metric: 'jobsPerSecond', min: 2 },
      { metric: 'drainSeconds', maxSeconds: 4 },
    ]);
    expect(outcomes.map((o) => o.pass)).toEqual([false, true, false, true]);
    expect(outcomes[0]).toMatchObject({ name: 'nothing buried', actual: 2, limit: 0, unit: 'jobs' });
  });
});

describe('QueueSeriesRecorder', () => {
  it('doubles its interval and keeps the samples on the coarser grid when it runs out of points', () => {
    const recorder = new QueueSeriesRecorder(10, 4);
    for (let t = 0; t <= 40; t += 10) recorder.push(t, { ready: t, reserved: 0, delayed: 0, buried: 0 });
    const s = recorder.snapshot();
    expect(s.intervalUs).toBe(20);
    expect(s.tUs).toEqual([0, 20, 40]);
    expect(s.ready).toEqual([0, 20, 40]);
  });
});
