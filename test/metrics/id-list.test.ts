// Job-id sets in shard results: exact round trips for any set, and compact for the shapes shards
// produce (one process's consecutive ids, two shards' interleaved ids).
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { countIds, decodeIds, encodeIds } from '../../src/metrics/id-list.js';

describe('encoded id lists', () => {
  test.prop([fc.array(fc.oneof(fc.nat({ max: 300 }), fc.nat(), fc.constantFrom(0, 1, 2 ** 32, Number.MAX_SAFE_INTEGER - 1)), { maxLength: 400 })])(
    'decode to the sorted set they encode, in any order and with duplicates',
    (ids) => {
      const expected = [...new Set(ids)].sort((a, b) => a - b);
      const text = encodeIds(ids);
      expect(decodeIds(text)).toEqual(expected);
      expect(countIds(text)).toBe(expected.length);
    },
  );

  it('keep a run of consecutive ids in a few bytes, and interleaved ids in about a byte each', () => {
    const run = Array.from({ length: 1_000_000 }, (_, i) => 5000 + i);
    expect(Buffer.from(encodeIds(run), 'base64').length).toBeLessThan(8);
    expect(decodeIds(encodeIds(run))).toHaveLength(1_000_000);
    const everyOther = Array.from({ length: 100_000 }, (_, i) => 7 + 2 * i);
    expect(Buffer.from(encodeIds(everyOther), 'base64').length).toBeLessThanOrEqual(100_002);
    expect(encodeIds([])).toBe('');
    expect(decodeIds('')).toEqual([]);
  });

  it('refuse what is not a job id, and text they did not write', () => {
    expect(() => encodeIds([-1])).toThrow(RangeError);
    expect(() => encodeIds([1.5])).toThrow(RangeError);
    expect(() => decodeIds(Buffer.from([0x80]).toString('base64'))).toThrow(/truncated/);
  });
});
