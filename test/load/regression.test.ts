// The CI gate on real runs: a slowdown injected into the embedded server (`beanlab serve
// --fault slow=MS`) is flagged; repeated A/B runs of one and the same server are flagged no more
// often than the gate states, and measure both sides alike.
import { expect, it } from 'vitest';
import { runLoad } from '../../src/load/run.js';
import { compareAb, parseThresholds, DEFAULT_THRESHOLDS } from '../../src/metrics/compare.js';
import { binomialUpperTail } from '../../src/metrics/compare-stats.js';
import { compareMarkdown } from '../../src/report/compare-markdown.js';
import { spawnBeanstalkd } from '../../src/target/index.js';
import { describeWithBeanstalkd } from '../helpers/beanstalkd.js';
import { sideUs, uSumTwoSided, type SideU } from '../helpers/side-balance.js';
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
  // The gate states how often it may call equal servers a regression (falseAlarmAtMost: about
  // 2% for 5 pairs and 5 rows), so "never in 10 tries" is not what it promises. That claim
  // failed CI twice (try 3: queueWait.p99 +214%, every current run above every baseline one),
  // helped by the ABBA order the runs had then (ab-order.ts). What the real runs can break is
  // the premise of that bound: that the A/B runner measures both sides alike. So this test holds
  // the alarms to the stated rate, and the sides to balance (neither measured higher), each at a
  // flake chance under 1e-3; the interval's own coverage is tested on 1000 synthetic comparisons
  // in compare.test.ts, and the order's randomness in ab-order.test.ts.
  const TRIES = 10;
  /** A/B pairs per try: the fewest the default table needs. */
  const PAIRS = 5;
  /** The chance this test may fail on a correct gate and runner, for each of its two claims. */
  const FLAKE = 1e-3;

  it('raises alarms on one and the same beanstalkd no more often than the gate states, and measures neither side higher', async () => {
    const server = await spawnBeanstalkd({ binary });
    const address = `127.0.0.1:${server.port}`;
    const alarms: string[] = [];
    const us: SideU[] = [];
    let bound = 0;
    try {
      for (let attempt = 1; attempt <= TRIES; attempt++) {
        const result = await runLoad(steady(800, 0.25), {
          target: { kind: 'address', address },
          baselineTarget: { kind: 'address', address },
          repeat: PAIRS,
          seed: attempt,
        });
        const comparison = compareAb(result, gate);
        bound = comparison.falseAlarmAtMost;
        const flagged = comparison.rows.filter((r) => r.verdict === 'regression').map((r) => `${r.metric} ${r.change}`);
        // The order seed reproduces a try's order (LoadOptions.orderSeed).
        if (flagged.length > 0) alarms.push(`try ${attempt} (order seed ${result.load.ab!.orderSeed}): ${flagged.join(', ')}`);
        us.push(...sideUs(result, gate));
        expect(result.jobs.lost).toBe(0);
      }
    } finally {
      await server.stop();
    }
    // The stated bound is that of a 95% table, and not vacuous.
    expect(bound).toBeGreaterThan(0);
    expect(bound).toBeLessThanOrEqual(0.05);
    let allowed = 0;
    while (binomialUpperTail(TRIES, bound, allowed + 1) >= FLAKE) allowed++;
    expect.soft(alarms.length, `${alarms.join('; ')} (at most ${allowed} of ${TRIES} at a rate of ${bound})`).toBeLessThanOrEqual(allowed);

    // Per metric, the tries together: the current runs above the baseline ones about as often
    // as below (each try's Mann-Whitney U, summed: exact under the random order, whatever the machine does).
    const metrics = [...new Set(us.map((u) => u.metric))];
    expect(metrics.length).toBeGreaterThanOrEqual(3);
    const lopsided = metrics.flatMap((metric) => {
      const mine = us.filter((u) => u.metric === metric);
      const total = mine.reduce((sum, u) => sum + u.u, 0);
      const p = uSumTwoSided(PAIRS, PAIRS, mine.length, total);
      return p < FLAKE / metrics.length ? [`${metric}: U summed over ${mine.length} tries ${total}, ${(mine.length * PAIRS * PAIRS) / 2} expected (p = ${p.toPrecision(2)})`] : [];
    });
    expect.soft(lopsided).toEqual([]);
  });
});
