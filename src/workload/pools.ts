// A worker pool's decisions: for the k-th job any worker of the pool reserves, how long the work
// takes, whether the worker dies part-way (and where), and whether the job fails. Decision k costs
// the same uniforms in the same order whatever the job: the service time's (as many as the pool's
// most demanding distribution needs, over all its tubes), then crash and crash point (when the pool
// can crash), then failure (when it can fail). Every outcome is drawn even when another makes it
// moot (a crashing worker's failure draw), so no outcome shifts the draws of the next decision.
import type { Random } from '../scenario/random.js';
import type { FailureSpec, WorkerPoolSpec } from '../scenario/schema.js';
import { backoffSeconds } from '../scenario/service.js';
import type { ServiceFromUniforms } from './samplers.js';
import { checkSlice, type StreamSlice, type WorkloadObserver } from './slice.js';

export interface PoolStreamOptions {
  /** A shard's share: only decisions k ≡ slice.position (mod slice.count) are handed out. */
  slice?: StreamSlice;
  /** Told of every decision handed out (not of those a slice skips). */
  observer?: WorkloadObserver;
}

/** The k-th job a pool's workers reserve, as decision k says it goes. */
export interface WorkDecision {
  /** k: this reservation's place in its pool's stream, from 0. */
  index: number;
  /** The job's full service time (µs) for the tube it came from. */
  serviceUs: number;
  /** The worker dies part-way through this job (hung or disconnected, as the pool's crash.mode says). */
  crashes: boolean;
  /** How long the worker works (µs): serviceUs, or the point where it dies. */
  workUs: number;
  /** The job fails when the work ends: release with backoff, or bury (failureAction). Never when it crashes. */
  fails: boolean;
}

/** What a pool is, apart from its stream: everything planWorkload derives from its spec. */
export interface PoolWorkload {
  index: number;
  spec: WorkerPoolSpec;
  /** Service time per tube index of the run (the pool's serviceByTube, else its service). */
  serviceByTube: ServiceFromUniforms[];
  /** Uniforms per service draw: the most any of its tubes' distributions needs. */
  serviceDraws: 0 | 1 | 2;
  /** Touch the job this often while working (0: never). */
  touchUs: number;
}

export class PoolStream {
  private drawn = 0;
  private readonly crashProbability: number;
  private readonly failureProbability: number;
  private readonly sliceCount: number;
  private readonly slicePosition: number;
  private readonly observer: WorkloadObserver | undefined;

  constructor(
    readonly pool: PoolWorkload,
    private readonly random: Random,
    options: PoolStreamOptions = {},
  ) {
    this.crashProbability = pool.spec.crash?.probability ?? -1;
    this.failureProbability = pool.spec.failure?.probability ?? -1;
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
   * Decision k for the k-th reservation by any worker of the pool; `tube` is the reserved job's
   * tube index (it picks the service distribution, never the number of draws). Pass `into` to
   * reuse an object (the simulator does, a million times a run). A sliced stream hands out its
   * own share of the pool's decisions (another shard's cost the same draws, so any tube will do).
   */
  next(tube: number, into?: WorkDecision): WorkDecision {
    let decision = this.draw(tube, into);
    while (this.sliceCount > 1 && decision.index % this.sliceCount !== this.slicePosition) decision = this.draw(tube, decision);
    this.observer?.work?.(this.pool.index, tube, decision);
    return decision;
  }

  private draw(tube: number, into: WorkDecision | undefined): WorkDecision {
    const random = this.random;
    const draws = this.pool.serviceDraws;
    const u1 = draws > 0 ? random.uniform() : 0;
    const u2 = draws > 1 ? random.uniform() : 0;
    const serviceUs = this.pool.serviceByTube[tube](u1, u2);
    let crashes = false;
    let workUs = serviceUs;
    if (this.crashProbability >= 0) {
      const uCrash = random.uniform();
      const uPoint = random.uniform();
      // A probability of 0 never crashes (u is never below 0); 1 always does (u < 1).
      if (uCrash < this.crashProbability) {
        crashes = true;
        workUs = Math.floor(uPoint * serviceUs);
      }
    }
    const fails = this.failureProbability >= 0 && random.uniform() < this.failureProbability && !crashes;
    const decision = into ?? ({} as WorkDecision);
    decision.index = this.drawn++;
    decision.serviceUs = serviceUs;
    decision.crashes = crashes;
    decision.workUs = workUs;
    decision.fails = fails;
    return decision;
  }
}

/** What a worker does with a failed job that has been released `retriesSoFar` times before. */
export type FailureAction = { kind: 'release'; delaySeconds: number } | { kind: 'bury' };

export function failureAction(failure: FailureSpec, retriesSoFar: number): FailureAction {
  if (failure.policy === 'retry' && retriesSoFar < failure.maxRetries) {
    return {
      kind: 'release',
      delaySeconds: backoffSeconds(retriesSoFar, failure.backoffSeconds, failure.backoffFactor, failure.maxBackoffSeconds),
    };
  }
  return { kind: 'bury' };
}
