// The order of an A/B run's runs. The gate's interval assumes that, for equal servers, every way
// of labelling the 2n runs baseline or current is equally likely; a fixed pattern breaks that
// as soon as the machine has a rhythm of its own (ABBA and a collection every 4th run put every
// stall on one side: 175 of 300 pairs lopsided, 2 false alarms in 60 tries).
import { describe, expect, it } from 'vitest';
import { abOrder, freshOrderSeed, orderText } from '../../src/load/ab-order.js';
import { runLoad } from '../../src/load/run.js';
import { spawnBeanstalkd } from '../../src/target/index.js';
import { describeWithBeanstalkd } from '../helpers/beanstalkd.js';
import { steady } from './helpers.js';
import { uSumTwoSided } from '../helpers/side-balance.js';

const SEEDS = 20_000;

describe('abOrder', () => {
  it('is n runs of each side, the same for the same seed', () => {
    const order = abOrder(5, 42);
    expect(order.filter((s) => s === 'baseline')).toHaveLength(5);
    expect(order.filter((s) => s === 'current')).toHaveLength(5);
    expect(abOrder(5, 42)).toEqual(order);
    expect(orderText(order)).toMatch(/^([BC] ){9}[BC]$/);
    const seeds = new Set(Array.from({ length: 50 }, freshOrderSeed));
    expect(seeds.size).toBeGreaterThan(45);
  });

  it('makes each of the C(10, 5) = 252 labellings about equally likely (what the Mann-Whitney interval rests on)', () => {
    const counts = new Map<string, number>();
    for (let seed = 0; seed < SEEDS; seed++) {
      const key = orderText(abOrder(5, seed));
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(252);
    // Pearson's chi-square with 251 degrees of freedom: mean 251, sd 22.4; the 99.99th percentile is about 345.
    const expected = SEEDS / 252;
    const chiSquare = [...counts.values()].reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0);
    expect(chiSquare).toBeLessThan(345);
  });

  it('lets no rhythm of the machine fall on one side: a stall every k-th run lands on each side about half the time', () => {
    // ABBA, the order this replaced, puts every 4th run (from the first) on the baseline side.
    const abba = ['baseline', 'current', 'current', 'baseline', 'baseline', 'current', 'current', 'baseline', 'baseline', 'current'];
    expect([0, 4, 8].map((i) => abba[i])).toEqual(['baseline', 'baseline', 'baseline']);
    for (const period of [2, 3, 4, 5]) {
      for (let phase = 0; phase < period; phase++) {
        let onCurrent = 0;
        let stalls = 0;
        for (let seed = 0; seed < 2000; seed++) {
          const order = abOrder(5, seed);
          for (let i = phase; i < order.length; i += period) {
            stalls++;
            if (order[i] === 'current') onCurrent++;
          }
        }
        expect(Math.abs(onCurrent / stalls - 0.5), `period ${period}, phase ${phase}`).toBeLessThan(0.03);
      }
    }
  });
});

describe('the side-balance test of the real-run regression test', () => {
  it('is exact: complete separation in one try of 5 + 5 is 2 labellings of 252', () => {
    expect(uSumTwoSided(5, 5, 1, 25)).toBeCloseTo(2 / 252, 12);
    expect(uSumTwoSided(5, 5, 1, 0)).toBeCloseTo(2 / 252, 12);
    expect(uSumTwoSided(5, 5, 1, 24)).toBeCloseTo(4 / 252, 12);
    expect(uSumTwoSided(5, 5, 10, 125)).toBe(1);
    expect(uSumTwoSided(5, 5, 10, 160)).toBeCloseTo(uSumTwoSided(5, 5, 10, 90), 12);
    // Two tries: both complete separations the same way, 1 in 252² each side.
    expect(uSumTwoSided(5, 5, 2, 50)).toBeCloseTo(2 / 252 ** 2, 15);
  });
});

describeWithBeanstalkd('an A/B run', (binary) => {
  it('runs both sides in the order its seed gives, keeps the seed and the order, and pairs the i-th run of each side', async () => {
    const server = await spawnBeanstalkd({ binary });
    const address = `127.0.0.1:${server.port}`;
    try {
      const sides: string[] = [];
      const result = await runLoad(steady(200, 0.25), {
        target: { kind: 'address', address },
        baselineTarget: { kind: 'address', address },
        repeat: 3,
        orderSeed: 7,
        onProgress: (p) => {
          const label = `run ${p.run}/${p.runs}: ${p.side} ${p.repeat}/${p.repeats}`;
          if (sides.at(-1) !== label) sides.push(label);
        },
      });
      const order = abOrder(3, 7);
      expect(result.load.ab).toMatchObject({ orderSeed: 7, order: orderText(order) });
      expect(result.load.ab!.baseline).toHaveLength(3);
      expect(result.load.repeats).toHaveLength(3);
      // Progress names each run by its number among all, its side and its number on that side.
      const count = { baseline: 0, current: 0 };
      expect(sides).toEqual(order.map((side, i) => `run ${i + 1}/6: ${side} ${++count[side]}/3`));

      // Without an order seed each run draws a fresh one, and says which.
      const fresh = await runLoad(steady(200, 0.05), { target: { kind: 'address', address }, baselineTarget: { kind: 'address', address }, repeat: 2 });
      expect(fresh.load.ab!.order).toBe(orderText(abOrder(2, fresh.load.ab!.orderSeed!)));
    } finally {
      await server.stop();
    }
  });
});
