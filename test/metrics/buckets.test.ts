import { describe, expect, it } from 'vitest';
import { BucketSeriesRecorder } from '../../src/metrics/buckets.js';

const depth = (ready: number) => ({ ready, reserved: 1, delayed: 0, buried: 0 });

describe('BucketSeriesRecorder', () => {
  it('keeps every sample while they fit, one per bucket', () => {
    const r = new BucketSeriesRecorder(1_000_000, 10);
    for (let t = 0; t < 5; t++) r.sample(t * 1_000_000, depth(t));
    expect(r.depths()).toMatchObject({ intervalUs: 1_000_000, tUs: [0, 1e6, 2e6, 3e6, 4e6], ready: [0, 1, 2, 3, 4] });
  });

  it('doubles the width past its budget: means of the merged samples, their maxima, spikes kept', () => {
    const r = new BucketSeriesRecorder(1_000_000, 4);
    const samples = [0, 2, 4, 6, 100, 0, 1, 1, 3];
    samples.forEach((v, t) => r.sample(t * 1_000_000, depth(v)));
    const d = r.depths();
    // 9 samples in at most 4 buckets: width 4 s.
    expect(d.intervalUs).toBe(4_000_000);
    expect(d.tUs).toEqual([0, 4e6, 8e6]);
    expect(d.ready).toEqual([3, 25.5, 3]);
    expect(d.max.ready).toEqual([6, 100, 3]);
    expect(d.reserved).toEqual([1, 1, 1]);
  });

  it('turns counts into rates over the time they cover, the last bucket cut short by the end', () => {
    const r = new BucketSeriesRecorder(1_000_000, 2);
    r.count(0, 1_000_000, 10, 5);
    r.count(1_000_000, 2_000_000, 30, 5);
    r.count(2_000_000, 2_500_000, 10, 10);
    const rates = r.rates();
    expect(rates.intervalUs).toBe(2_000_000);
    expect(rates.tUs).toEqual([0, 2_000_000]);
    expect(rates.putsPerSecond).toEqual([20, 20]);
    expect(rates.completedPerSecond).toEqual([5, 20]);
  });
});
