// The simulator's HTML report at the level of the load report's: a percentile plot on the
// 1/(1-p) log scale, throughput over time, jobs by state aggregated into buckets for long runs,
// and 0 µs drawn as 0 (an arcsinh axis), not as the bottom of a log axis.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CHART_POINTS, CURVE_PERCENTILES, chartData, htmlReport } from '../../src/report/html.js';
import { parseScenario } from '../../src/scenario/load.js';
import { simulate } from '../../src/sim/run.js';
import { scenario } from '../sim/helpers.js';

const assets = { uplotJs: 'window.uPlot = function FAKE_UPLOT() {};', uplotCss: '.uplot{}' };
const file = 'scenarios/flaky-webhooks.yaml';
const webhooks = simulate(parseScenario(readFileSync(file, 'utf8'), file), 1);

describe('the sim HTML report (seed 1)', () => {
  it('plots latency by percentile on the load report scale, per priority class too when there are several', () => {
    const data = chartData(webhooks);
    expect(data.inverseTail).toHaveLength(CURVE_PERCENTILES.length);
    expect(data.inverseTail[0]).toBe(1);
    expect(data.inverseTail.at(-1)).toBeCloseTo(1e5, 3);
    expect(data.latencies.map((l) => l.label)).toEqual(['queue wait', 'service', 'end to end']);
    // The curve ends at the histogram's max (p99.999 of 72k jobs is the largest), to HDR's 3 digits.
    const max = webhooks.latency.endToEndUs.max;
    expect(Math.abs(data.latencies[2].ms.at(-1)! * 1000 - max)).toBeLessThan(max / 1000);
    const emails = simulate(parseScenario(readFileSync('scenarios/emails.yaml', 'utf8'), 'emails'), 1);
    expect(chartData(emails).latencies.filter((l) => l.dash).map((l) => l.label)).toEqual([
      'queue wait: critical',
      'queue wait: high',
      'queue wait: normal',
      'queue wait: low',
    ]);
  });

  it('keeps a 0 µs wait at 0 on an arcsinh axis, never clamped to a log axis bottom', () => {
    // An idle worker takes each job the instant it is due: every wait is 0.
    const idle = simulate(
      scenario(`
name: idle
durationSeconds: 5
producers:
  - arrival: { process: constant, ratePerSecond: 2 }
workers:
  - count: 2
    service: { distribution: constant, seconds: 0.1 }
`),
      1,
    );
    const data = chartData(idle);
    expect(data.latencies[0].ms.every((v) => v === 0)).toBe(true);
    const html = htmlReport(idle, assets);
    expect(html).toContain('distr: 4');
    expect(html).not.toMatch(/Math\.max\(v, 0\.001\)/);
  });

  it('aggregates an hour into at most 600 buckets in the result and 200 points on the charts, means and maxima', () => {
    const series = webhooks.queue.all;
    expect(series.tUs.length).toBeLessThanOrEqual(600);
    expect(series.tUs.length).toBeGreaterThan(300);
    expect(series.intervalUs).toBe(8_000_000);
    for (let i = 0; i < series.tUs.length; i++) {
      expect(series.max!.ready[i]).toBeGreaterThanOrEqual(series.ready[i]);
      expect(series.tUs[i]).toBe(i * series.intervalUs);
    }
    // Means are not point samples: most buckets of a fluctuating queue have a fractional mean.
    expect(series.reserved.filter((v) => !Number.isInteger(v)).length).toBeGreaterThan(series.tUs.length / 2);
    const data = chartData(webhooks);
    expect(data.queue.tSeconds.length).toBeLessThanOrEqual(CHART_POINTS);
    expect(data.queue.bucket).toBe('24.0 s');
    // The largest sample survives both aggregations.
    expect(Math.max(...data.queue.max!.ready)).toBe(Math.max(...series.max!.ready));
    // Throughput: puts per second averaged over the buckets is the run's put rate.
    const rates = webhooks.rates!;
    const puts = rates.putsPerSecond.reduce((sum, r) => sum + (r * rates.intervalUs) / 1e6, 0);
    expect(Math.abs(puts - webhooks.jobs.put) / webhooks.jobs.put).toBeLessThan(0.002);
    expect(data.rates!.tSeconds.length).toBeLessThanOrEqual(CHART_POINTS);
  });
});
