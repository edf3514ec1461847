import { describe, expect, it } from 'vitest';
import { htmlReport } from '../../src/report/html.js';
import { markdownReport } from '../../src/report/markdown.js';
import { terminalSummary } from '../../src/report/terminal.js';
import { formatUs } from '../../src/report/format.js';
import { combineSweep, simulate } from '../../src/sim/run.js';
import { scenario } from '../sim/helpers.js';

const SEED = 5;
const yaml = (workers: number) => `
name: sweepable
jobs: 2000
producers:
  - arrival: { process: poisson, ratePerSecond: 4 }
workers:
  - count: ${workers}
    service: { distribution: exponential, meanSeconds: 1 }
slos:
  - { name: p99 wait under 5 s, metric: queueWait, stat: p99, maxSeconds: 5 }
`;
const sweep = combineSweep(
  'workers',
  [4, 5, 6, 8].map((value) => ({ value, result: simulate(scenario(yaml(value)), SEED) })),
);

describe('reports (seed 5)', () => {
  it('formats durations with units', () => {
    expect([formatUs(999), formatUs(1500), formatUs(2_340_000), formatUs(125e6), formatUs(3723e6)]).toEqual([
      '999 µs', '1.50 ms', '2.34 s', '2m 05s', '1h 02m 03s',
    ]);
  });

  it('answers the capacity question: the smallest worker count meeting every SLO', () => {
    // 4 workers at 4 jobs/s is utilisation 1: the queue grows without bound and the SLO fails.
    expect(sweep.sweep!.map((e) => [e.workers, e.result.pass])).toEqual([[4, false], [5, true], [6, true], [8, true]]);
    expect(sweep.capacity).toEqual({ key: 'workers', value: 5 });
    const text = terminalSummary(sweep);
    expect(text).toMatch(/^sweepable {2}seed 5 {2}.* PASS$/m);
    expect(text).toMatch(/^4 +1 failed /m);
    expect(text).toContain('smallest worker count meeting every SLO: 5');
    expect(markdownReport(sweep)).toContain('| 5 | pass |');
  });

  it('writes a self-contained HTML page with the data and the inlined chart library', () => {
    const html = htmlReport(sweep, { uplotJs: 'window.uPlot = function FAKE_UPLOT() {};', uplotCss: '.uplot{}' });
    expect(html).toContain('FAKE_UPLOT');
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/<link[^>]+href=/);
    const data = JSON.parse(/<script type="application\/json" id="data">(.*?)<\/script>/s.exec(html)![1]);
    expect(data.sweep.values).toEqual([4, 5, 6, 8]);
    // 489 one-second buckets, coarsened to three-second points for the chart.
    expect(sweep.queue.all.tUs.length).toBeGreaterThan(400);
    expect(data.queue.tSeconds.length).toBe(Math.ceil(sweep.queue.all.tUs.length / 3));
    expect(data.latencies.map((l: { label: string }) => l.label)).toEqual(['queue wait', 'service', 'end to end']);
    for (const l of data.latencies) expect(l.ms).toHaveLength(data.inverseTail.length);
    expect(html).toContain('<h1>sweepable: <span class="pass">PASS</span></h1>');
  });
});
