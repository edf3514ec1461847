// The workload's decision streams (src/workload): decision k of a producer or pool stream is a
// function of the seed and k alone, whatever the clock or the order in which the streams are
// used, and the simulator hands the k-th reservation by a pool decision k of its stream.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createModel } from '../../src/model/index.js';
import type { ConnId, Output, ReferenceModel } from '../../src/model/api.js';
import type { Request } from '../../src/protocol/types.js';
import { parseScenario } from '../../src/scenario/load.js';
import type { Scenario } from '../../src/scenario/schema.js';
import { createSimulation } from '../../src/sim/run.js';
import {
  failureAction,
  planWorkload,
  poolStream,
  producerStream,
  StreamRole,
  streamRandom,
  type PutDecision,
  type WorkDecision,
} from '../../src/workload/index.js';
import { scenario as inline } from '../sim/helpers.js';

const smoke = parseScenario(readFileSync('scenarios/smoke.yaml', 'utf8'), 'scenarios/smoke.yaml');
const shared = parseScenario(readFileSync('scenarios/shared-pool.yaml', 'utf8'), 'scenarios/shared-pool.yaml');

function puts(scenario: Scenario, producer: number, seed: number, n: number): PutDecision[] {
  const stream = producerStream(planWorkload(scenario), producer, seed);
  const out: PutDecision[] = [];
  for (let i = 0; i < n; i++) {
    const d = stream.next();
    if (d === undefined) break;
    out.push(d);
  }
  return out;
}

function work(scenario: Scenario, pool: number, seed: number, tubes: readonly number[]): WorkDecision[] {
  const stream = poolStream(planWorkload(scenario), pool, seed);
  return tubes.map((tube) => stream.next(tube));
}

describe('producer streams', () => {
  it('give the same decisions for the same seed, and others for another seed or producer', () => {
    const a = puts(smoke, 0, 11, 200);
    expect(a).toHaveLength(200);
    expect(puts(smoke, 0, 11, 200)).toEqual(a);
    expect(puts(smoke, 0, 12, 200).map((d) => d.atUs)).not.toEqual(a.map((d) => d.atUs));
    // Producer 1 is constant-rate: same times each seed, but its stream is its own.
    expect(puts(smoke, 1, 11, 50).map((d) => d.atUs)).toEqual(puts(smoke, 1, 12, 50).map((d) => d.atUs));
    // Decisions are numbered, in increasing intended time, and carry what the spec leaves to chance.
    expect(a.map((d) => d.index)).toEqual(a.map((_, k) => k));
    for (let k = 1; k < a.length; k++) expect(a[k].atUs).toBeGreaterThanOrEqual(a[k - 1].atUs);
    expect(new Set(a.map((d) => d.pri))).toEqual(new Set([256, 1024]));
    for (const d of a) expect(d.bodyBytes).toBeGreaterThanOrEqual(100), expect(d.bodyBytes).toBeLessThanOrEqual(400);
    expect(new Set(a.map((d) => d.bodyBytes)).size).toBeGreaterThan(50);
  });

  it('do not depend on what other streams drew, or when', () => {
    // Drawing the pools' and the other producer's streams in between changes nothing.
    const workload = planWorkload(smoke);
    const p0 = producerStream(workload, 0, 5);
    const p1 = producerStream(workload, 1, 5);
    const pool = poolStream(workload, 0, 5);
    const interleaved: PutDecision[] = [];
    for (let k = 0; k < 100; k++) {
      interleaved.push(p0.next()!);
      for (let j = 0; j < k % 3; j++) p1.next(), pool.next(0);
    }
    expect(interleaved).toEqual(puts(smoke, 0, 5, 100));
  });

  it('end at the scenario duration, the producer stop time and its own job count', () => {
    const s = inline(`
name: bounds
durationSeconds: 10
producers:
  - arrival: { process: constant, ratePerSecond: 10 }
  - arrival: { process: constant, ratePerSecond: 10 }
    stopSeconds: 2
  - arrival: { process: poisson, ratePerSecond: 10 }
    jobs: 7
workers:
  - count: 1
    service: { distribution: constant, seconds: 0.01 }
`);
    expect(puts(s, 0, 1, 1000)).toHaveLength(100);
    expect(puts(s, 1, 1, 1000)).toHaveLength(20);
    expect(puts(s, 2, 1, 1000)).toHaveLength(7);
    // An untimed stream (closed loop) goes on past the duration with the same decisions.
    const untimed = producerStream(planWorkload(s), 0, 1, { untimed: true });
    const first = Array.from({ length: 150 }, () => untimed.next()!);
    expect(first.slice(0, 100)).toEqual(puts(s, 0, 1, 1000));
    expect(first[120].atUs).toBe(Infinity);
  });

  it('time run-at jobs from their intended send time', () => {
    const s = inline(`
name: run-at
durationSeconds: 10000
producers:
  - arrival: { process: poisson, ratePerSecond: 0.01 }
    runAt: { everySeconds: 3600 }
workers:
  - count: 1
    service: { distribution: constant, seconds: 0.01 }
`);
    for (const d of puts(s, 0, 3, 50)) {
      expect(d.baseDelaySeconds).toBe(0);
      expect(((d.atUs + d.delaySeconds * 1e6) / 1e6) % 3600).toBeLessThan(1);
    }
  });
});

