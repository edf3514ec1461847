// What each put carries, drawn per job from a producer's spec: the body size and the delay (fixed,
// uniform, or up to a run-at time). Pure functions of the spec, the seeded random source and the
// virtual time, kept apart from the producers' event handling that calls them.
import type { Random } from '../scenario/random.js';
import type { Scenario } from '../scenario/schema.js';
import { US } from './event-queue.js';

type ProducerSpec = Scenario['producers'][number];

export function bodySizeSampler(spec: ProducerSpec['bodyBytes']): (random: Random) => number {
  if (typeof spec === 'number') return () => spec;
  const span = spec.maxBytes - spec.minBytes + 1;
  return (random) => spec.minBytes + random.below(span);
}

/** Whole seconds of delay for a job put at nowUs: a fixed or uniform delay, plus the wait for its run-at time. */
export function delaySampler(
  spec: ProducerSpec['delaySeconds'],
  runAt: ProducerSpec['runAt'],
): (random: Random, nowUs: number) => number {
  const base =
    typeof spec === 'number' ? () => spec : (random: Random) => spec.min + random.below(spec.max - spec.min + 1);
  if (runAt === undefined) return base;
  const everyUs = runAt.everySeconds * US;
  const offsetUs = runAt.offsetSeconds * US;
  return (random, nowUs) => {
    const slots = Math.ceil((nowUs - offsetUs) / everyUs);
    const runAtUs = offsetUs + Math.max(0, slots) * everyUs;
    // beanstalkd delays are whole seconds: round up so the job never runs before its time.
    return base(random) + Math.ceil((runAtUs - nowUs) / US);
  };
}

/** Zero-filled bodies, one per size for the whole run rather than one per put. */
export class BodyCache {
  private readonly bySize = new Map<number, Uint8Array>();
  private last: Uint8Array = new Uint8Array(0);

  body(bytes: number): Uint8Array {
    // Most producers put one size: the last body answers without a lookup.
    if (this.last.length === bytes) return this.last;
    let body = this.bySize.get(bytes);
    if (body === undefined) {
      body = new Uint8Array(bytes);
      this.bySize.set(bytes, body);
    }
    this.last = body;
    return body;
  }
}
