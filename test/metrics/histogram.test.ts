import { build, encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { LatencyHistogram, percentileCurve } from '../../src/metrics/histogram.js';

describe('LatencyHistogram', () => {
  it('encodes exactly the histogram hdr-histogram-js records from the same values (seed 12345)', () => {
    console.log('seed 12345');
    const reference = build({ numberOfSignificantValueDigits: 3 });
    const ours = new LatencyHistogram();
    let x = 12345;
    const values = [0, 1, 2047, 2048, 2049, 4095, 4096, 2 ** 32 + 5, 2 ** 40 + 12345];
    for (let i = 0; i < 50_000; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      values.push(Math.floor(Math.exp((x / 2147483648) * 30)));
    }
    for (const v of values) {
      ours.record(v);
      reference.recordValue(v);
    }
    const summary = ours.summary();
    expect(summary.hdr).toBe(encodeIntoCompressedBase64(reference));
    expect(summary.p99).toBe(reference.getValueAtPercentile(99));
    expect(summary.max).toBe(Math.max(...values));
    expect(summary.count).toBe(values.length);
  });

  it('keeps the exact mean and merges exactly', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    [1, 2, 3].forEach((v) => a.record(v));
    [1_000_000, 3_000_001].forEach((v) => b.record(v));
    a.add(b);
    const s = a.summary();
    expect(s.count).toBe(5);
    expect(s.mean).toBe((1 + 2 + 3 + 1_000_000 + 3_000_001) / 5);
    expect(s.max).toBe(3_000_001);
    // Decoded percentiles are bucket values: exact below 2048, within 0.1% above.
    const [[, lowest], [, highest]] = percentileCurve(s.hdr, [0, 100]);
    expect(lowest).toBe(1);
    expect(highest).toBeGreaterThanOrEqual(3_000_001);
    expect(highest).toBeLessThan(3_000_001 * 1.001);
  });

  it('summarises an empty histogram as zeros', () => {
    expect(new LatencyHistogram().summary()).toMatchObject({ count: 0, mean: 0, p50: 0, max: 0 });
  });
});