describe('pool streams', () => {
  it('give the same decisions for the same seed, and others for another seed or pool', () => {
    const tubes = Array.from({ length: 300 }, (_, k) => k % 3);
    const a = work(shared, 0, 21, tubes);
    expect(work(shared, 0, 21, tubes)).toEqual(a);
    expect(work(shared, 0, 22, tubes).map((d) => d.serviceUs)).not.toEqual(a.map((d) => d.serviceUs));
    const mailers = work(smoke, 0, 21, Array(300).fill(0));
    const reporters = work(smoke, 1, 21, Array(300).fill(1));
    expect(mailers.filter((d) => d.fails).length).toBeGreaterThan(3);
    expect(reporters.every((d) => !d.fails && !d.crashes && d.serviceUs === 10_000)).toBe(true);
  });

  it('hand decision k to the k-th reservation whatever the tubes before it: only the service distribution follows the tube', () => {
    // shared-pool: thumbnails and pdfs are lognormal (two draws), webhooks exponential (one).
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 200 }), fc.integer({ min: 0, max: 1000 }), (tubes, seed) => {
        const mixed = work(shared, 0, seed, tubes);
        const allPdfs = work(shared, 0, seed, tubes.map(() => 1));
        mixed.forEach((d, k) => {
          expect(d.index).toBe(k);
          expect(d.crashes).toBe(allPdfs[k].crashes);
          expect(d.fails).toBe(allPdfs[k].fails);
          if (tubes[k] === 1) expect(d.serviceUs).toBe(allPdfs[k].serviceUs);
        });
      }),
      { seed: 4242, numRuns: 100 },
    );
  });

  it('crash at a point inside the service time and never fail a crashed job', () => {
    const s = inline(`
name: crashy
durationSeconds: 10
producers:
  - arrival: { process: poisson, ratePerSecond: 1 }
workers:
  - count: 2
    service: { distribution: exponential, meanSeconds: 1 }
    crash: { probability: 0.5 }
    failure: { probability: 0.5, policy: bury }
`);
    const decisions = work(s, 0, 9, Array(2000).fill(0));
    const crashed = decisions.filter((d) => d.crashes);
    expect(crashed.length).toBeGreaterThan(900);
    expect(crashed.length).toBeLessThan(1100);
    for (const d of crashed) expect(d.fails).toBe(false), expect(d.workUs).toBeLessThanOrEqual(d.serviceUs);
    for (const d of decisions.filter((x) => !x.crashes)) expect(d.workUs).toBe(d.serviceUs);
    const failed = decisions.filter((d) => d.fails).length;
    expect(failed).toBeGreaterThan(400);
    expect(failed).toBeLessThan(600);
  });

  it('say what a failure leads to: exponential backoff in whole seconds, then bury', () => {
    const retry = { probability: 1, policy: 'retry', maxRetries: 3, backoffSeconds: 2, backoffFactor: 2, maxBackoffSeconds: 5 } as const;
    expect([0, 1, 2, 3].map((r) => failureAction(retry, r))).toEqual([
      { kind: 'release', delaySeconds: 2 },
      { kind: 'release', delaySeconds: 4 },
      { kind: 'release', delaySeconds: 5 },
      { kind: 'bury' },
    ]);
    expect(failureAction({ probability: 1, policy: 'bury' }, 0)).toEqual({ kind: 'bury' });
  });
});

