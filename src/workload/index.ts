// The workload: every random decision a scenario leaves to chance, as pure data drawn from seeded
// streams, apart from any clock. The simulator (src/sim, virtual time) and the load runner
// (src/load, real time) interpret the very same decisions, so a seed means the same workload
// under both clocks and only the timing differs. Shards of a load run take slices of the run's
// streams (slice.ts), so that together they make the lone run's decisions.
//
// THE CONTRACT (what an interpreter must do, and may rely on)
//
//   const workload = planWorkload(scenario);          // pure, no seed: tubes, classes, producers, pools
//
//   Producers: one stream per scenario producer.
//     const stream = producerStream(workload, p, seed);          // timed: open loop, the simulator
//     const stream = producerStream(workload, p, seed, { untimed: true });   // closed loop
//     (options also take `slice`, a shard's share of the stream, and an `observer`: slice.ts)
//     stream.next(into?): PutDecision | undefined   (into: an object to reuse; default a new one)
//       { index k, atUs (intended send time, µs from the run's start), pri, classIndex,
//         group (tube * classes + class), baseDelaySeconds, delaySeconds (for a put sent at atUs),
//         bodyBytes, ttrSeconds }
//     undefined once the producer is done: its own `jobs` count, the end of its arrival process,
//     or atUs reaching stopUs (scenario durationSeconds / the producer's stopSeconds); an untimed
//     stream ends on its own job count only and gives atUs = Infinity past the others.
//     The interpreter applies the scenario-wide `jobs` bound itself (it depends on how producers
//     interleave). A put sent at another time than atUs (closed loop) takes
//     delaySecondsAt(workload.producers[p], decision.baseDelaySeconds, sentUs).
//
//   Worker pools: one stream per pool, shared by the pool's workers.
//     const stream = poolStream(workload, pool, seed, { slice?, observer? });
//     stream.next(tube, into?): WorkDecision   // once per reservation by any worker of the pool,
//       { index k, serviceUs, crashes, workUs, fails }   // in the order the reservations happen
//     `tube` is the reserved job's tube index (workload.tubes; from a group: tubeOfGroup). It
//     picks the distribution only: decision k costs the same draws whatever the tube, so the k-th
//     reservation by pool P gets decision k of P's stream whatever the clock did before it.
//     The worker works workUs, then: crashes → dies holding the job (crash.mode, restartSeconds);
//     fails → failureAction(spec.failure, retriesSoFar): release with delaySeconds, or bury;
//     otherwise delete. A job not of this run (a foreign job) must not call next().
//     Touching is workload.pools[i].touchUs (0: never); the worker's pool is poolOfWorker.
//
// The run's seed is printed once by the command; streamRandom(seed, StreamRole.Server, 0) is the
// simulator's stand-in for the server's free choices and is no part of the workload.
import { classifyPriorities } from '../scenario/priorities.js';
import type { Scenario } from '../scenario/schema.js';
import { scenarioTubes } from '../scenario/schema.js';
import { PoolStream, type PoolStreamOptions, type PoolWorkload } from './pools.js';
import { ProducerStream, type ProducerStreamOptions, type ProducerWorkload } from './producers.js';
import { serviceDraws, serviceFromUniforms } from './samplers.js';
import { StreamRole, streamRandom } from './streams.js';

export { PoolStream, failureAction, type FailureAction, type PoolStreamOptions, type PoolWorkload, type WorkDecision } from './pools.js';
export { checkSlice, WHOLE as WHOLE_STREAM, type StreamSlice, type WorkloadObserver } from './slice.js';
export {
  ProducerStream,
  delaySecondsAt,
  type ProducerStreamOptions,
  type ProducerWorkload,
  type PutDecision,
} from './producers.js';
export { StreamRole, streamRandom } from './streams.js';

import { US_PER_SECOND as US } from '../units.js';

export interface Workload {
  scenario: Scenario;
  /** Every tube the scenario touches, in scenarioTubes order: the tube indices of decisions. */
  tubes: string[];
  /** Priority classes in use, most urgent first: the class indices of decisions. */
  classNames: string[];
  producers: ProducerWorkload[];
  pools: PoolWorkload[];
  /** Worker index (pools' workers numbered in scenario order) to its pool index. */
  poolOfWorker: number[];
}

export function planWorkload(scenario: Scenario): Workload {
  const tubes = scenarioTubes(scenario);
  const classes = classifyPriorities(scenario);
  const durationUs = scenario.durationSeconds === undefined ? Infinity : scenario.durationSeconds * US;
  const producers = scenario.producers.map(
    (spec, index): ProducerWorkload => ({
      index,
      spec,
      tube: tubes.indexOf(spec.tube),
      tubeName: spec.tube,
      stopUs: Math.min(durationUs, spec.stopSeconds === undefined ? Infinity : spec.stopSeconds * US),
      limit: spec.jobs ?? Infinity,
      classCount: classes.names.length,
      priority: classes.choosers[index],
    }),
  );
  const pools = scenario.workers.map((spec, index): PoolWorkload => {
    const fallback = serviceFromUniforms(spec.service);
    const byTube = spec.serviceByTube ?? {};
    return {
      index,
      spec,
      serviceByTube: tubes.map((tube) => (byTube[tube] === undefined ? fallback : serviceFromUniforms(byTube[tube]))),
      serviceDraws: [spec.service, ...Object.values(byTube)].reduce<0 | 1 | 2>((most, s) => (serviceDraws(s) > most ? serviceDraws(s) : most), 0),
      touchUs: spec.touchEverySeconds === undefined ? 0 : Math.round(spec.touchEverySeconds * US),
    };
  });
  const poolOfWorker = scenario.workers.flatMap((spec, index) => Array.from({ length: spec.count }, () => index));
  return { scenario, tubes, classNames: classes.names, producers, pools, poolOfWorker };
}

export function producerStream(workload: Workload, producer: number, seed: number, options?: ProducerStreamOptions): ProducerStream {
  return new ProducerStream(workload.producers[producer], streamRandom(seed, StreamRole.Producer, producer), options);
}

export function poolStream(workload: Workload, pool: number, seed: number, options?: PoolStreamOptions): PoolStream {
  return new PoolStream(workload.pools[pool], streamRandom(seed, StreamRole.Pool, pool), options);
}

/** The tube index of a (tube, priority class) group. */
export function tubeOfGroup(workload: Workload, group: number): number {
  return Math.floor(group / workload.classNames.length);
}
