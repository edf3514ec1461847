// One seeded random stream per producer and per worker pool (and one for the simulator's own
// choices), each derived from the run's seed and its place in the scenario. A stream is only
// ever drawn from by its owner, in a fixed order per decision, so what the k-th decision of a
// stream is does not depend on how the owners' events interleave, and so not on the clock.
import { MAX_SEED, Random } from '../scenario/random.js';

/** What a stream belongs to: part of its identity, so producer 0 and pool 0 draw differently. */
export const StreamRole = {
  Producer: 1,
  Pool: 2,
  /** The simulator's stand-in for the server's free choices (which waiting worker gets a job). */
  Server: 3,
} as const;
export type StreamRole = (typeof StreamRole)[keyof typeof StreamRole];

/** The random stream of one producer, pool or the server, for a run seeded with `seed`. */
export function streamRandom(seed: number, role: StreamRole, index: number): Random {
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    throw new RangeError(`seed must be an integer from 0 to ${MAX_SEED}, got ${seed}`);
  }
  // A hash of (seed, role, index) as the stream's seed; Random mixes it again and drops its first
  // draws, so streams of nearby seeds and indices start unrelated.
  let h = Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15) ^ Math.imul(role, 0x85ebca6b), 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 13) ^ Math.imul(index + 1, 0x27d4eb2f), 0x165667b1);
  h ^= h >>> 16;
  return new Random((h >>> 0) % (MAX_SEED + 1));
}