describe('random streams', () => {
  it('start uniform across streams, even for seed 1 (xoroshiro128+ starts near 1.0 for small seeds)', () => {
    const firstDraws = Array.from({ length: 1000 }, (_, pool) => streamRandom(1, StreamRole.Pool, pool).uniform());
    const mean = firstDraws.reduce((a, b) => a + b, 0) / firstDraws.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
    expect(firstDraws.filter((u) => u < 0.1).length).toBeGreaterThan(50);
    expect(streamRandom(1, StreamRole.Pool, 3).uniform()).toBe(streamRandom(1, StreamRole.Pool, 3).uniform());
    expect(streamRandom(1, StreamRole.Pool, 3).uniform()).not.toBe(streamRandom(1, StreamRole.Producer, 3).uniform());
  });
});

describe('slices of a stream (shards)', () => {
  const mixed = inline(`
name: mixed
durationSeconds: 20
tubes: [a, b]
producers:
  - { tube: a, arrival: { process: constant, ratePerSecond: 30 }, jobs: 7 }
  - { tube: b, arrival: { process: poisson, ratePerSecond: 12 }, priority: { high: 1, low: 2 }, bodyBytes: { minBytes: 10, maxBytes: 90 } }
  - { tube: b, arrival: { process: bursts, jobsPerBurst: 5, everySeconds: 2 }, delaySeconds: { min: 0, max: 3 } }
  - { tube: a, arrival: { process: schedule, steps: [{ fromSeconds: 0, ratePerSecond: 9 }, { fromSeconds: 5, ratePerSecond: 3 }] } }
workers:
  - count: 3
    watch: [a, b]
    service: { distribution: exponential, meanSeconds: 0.1 }
    serviceByTube: { b: { distribution: lognormal, meanSeconds: 0.2, sigma: 0.5 } }
    crash: { probability: 0.1, mode: disconnect }
    failure: { probability: 0.2, policy: bury }
`);
  const workload = planWorkload(mixed);
  const drain = (next: () => PutDecision | undefined) => {
    const out: PutDecision[] = [];
    for (let d = next(); d !== undefined; d = next()) out.push(d);
    return out;
  };

  it('of N shards together hand out exactly the whole stream of the same seed, every arrival process alike', () => {
    for (let p = 0; p < mixed.producers.length; p++) {
      const all = (() => {
        const s = producerStream(workload, p, 3);
        return drain(() => s.next());
      })();
      expect(all.length).toBeGreaterThan(6);
      for (const n of [2, 3, 5]) {
        const shares = Array.from({ length: n }, (_, position) => {
          const s = producerStream(workload, p, 3, { slice: { count: n, position } });
          return drain(() => s.next());
        });
        shares.forEach((share, position) => {
          for (const d of share) expect(d.index % n).toBe(position);
        });
        const union = shares.flat().sort((x, y) => x.index - y.index);
        expect(union).toEqual(all);
      }
    }
  });

  it('of a pool hand shard j-th reservation decision position + jN of the whole stream', () => {
    const tubes = Array.from({ length: 120 }, (_, k) => (k * 7) % 2);
    const whole = work(mixed, 0, 5, Array(600).fill(1));
    for (const n of [2, 3]) {
      for (let position = 0; position < n; position++) {
        const s = poolStream(workload, 0, 5, { slice: { count: n, position } });
        const mine = tubes.map((tube) => ({ ...s.next(tube) }));
        mine.forEach((d, j) => {
          const k = position + j * n;
          expect(d.index).toBe(k);
          expect([d.crashes, d.fails]).toEqual([whole[k].crashes, whole[k].fails]);
          if (tubes[j] === 1) expect(d.serviceUs).toBe(whole[k].serviceUs);
        });
      }
    }
    expect(() => poolStream(workload, 0, 5, { slice: { count: 2, position: 2 } })).toThrow(RangeError);
  });

  it('tell an observer each decision handed out, not those another shard takes', () => {
    const seen: Array<[string, number, number]> = [];
    const observer = {
      put: (producer: number, d: Readonly<PutDecision>) => seen.push(['put', producer, d.index]),
      work: (pool: number, tube: number, d: Readonly<WorkDecision>) => seen.push(['work', pool * 10 + tube, d.index]),
    };
    const producer = producerStream(workload, 1, 8, { slice: { count: 3, position: 2 }, observer });
    const pool = poolStream(workload, 0, 8, { slice: { count: 2, position: 1 }, observer });
    producer.next();
    producer.next();
    pool.next(1);
    pool.next(0);
    expect(seen).toEqual([
      ['put', 1, 2],
      ['put', 1, 5],
      ['work', 1, 1],
      ['work', 0, 3],
    ]);
  });
});

