// The CI gate on real runs: a slowdown injected into the embedded server (`beanlab serve
// --fault slow=MS`) is flagged; repeated A/B runs of one and the same server are not.
import { expect, it } from 'vitest';
import { runLoad } from '../../src/load/run.js';
import { compareAb, parseThresholds, DEFAULT_THRESHOLDS } from '../../src/metrics/compare.js';
import { compareMarkdown } from '../../src/report/compare-markdown.js';
import { spawnBeanstalkd } from '../../src/target/index.js';
import { describeWithBeanstalkd } from '../helpers/beanstalkd.js';
import { steady } from './helpers.js';

const gate = parseThresholds(DEFAULT_THRESHOLDS);

it('flags a 50 ms reply delay injected into the embedded server', async () => {
  const result = await runLoad(steady(200, 0.4), {
    target: { kind: 'embedded', args: ['--fault', 'slow=50'] },
    baselineTarget: { kind: 'embedded' },
    repeat: 5,
  });
  expect(result.load.ab!.baseline).toHaveLength(5);
  const comparison = compareAb(result, gate);
  expect(comparison.method).toBe('paired');
  const table = compareMarkdown(comparison);
  expect(comparison.regression, table).toBe(true);
  // Every reply is 50 ms late: the latencies regress, and two workers no longer keep up
  // (jobs per second drops); the open loop still puts on schedule.
  const row = (metric: string) => comparison.rows.find((r) => r.metric === metric)!;
  expect(row('put.p99').change).toBeGreaterThan(2);
  expect(row('endToEnd.p99').verdict, table).toBe('regression');
  expect(row('putsPerSecond').verdict, table).toBe('ok');
  expect(result.load.achievedRatePerSecond).toBeGreaterThan(150);
});

describeWithBeanstalkd('no false alarm', (binary) => {
  it('raises no regression in 10 A/B tries against one and the same beanstalkd', async () => {
    const server = await spawnBeanstalkd({ binary });
    const address = `127.0.0.1:${server.port}`;
    try {
      for (let attempt = 1; attempt <= 10; attempt++) {
        const result = await runLoad(steady(800, 0.25), {
          target: { kind: 'address', address },
          baselineTarget: { kind: 'address', address },
          repeat: 5,
          seed: attempt,
        });
        const comparison = compareAb(result, gate);
        const flagged = comparison.rows.filter((r) => r.verdict === 'regression').map((r) => `${r.metric} ${r.change}`);
        expect(flagged, `try ${attempt}`).toEqual([]);
        expect(result.jobs.lost).toBe(0);
      }
    } finally {
      await server.stop();
    }
  });
});
