// The named model-based properties. Each is a mix of generated steps aimed at one behaviour
// (most steps exercise it, a few others stir the state), checked reply by reply against the
// model; the id places it in its protocol section next to the corpus cases.
import fc from 'fast-check';
import { UINT32_MAX } from '../../protocol/types.js';
import { badInputs, type JobRef, type Op, type OpKind } from './ops.js';

export interface Mix {
  /** Connections the sequence uses (1 to 4). */
  conns: number;
  tubes: number;
  weights: Partial<Record<OpKind, number>>;
  pris?: readonly number[];
  delays?: readonly number[];
  ttrs?: readonly number[];
  timeouts?: readonly number[];
  pauses?: readonly number[];
}

export interface PropertyDef {
  id: string;
  rule: string;
  mix: Mix;
  /** Compares global `stats`, so needs the server to itself (a fresh server or --exclusive). */
  globalStats?: boolean;
}

const PRIS = [0, 1, 5, 5, 1023, 1024, UINT32_MAX] as const;
const SAME_PRI = [7] as const;

const core = { put: 4, 'reserve-with-timeout': 3, delete: 1, release: 1, 'peek-ready': 1 } satisfies Mix['weights'];

export const PROPERTIES: readonly PropertyDef[] = [
  {
    id: 'worker/reserve/property-ready-order',
    rule: 'ready jobs are reserved in (pri, id) order, within a tube and across the watched tubes (semantics b.4)',
    mix: { conns: 2, tubes: 3, pris: PRIS, weights: { ...core, use: 2, watch: 2, ignore: 1, 'peek-ready': 2 } },
  },
  {
    id: 'worker/reserve/property-fifo-equal-priority',
    rule: 'jobs of equal priority are reserved oldest first (by id), also after a release (semantics b.4, h.1)',
    mix: { conns: 2, tubes: 2, pris: SAME_PRI, weights: { ...core, put: 5, use: 1, watch: 1 } },
  },
  {
    id: 'producer/put/property-delay-expiry',
    rule: 'a job put with delay d is DELAYED until d seconds later, then READY (semantics a.1, b.5)',
    mix: {
      conns: 2, tubes: 2, delays: [0, 1, 2],
      weights: { put: 4, 'reserve-with-timeout': 2, 'peek-delayed': 2, 'peek-ready': 2, 'stats-job': 2, advance: 1, sleep: 1, reserve: 1 },
    },
  },
  {
    id: 'worker/ttr/property-expiry-releases',
    rule: 'a reserved job whose TTR passes goes back to READY (timeouts +1); its former owner gets NOT_FOUND (semantics b.5)',
    mix: {
      conns: 3, tubes: 1, ttrs: [1, 2],
      weights: { put: 3, 'reserve-with-timeout': 3, reserve: 1, advance: 3, sleep: 1, delete: 2, release: 1, 'stats-job': 2, touch: 1 },
    },
  },
  {
    id: 'worker/reserve/property-deadline-soon',
    rule: 'reserve while holding a job in its last second, with no ready job, answers DEADLINE_SOON (semantics a.3, b.5)',
    mix: {
      conns: 1, tubes: 2, ttrs: [1, 2, 3], timeouts: [0, 1, 2, 3],
      weights: { put: 3, reserve: 3, 'reserve-with-timeout': 3, advance: 2, sleep: 1, touch: 1, delete: 1, watch: 1, 'pause-tube': 1 },
    },
  },
  {
    id: 'worker/touch/property-restarts-ttr',
    rule: 'touch by the owner restarts the TTR (time-left back to ttr); anyone else gets NOT_FOUND (semantics a.8)',
    mix: {
      conns: 1, tubes: 1, ttrs: [2, 3],
      weights: { put: 2, 'reserve-with-timeout': 2, touch: 4, reserve: 1, sleep: 4, 'stats-job': 1 },
    },
  },
  {
    id: 'worker/release/property-priority-and-delay',
    rule: 'release <id> <pri> <delay> by the owner sets the priority and delays the job (semantics a.6)',
    mix: {
      conns: 1, tubes: 2, pris: PRIS, delays: [0, 0, 1, 2],
      weights: { put: 3, 'reserve-with-timeout': 3, release: 4, 'peek-ready': 1, 'peek-delayed': 1, 'stats-job': 2, advance: 1 },
    },
  },
  {
    id: 'worker/bury-kick/property-bury-and-kick',
    rule: 'bury moves the job to the tail of the buried list; kick kicks buried jobs before delayed ones; kick-job any one (semantics a.7, a.11, a.12)',
    mix: {
      conns: 1, tubes: 2, pris: PRIS, delays: [0, 0, 1, 3],
      weights: { put: 3, 'reserve-with-timeout': 3, bury: 4, kick: 3, 'kick-job': 2, 'peek-buried': 2, 'peek-delayed': 1, 'stats-job': 1, use: 1 },
    },
  },
  {
    id: 'worker/reserve-job/property-any-state',
    rule: 'reserve-job takes a ready, delayed or buried job from any tube; a reserved one is NOT_FOUND (semantics a.4)',
    mix: {
      conns: 2, tubes: 3, delays: [0, 2],
      weights: { put: 3, 'reserve-job': 4, bury: 1, release: 1, 'reserve-with-timeout': 1, use: 1, 'stats-job': 1, 'pause-tube': 1 },
    },
  },
  {
    id: 'worker/peek/property-peek-family',
    rule: 'peek <id> finds a job in any state; peek-ready / -delayed / -buried show the used tube\'s next job (semantics a.10)',
    mix: {
      conns: 1, tubes: 2, pris: PRIS, delays: [0, 1, 3],
      weights: { put: 3, peek: 3, 'peek-ready': 2, 'peek-delayed': 2, 'peek-buried': 2, 'reserve-with-timeout': 1, bury: 1, use: 1, delete: 1 },
    },
  },
  {
    id: 'worker/delete/property-every-state',
    rule: 'delete removes a ready, delayed, buried or own reserved job; a job reserved by another connection is NOT_FOUND (semantics a.5)',
    mix: {
      conns: 3, tubes: 1, delays: [0, 0, 2],
      weights: { put: 3, delete: 4, 'reserve-with-timeout': 2, bury: 1, 'peek': 1, 'stats-job': 1 },
    },
  },
  {
    id: 'tubes/watch/property-watch-ignore-use-lifetime',
    rule: 'watch / ignore / use keep the lists and counts; a tube exists while a job, user or watcher refers to it (semantics a.2, a.9, b.6)',
    mix: {
      conns: 3, tubes: 3,
      weights: { use: 3, watch: 3, ignore: 3, 'list-tubes-watched': 2, 'list-tube-used': 1, 'list-tubes': 2, 'stats-tube': 2, put: 1, delete: 1, close: 1 },
    },
  },
  {
    id: 'tubes/pause-tube/property-pause',
    rule: 'pause-tube stops reserve from handing out the tube\'s jobs until the delay passes (semantics a.15, b.5)',
    mix: {
      conns: 2, tubes: 1, pauses: [0, 1, 2, 2],
      weights: { put: 3, 'pause-tube': 3, 'reserve-with-timeout': 3, reserve: 1, 'stats-tube': 2, advance: 1, sleep: 1, 'peek-ready': 1 },
    },
  },
  {
    id: 'worker/reserve-with-timeout/property-timeout',
    rule: 'reserve-with-timeout answers a job as soon as one is ready, else TIMED_OUT after the timeout (semantics a.3)',
    mix: {
      conns: 3, tubes: 2, timeouts: [0, 1, 2], delays: [0, 1, 2],
      weights: { put: 3, 'reserve-with-timeout': 4, advance: 2, sleep: 1, watch: 1, use: 1 },
    },
  },
  {
    id: 'worker/close/property-releases-jobs',
    rule: 'closing a connection (or quit) puts its reserved jobs back to READY (semantics a.16, b.5)',
    mix: {
      conns: 3, tubes: 1,
      weights: { put: 3, 'reserve-with-timeout': 3, reserve: 1, close: 2, quit: 2, 'stats-job': 2, 'peek-ready': 1 },
    },
  },
  {
    id: 'stats/counters/property-stats-counters',
    rule: 'the counters of stats (as deltas), stats-tube and stats-job follow every command (semantics d)',
    globalStats: true,
    mix: {
      conns: 2, tubes: 2, pris: PRIS, delays: [0, 2], pauses: [1],
      weights: {
        put: 3, 'reserve-with-timeout': 2, delete: 1, release: 1, bury: 1, kick: 1, touch: 1, 'stats-job': 2, 'stats-tube': 3,
        stats: 3, use: 1, watch: 1, 'pause-tube': 1, raw: 1, peek: 1,
      },
    },
  },
  {
    id: 'framing/errors/property-bad-input',
    rule: 'malformed numbers, over-long lines, bad tube names, oversized bodies and a missing CR LF get the right error and the stream resynchronises as beanstalkd\'s does (semantics a.0, a.1, h.14)',
    mix: { conns: 2, tubes: 1, weights: { raw: 6, put: 2, 'reserve-with-timeout': 1, 'list-tube-used': 1, 'stats-tube': 1 } },
  },
  {
    id: 'mixed/all/property-random-sequences',
    rule: 'random sequences of every command over 1 to 4 connections and several tubes behave as the model says',
    mix: {
      conns: 4, tubes: 3, pris: PRIS, delays: [0, 0, 1], ttrs: [1, 2, 5], timeouts: [0, 1], pauses: [0, 1],
      weights: {
        put: 4, 'reserve-with-timeout': 3, reserve: 1, 'reserve-job': 1, delete: 2, release: 2, bury: 1, touch: 1, kick: 1, 'kick-job': 1,
        peek: 1, 'peek-ready': 1, 'peek-delayed': 1, 'peek-buried': 1, use: 1, watch: 1, ignore: 1, 'stats-job': 1, 'stats-tube': 1,
        'pause-tube': 1, 'list-tubes-watched': 1, close: 1, advance: 1, raw: 1,
      },
    },
  },
];

