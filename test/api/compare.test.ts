// compareResults / compareAb from the package entry, on simulated results (deterministic, so one
// sample per side decides on its median): thresholds as text or parsed, incomparable results
// refused unless forced, an empty comparison an error rather than a pass.
import { describe, expect, it } from 'vitest';
import {
  compareAb,
  compareResults,
  ComparisonError,
  DEFAULT_CONFIDENCE,
  DEFAULT_THRESHOLDS,
  parseThresholds,
  runsNeeded,
  simulate,
  ThresholdError,
  type LoadResult,
  type ScenarioInput,
} from '../../src/index.js';

const queue = (workers: number, name = 'api-compare'): ScenarioInput => ({
  name,
  jobs: 3000,
  producers: [{ tube: 'default', arrival: { process: 'poisson', ratePerSecond: 8 } }],
  workers: [{ count: workers, watch: ['default'], service: { distribution: 'exponential', meanSeconds: 1 } }],
});

describe('compareResults (library)', () => {
  it('passes a result against itself and flags a slower one as a regression', async () => {
    const fast = await simulate(queue(12), { seed: 1 });
    const slow = await simulate(queue(9), { seed: 1 });
    const same = compareResults(fast, fast);
    expect(same.regression).toBe(false);
    expect(same.rows.length).toBeGreaterThan(0);
    const worse = compareResults(fast, slow, { thresholds: 'p99=+10%' });
    expect(worse.regression).toBe(true);
    expect(worse.rows.filter((row) => row.verdict === 'regression').map((row) => row.metric)).toContain('queueWait.p99');
    // Text and parsed thresholds are the same thing.
    expect(compareResults(fast, slow, { thresholds: parseThresholds('p99=+10%') })).toEqual(worse);
  });

  it('refuses results of different scenarios unless forced, and a bad threshold', async () => {
    const a = await simulate(queue(12), { seed: 1 });
    const b = await simulate(queue(12, 'another'), { seed: 1 });
    expect(() => compareResults(a, b)).toThrow(ComparisonError);
    expect(() => compareResults(a, b)).toThrow(/api-compare.*another|another.*api-compare/);
    expect(compareResults(a, b, { force: true }).regression).toBe(false);
    expect(() => compareResults(a, a, { thresholds: 'p99=-10%' })).toThrow(ThresholdError);
  });

  it('calls a comparison with no metric measured in both an error, not a pass', async () => {
    const a = await simulate(queue(12), { seed: 1 });
    expect(() => compareResults(a, a, { thresholds: 'http.p99=+10%' })).toThrow(/no metric of the thresholds/);
  });

  it('takes a confidence, and says how many runs per side it needs', async () => {
    const fast = await simulate(queue(12), { seed: 1 });
    const strict = compareResults(fast, fast, { confidence: 0.99 });
    expect(strict.confidence).toBe(0.99);
    expect(strict.samplesNeeded).toBeGreaterThan(compareResults(fast, fast).samplesNeeded);
    expect(runsNeeded(parseThresholds(DEFAULT_THRESHOLDS), DEFAULT_CONFIDENCE)).toBe(5);
    expect(() => compareResults(fast, fast, { confidence: 95 })).toThrow(/confidence must be above 0.5 and below 1/);
  });

  it('compareAb refuses a result without a baseline side', async () => {
    const a = (await simulate(queue(12), { seed: 1 })) as unknown as LoadResult;
    expect(() => compareAb({ ...a, kind: 'load', load: {} as LoadResult['load'] })).toThrow(/not an A\/B result/);
  });
});
