// A producer's decisions: when each put is meant to go out and what it carries (priority, delay,
// body size, TTR), decision k drawn from the producer's own stream in a fixed order (the arrival
// gap, then the priority, the delay, the body size; each only when the spec leaves it to chance).
import { createArrivals, type ArrivalProcess } from '../scenario/arrivals.js';
import type { PriorityChooser } from '../scenario/priorities.js';
import type { Random } from '../scenario/random.js';
import type { ProducerSpec } from '../scenario/schema.js';
import { baseDelayFromUniform, bodyBytesFromUniform, runAtWaitSeconds } from './samplers.js';
import { checkSlice, type StreamSlice, type WorkloadObserver } from './slice.js';

import { US_PER_SECOND as US } from '../units.js';

/** One put, as producer decision k says it. */
export interface PutDecision {
  /** k: this put's place in its producer's stream, from 0. */
  index: number;
  /** When the put is meant to be sent, µs from the run's start (Infinity in an untimed stream once arrivals end). */
  atUs: number;
  pri: number;
  /** The priority class's index in Workload.classNames. */
  classIndex: number;
  /** The (tube, priority class) group the result breaks the job down by: tube * classes + classIndex. */
  group: number;
  /** The drawn part of the delay: the producer's fixed or uniform delay, whole seconds. */
  baseDelaySeconds: number;
  /** The delay of a put sent at atUs: the base plus the wait to its run-at time (delaySecondsAt). */
  delaySeconds: number;
  bodyBytes: number;
  ttrSeconds: number;
}

/** What a producer is, apart from its stream: everything planWorkload derives from its spec. */
export interface ProducerWorkload {
  index: number;
  spec: ProducerSpec;
  tube: number;
  tubeName: string;
  /** Producing stops before this time: the scenario's duration and the producer's stopSeconds. */
  stopUs: number;
  /** The producer's own job count (Infinity when it has none); the scenario's `jobs` is the caller's to apply. */
  limit: number;
  /** Number of priority classes in the run, for the group index. */
  classCount: number;
  priority: PriorityChooser;
}

export interface ProducerStreamOptions {
  /**
   * Keep drawing past stopUs and the end of the arrival process (atUs is then Infinity): for a
   * closed loop, which sends as fast as the server answers and only wants the attributes. The
   * arrival gap is still drawn, so decision k is the same in both kinds of stream.
   */
  untimed?: boolean;
  /** A shard's share: only decisions k ≡ slice.position (mod slice.count) are handed out. */
  slice?: StreamSlice;
  /** Told of every decision handed out (not of those a slice skips). */
  observer?: WorkloadObserver;
}

export class ProducerStream {
  private readonly arrivals: ArrivalProcess;
  private readonly delay: ReturnType<typeof baseDelayFromUniform>;
  private readonly body: ReturnType<typeof bodyBytesFromUniform>;
  private readonly untimed: boolean;
  private readonly sliceCount: number;
  private readonly slicePosition: number;
  private readonly observer: WorkloadObserver | undefined;
  private drawn = 0;
  private ended = false;

  constructor(
    readonly producer: ProducerWorkload,
    private readonly random: Random,
    options: ProducerStreamOptions = {},
  ) {
    this.arrivals = createArrivals(producer.spec.arrival, producer.spec.startSeconds, random);
    this.delay = baseDelayFromUniform(producer.spec.delaySeconds);
    this.body = bodyBytesFromUniform(producer.spec.bodyBytes);
    this.untimed = options.untimed === true;
    const slice = checkSlice(options.slice);
    this.sliceCount = slice.count;
    this.slicePosition = slice.position;
    this.observer = options.observer;
  }

  /** Decisions drawn so far: the next one is decision `drawn`. */
  get drawnCount(): number {
    return this.drawn;
  }

  /**
   * The next put, or undefined once the producer is done (its own job count reached; in a timed
   * stream also its arrival process ended or reached stopUs). Once undefined, always undefined.
   * Pass `into` to reuse an object (the simulator does, a million times a run). A sliced stream
   * draws every decision and hands out its own share: decision k, with k its index in the whole.
   */
  next(into?: PutDecision): PutDecision | undefined {
    for (;;) {
      const decision = this.draw(into);
      if (decision === undefined) return undefined;
      if (this.sliceCount === 1 || decision.index % this.sliceCount === this.slicePosition) {
        this.observer?.put?.(this.producer.index, decision);
        return decision;
      }
      // Another shard's decision: the next draw may reuse the object.
      into = decision;
    }
  }

  private draw(into: PutDecision | undefined): PutDecision | undefined {
    const p = this.producer;
    if (this.ended || this.drawn >= p.limit) return this.end();
    const atSeconds = this.arrivals.next();
    let atUs = atSeconds === undefined ? Infinity : Math.round(atSeconds * US);
    if (atUs >= p.stopUs) {
      if (!this.untimed) return this.end();
      atUs = Infinity;
    }
    const random = this.random;
    const choice = p.priority.choose(p.priority.draws === 0 ? 0 : random.uniform());
    const baseDelaySeconds = this.delay.sample(this.delay.draws === 0 ? 0 : random.uniform());
    const bodyBytes = this.body.sample(this.body.draws === 0 ? 0 : random.uniform());
    const decision = into ?? ({} as PutDecision);
    decision.index = this.drawn++;
    decision.atUs = atUs;
    decision.pri = choice.pri;
    decision.classIndex = choice.classIndex;
    decision.group = p.tube * p.classCount + choice.classIndex;
    decision.baseDelaySeconds = baseDelaySeconds;
    decision.delaySeconds = atUs === Infinity ? baseDelaySeconds : delaySecondsAt(p, baseDelaySeconds, atUs);
    decision.bodyBytes = bodyBytes;
    decision.ttrSeconds = p.spec.ttrSeconds;
    return decision;
  }

  private end(): undefined {
    this.ended = true;
    return undefined;
  }
}

/** The delay of a put actually sent at putUs (a closed loop sends when it can, not at atUs). */
export function delaySecondsAt(producer: ProducerWorkload, baseDelaySeconds: number, putUs: number): number {
  return baseDelaySeconds + runAtWaitSeconds(producer.spec.runAt, putUs);
}