/** The arbitrary of one step under a mix. */
export function opArbitrary(mix: Mix, maxJobSize: number): fc.Arbitrary<Op> {
  const conn = fc.integer({ min: 0, max: mix.conns - 1 });
  const tube = fc.integer({ min: 0, max: mix.tubes - 1 });
  const job: fc.Arbitrary<JobRef> = fc.oneof({ weight: 12, arbitrary: fc.nat(11) }, { weight: 1, arbitrary: fc.constant('missing' as const) });
  const pick = (values: readonly number[] | undefined, fallback: readonly number[]) => fc.constantFrom(...(values ?? fallback));
  const pri = pick(mix.pris, [0, 5, 10]);
  const delay = pick(mix.delays, [0]);
  const ttr = pick(mix.ttrs, [10]);
  const body = fc.string({ unit: fc.constantFrom(...'abcxyz09'), maxLength: 5 });
  const builders: Record<OpKind, () => fc.Arbitrary<Op>> = {
    put: () => fc.record({ op: fc.constant('put'), conn, pri, delay, ttr, body }),
    use: () => fc.record({ op: fc.constant('use'), conn, tube }),
    watch: () => fc.record({ op: fc.constant('watch'), conn, tube }),
    ignore: () => fc.record({ op: fc.constant('ignore'), conn, tube }),
    'stats-tube': () => fc.record({ op: fc.constant('stats-tube'), conn, tube }),
    reserve: () => fc.record({ op: fc.constant('reserve'), conn }),
    'reserve-with-timeout': () =>
      fc.record({ op: fc.constant('reserve-with-timeout'), conn, seconds: pick(mix.timeouts, [0, 0, 0, 1]) }),
    'reserve-job': () => fc.record({ op: fc.constant('reserve-job'), conn, job }),
    delete: () => fc.record({ op: fc.constant('delete'), conn, job }),
    touch: () => fc.record({ op: fc.constant('touch'), conn, job }),
    peek: () => fc.record({ op: fc.constant('peek'), conn, job }),
    'kick-job': () => fc.record({ op: fc.constant('kick-job'), conn, job }),
    'stats-job': () => fc.record({ op: fc.constant('stats-job'), conn, job }),
    release: () => fc.record({ op: fc.constant('release'), conn, job, pri, delay }),
    bury: () => fc.record({ op: fc.constant('bury'), conn, job, pri }),
    kick: () => fc.record({ op: fc.constant('kick'), conn, bound: fc.integer({ min: 0, max: 4 }) }),
    'pause-tube': () => fc.record({ op: fc.constant('pause-tube'), conn, tube, delay: pick(mix.pauses, [0, 1]) }),
    'peek-ready': () => fc.record({ op: fc.constant('peek-ready'), conn }),
    'peek-delayed': () => fc.record({ op: fc.constant('peek-delayed'), conn }),
    'peek-buried': () => fc.record({ op: fc.constant('peek-buried'), conn }),
    'list-tube-used': () => fc.record({ op: fc.constant('list-tube-used'), conn }),
    'list-tubes-watched': () => fc.record({ op: fc.constant('list-tubes-watched'), conn }),
    'list-tubes': () => fc.record({ op: fc.constant('list-tubes'), conn }),
    stats: () => fc.record({ op: fc.constant('stats'), conn }),
    close: () => fc.record({ op: fc.constant('close'), conn }),
    quit: () => fc.record({ op: fc.constant('quit'), conn }),
    sleep: () => fc.record({ op: fc.constant('sleep'), ms: fc.constantFrom(150, 400, 700, 1100) }),
    advance: () => fc.constant({ op: 'advance' as const }),
    raw: () =>
      fc.tuple(conn, fc.constantFrom(...badInputs(maxJobSize))).map(([c, input]): Op => ({ op: 'raw', conn: c, ...input })),
  };
  const weighted = Object.entries(mix.weights).map(([kind, weight]) => ({
    weight: weight as number,
    arbitrary: builders[kind as OpKind]() as fc.Arbitrary<Op>,
  }));
  return fc.oneof(...weighted);
}
