// The run's one source of randomness: pure-rand's xoroshiro128+ (fast-check's generator) seeded
// from the run's seed. Every random choice in a run draws from it in event order, which is
// what makes a seed reproduce a run byte for byte.
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

export const MAX_SEED = 2147483647;

const WARM_UP_DRAWS = 8;
const TWO_POW_26 = 67108864;

function mixSeed(seed: number): number {
  let h = seed | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}
const TWO_POW_53 = 9007199254740992;

export class Random {
  private readonly generator: ReturnType<typeof xoroshiro128plus>;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
      throw new RangeError(`seed must be an integer from 0 to ${MAX_SEED}, got ${seed}`);
    }
    // xoroshiro128+ seeded straight from a small integer starts in a low-entropy state (seed 1
    // gives u ≈ 1.0 first, and nearby seeds give nearly equal first draws), so the seed is
    // mixed first (murmur3's finaliser, a bijection on 32 bits) and the first draws dropped.
    this.generator = xoroshiro128plus(mixSeed(seed));
    for (let i = 0; i < WARM_UP_DRAWS; i++) this.generator.next();
  }

  /** Uniform in [0, 1) with 53 random bits (two draws), so tails of derived distributions are not coarse. */
  uniform(): number {
    const high = this.generator.next() >>> 5;
    const low = this.generator.next() >>> 6;
    return (high * TWO_POW_26 + low) / TWO_POW_53;
  }

  /** Uniform integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Exponential with the given mean; 1 - u lies in (0, 1], so the log is finite. */
  exponential(mean: number): number {
    return -Math.log(1 - this.uniform()) * mean;
  }

  /** Standard normal by Box-Muller (one of the pair; keeping no spare keeps the draw order simple). */
  normal(): number {
    const radius = Math.sqrt(-2 * Math.log(1 - this.uniform()));
    return radius * Math.cos(2 * Math.PI * this.uniform());
  }
}