/** Watches every request and reply of a simulated run, in the order the model sees them. */
function recordingModel(log: Array<{ conn: ConnId; request?: Request; outputs: Output[]; nowUs: number }>) {
  return ({ pickWaiter }: { pickWaiter: (c: readonly ConnId[], tube: string) => number }): ReferenceModel => {
    const inner = createModel({ pickWaiter });
    return new Proxy(inner, {
      get(target, key, receiver) {
        if (key === 'apply') {
          return (conn: ConnId, request: Request, nowUs: number) => {
            const outputs = target.apply(conn, request, nowUs);
            log.push({ conn, request, outputs, nowUs });
            return outputs;
          };
        }
        if (key === 'tick' || key === 'disconnect') {
          return (a: number, b?: number) => {
            const outputs = key === 'tick' ? target.tick(a) : target.disconnect(a, b!);
            log.push({ conn: -1, outputs, nowUs: key === 'tick' ? a : b! });
            return outputs;
          };
        }
        const value = Reflect.get(target, key, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
}

describe('the simulator interprets the workload', () => {
  const scenarios: Array<[string, Scenario]> = [
    ['smoke', smoke],
    ['shared-pool (10 min)', { ...shared, durationSeconds: 600 }],
  ];
  for (const [name, scenario] of scenarios) {
    it(`${name}: each producer puts its stream's decisions in order; the k-th reservation by a pool gets decision k`, () => {
      const seed = 77;
      const log: Parameters<typeof recordingModel>[0] = [];
      const sim = createSimulation(scenario, seed, recordingModel(log));
      while (!sim.step(100_000));
      const workload = planWorkload(scenario);

      // Producers: connections 1.. in scenario order (0 is the first producer's: connect order).
      const putsByConn = new Map<ConnId, Request[]>();
      for (const e of log) if (e.request?.kind === 'put') putsByConn.set(e.conn, [...(putsByConn.get(e.conn) ?? []), e.request]);
      const producerConns = [...putsByConn.keys()].sort((a, b) => a - b);
      expect(producerConns).toHaveLength(scenario.producers.length);
      producerConns.forEach((conn, p) => {
        const sent = putsByConn.get(conn)!;
        const expected = puts(scenario, p, seed, sent.length);
        expect(sent.map((r) => r.kind === 'put' && [r.pri, r.delaySeconds, r.body.length, r.ttrSeconds])).toEqual(
          expected.map((d) => [d.pri, d.delaySeconds, d.bodyBytes, d.ttrSeconds]),
        );
      });

      // Workers: every RESERVED, in the order the model gave them out, and what the worker did next.
      // A worker connection's pool is known by the first tube it watches (the pools here differ).
      const poolOfConn = new Map<ConnId, number>();
      const tubeOfJob = new Map<number, number>();
      const streams = workload.pools.map((_, i) => poolStream(workload, i, seed));
      const open = new Map<ConnId, { decision: WorkDecision; startUs: number }>();
      let checked = 0;
      for (const e of log) {
        if (e.request?.kind === 'watch' && !poolOfConn.has(e.conn)) {
          poolOfConn.set(e.conn, scenario.workers.findIndex((w) => w.watch[0] === (e.request as { tube: string }).tube));
        }
        if (e.request && open.has(e.conn) && ['delete', 'release', 'bury'].includes(e.request.kind)) {
          const { decision, startUs } = open.get(e.conn)!;
          open.delete(e.conn);
          expect(decision.crashes).toBe(false);
          expect(e.nowUs - startUs).toBe(decision.workUs);
          expect(e.request.kind === 'delete').toBe(!decision.fails);
          checked++;
        }
        for (const o of e.outputs) {
          if ('reply' in o && o.reply.kind === 'INSERTED') tubeOfJob.set(o.reply.id, workload.producers[producerConns.indexOf(o.conn)].tube);
        }
        for (const o of e.outputs) {
          if (!('reply' in o) || o.reply.kind !== 'RESERVED') continue;
          const pool = poolOfConn.get(o.conn)!;
          open.set(o.conn, { decision: streams[pool].next(tubeOfJob.get(o.reply.id)!), startUs: e.nowUs });
        }
      }
      expect(checked).toBeGreaterThan(100);
    });
  }
});
