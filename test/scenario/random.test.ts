import { describe, expect, it } from 'vitest';
import { Random } from '../../src/scenario/random.js';

describe('Random', () => {
  it('starts small and nearby seeds with unrelated draws', () => {
    // Unmixed xoroshiro128+ gave u ≈ 1.0 as the first draw of every seed from 0 to 4.
    const firsts = [0, 1, 2, 3, 4, 5, 6, 7].map((seed) => new Random(seed).uniform());
    expect(Math.max(...firsts) - Math.min(...firsts)).toBeGreaterThan(0.3);
    expect(firsts.filter((u) => u > 0.99).length).toBeLessThan(4);
  });

  it('reproduces the same draws from the same seed', () => {
    const draws = (seed: number) => {
      const random = new Random(seed);
      return Array.from({ length: 5 }, () => random.uniform());
    };
    expect(draws(42)).toEqual(draws(42));
    expect(draws(42)).not.toEqual(draws(43));
  });
});
