// The order of an A/B run's runs: its baseline and current runs in a uniformly random order.
// A fixed pattern can line up with a rhythm of the machine: ABBA (B C C B B C C B ...) has a period
// of 4 runs, and so did the load generator's major garbage collections in the short runs of
// the regression test, so every collection stalled the same side. In 60 tries against one
// beanstalkd the current side's p99 came out higher in 175 of 300 pairs, and 2 tries called it a
// regression (+490%). Random assignment is what the gate's interval rests on: with the 2n runs
// ordered at random, each of the C(2n, n) ways to label them is equally likely when both servers
// are the same, which is exactly the Mann-Whitney distribution, whatever the machine does.
import { randomInt } from 'node:crypto';
import { MAX_SEED, Random } from '../scenario/random.js';

export type AbSide = 'baseline' | 'current';

/** `repeats` runs of each side in a random order drawn from `orderSeed`. */
export function abOrder(repeats: number, orderSeed: number): AbSide[] {
  const order: AbSide[] = [...Array<AbSide>(repeats).fill('baseline'), ...Array<AbSide>(repeats).fill('current')];
  const random = new Random(orderSeed);
  // Fisher-Yates: every arrangement equally likely.
  for (let i = order.length - 1; i > 0; i--) {
    const j = random.below(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** A fresh order seed: a fixed one would give every run the same pattern, which could line up with the machine's. */
export function freshOrderSeed(): number {
  return randomInt(0, MAX_SEED + 1);
}

/** `B C C B ...`, as printed. */
export function orderText(order: readonly AbSide[]): string {
  return order.map((side) => (side === 'baseline' ? 'B' : 'C')).join(' ');
}
