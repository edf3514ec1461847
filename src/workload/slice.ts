// A shard's share of a decision stream, and the observer an interpreter may hand a stream to
// see the decisions it makes (tests compare what the simulator and the load runner decided).
//
// SHARDS. Shard I of N of a run (src/load/shard.ts) draws the whole run's streams, with the run's
// seed, and takes decisions k ≡ position (mod N) of each: position is the shard's place for that
// producer or pool, rotated by its index (positionOf in shard.ts), so that remainders spread over
// the shards. For producers this makes the N shards' puts together exactly the lone run's puts of
// the same seed, for every arrival process (a Poisson stream's every N-th arrival is not Poisson,
// but the union of the N is the run's own Poisson stream). For pools, shard I's j-th reservation
// gets decision position + jN of the pool's stream: each decision is one of the run's, though the
// shards consume their shares at their own pace. The price: each shard draws every decision of
// the run and keeps 1 in N (a few uniform draws each, far below a put's cost).
import type { PutDecision } from './producers.js';
import type { WorkDecision } from './pools.js';

export interface StreamSlice {
  /** How many shares the stream is cut into (the run's shard count). */
  count: number;
  /** Which share: decisions k with k % count === position. */
  position: number;
}

/** Sees each decision a stream hands out, as it hands it out (a reused object: copy what you keep). */
export interface WorkloadObserver {
  put?(producer: number, decision: Readonly<PutDecision>): void;
  /** `tube` is the reserved job's tube index, which picked the decision's service distribution. */
  work?(pool: number, tube: number, decision: Readonly<WorkDecision>): void;
}

export const WHOLE: StreamSlice = Object.freeze({ count: 1, position: 0 });

export function checkSlice(slice: StreamSlice | undefined): StreamSlice {
  if (slice === undefined) return WHOLE;
  const { count, position } = slice;
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(position) || position < 0 || position >= count) {
    throw new RangeError(`a stream slice is a position from 0 to count - 1, got ${position} of ${count}`);
  }
  return slice;
}
