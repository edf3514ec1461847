// Random request sequences over 1-4 connections and 3 tubes with random time advances.
// After every step: the model's invariants, reply accounting per connection, and the promise
// of nextDeadline (nothing changes before it). Reproduce with MODEL_SEED=<seed>.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Request } from '../../src/protocol/types.js';
import { createModel } from '../../src/model/index.js';
import type { ConnId, JobView, Output, ReferenceModel } from '../../src/model/index.js';

const TUBES = ['default', 'a', 'b'];
const MAX_ID = 8;
const SEED = Number(process.env.MODEL_SEED ?? Math.floor(Math.random() * 2 ** 31));
const RUNS = Number(process.env.MODEL_RUNS ?? 300);

const id = fc.integer({ min: 0, max: MAX_ID });
const tube = fc.constantFrom(...TUBES);
const seconds = fc.integer({ min: 0, max: 3 });
const pri = fc.constantFrom(0, 5, 1023, 1024, 4294967295);

/** A put line whose body has not all arrived: the parser's live buffers, zero-filled. */
const putBegin: fc.Arbitrary<Request> = fc
  .record({ pri, delaySeconds: seconds, ttrSeconds: seconds, size: fc.integer({ min: 0, max: 3 }) })
  .map(({ size, ...line }) => {
    const data = new Uint8Array(size + 2);
    return { kind: 'put-begin', ...line, body: data.subarray(0, size), trailer: data.subarray(size) };
  });

const request: fc.Arbitrary<Request> = fc.oneof(
  { weight: 2, arbitrary: putBegin },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('put' as const), pri, delaySeconds: seconds, ttrSeconds: seconds, body: fc.uint8Array({ maxLength: 3 }) }) },
  { weight: 4, arbitrary: fc.constant({ kind: 'reserve' as const }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('reserve-with-timeout' as const), timeoutSeconds: fc.integer({ min: -1, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('reserve-job' as const), id }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), id }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('release' as const), id, pri, delaySeconds: seconds }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('bury' as const), id, pri }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('touch' as const), id }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('use' as const), tube }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('watch' as const), tube }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('ignore' as const), tube }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('peek' as const), id }) },
  { weight: 1, arbitrary: fc.constantFrom({ kind: 'peek-ready' as const }, { kind: 'peek-delayed' as const }, { kind: 'peek-buried' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('kick' as const), bound: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('kick-job' as const), id }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('stats-job' as const), id }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('stats-tube' as const), tube }) },
  { weight: 1, arbitrary: fc.constantFrom({ kind: 'stats' as const }, { kind: 'list-tubes' as const }, { kind: 'list-tube-used' as const }, { kind: 'list-tubes-watched' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('pause-tube' as const), tube, delaySeconds: seconds }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'quit' as const }) },
  { weight: 1, arbitrary: fc.constantFrom<Request>({ kind: 'error', reply: 'BAD_FORMAT', counts: 'put' }, { kind: 'put-too-big' }, { kind: 'put-expected-crlf' }, { kind: 'put-too-big-begin' }) },
);

type Step =
  | { type: 'request'; conn: number; request: Request; afterUs: number }
  | { type: 'advance'; us: number }
  | { type: 'hangup'; conn: number }
  | { type: 'disconnect'; conn: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ type: fc.constant('request' as const), conn: fc.nat(3), request, afterUs: fc.constantFrom(0, 0, 1, 250_000) }) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('advance' as const), us: fc.oneof(fc.integer({ min: 0, max: 3_500_000 }), fc.constantFrom(999_999, 1_000_000, 1_000_001)) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('hangup' as const), conn: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('disconnect' as const), conn: fc.nat(3) }) },
);

function jobViews(model: ReferenceModel, maxId: number): (JobView | undefined)[] {
  return Array.from({ length: maxId + 1 }, (_, i) => model.job(i));
}

/** Each connection other than the requester may only get the one reply that ends its wait. */
function checkReplies(model: ReferenceModel, outputs: Output[], waitingBefore: Set<ConnId>, requester?: ConnId): void {
  const counts = new Map<ConnId, number>();
  for (const output of outputs) {
    counts.set(output.conn, (counts.get(output.conn) ?? 0) + 1);
    if ('reply' in output && output.candidates) {
      expect(output.candidates).toContain(output.conn);
      expect(new Set(output.candidates).size).toBe(output.candidates.length);
    }
    if (output.conn !== requester) {
      expect(waitingBefore.has(output.conn)).toBe(true);
      expect('reply' in output && ['RESERVED', 'TIMED_OUT', 'DEADLINE_SOON'].includes(output.reply.kind)).toBe(true);
    }
  }
  for (const [conn, count] of counts) {
    if (conn !== requester) {
      expect(count).toBe(1);
      expect(model.isWaiting(conn)).toBe(false);
    }
  }
}

function run(connCount: number, steps: Step[]): void {
  const model = createModel({ startUs: 5_000_000 });
  let nowUs = 5_000_000;
  const conns: (ConnId | undefined)[] = Array.from({ length: 4 }, (_, i) => (i < connCount ? model.connect(nowUs) : undefined));
  const open = (slot: number): ConnId => (conns[slot % connCount] ??= model.connect(nowUs));
  const waiting = () => new Set(conns.filter((c): c is ConnId => c !== undefined && model.isWaiting(c)));
  /** Per slot: the begin whose body is still arriving; that connection's next request ends it. */
  const begun: (Request | undefined)[] = [];
  /** The request that ends a begun put: a put if one was drawn, else the failing end. */
  const endOf = (started: Request, drawn: Request): Request => {
    if (started.kind === 'put-too-big-begin') return { kind: 'put-too-big' };
    if (started.kind !== 'put-begin' || drawn.kind !== 'put') return { kind: 'put-expected-crlf' };
    const { pri: p, delaySeconds, ttrSeconds, body } = started;
    return { kind: 'put', pri: p, delaySeconds, ttrSeconds, body };
  };

  for (const s of steps) {
    const before = waiting();
    if (s.type === 'advance') {
      const target = nowUs + s.us;
      // nextDeadline's promise: nothing changes before it.
      const next = model.nextDeadline();
      if (next !== undefined) {
        expect(next).toBeGreaterThan(nowUs);
        if (next - 1 <= target && next - 1 > nowUs) {
          const views = JSON.stringify(jobViews(model, MAX_ID));
          expect(model.tick(next - 1)).toEqual([]);
          expect(JSON.stringify(jobViews(model, MAX_ID))).toBe(views);
          expect(model.nextDeadline()).toBe(next);
        }
      }
      nowUs = target;
      checkReplies(model, model.tick(nowUs), before);
    } else if (s.type === 'hangup') {
      const conn = open(s.conn);
      const wasWaiting = model.isWaiting(conn);
      const out = model.hangup(conn, nowUs);
      checkReplies(model, out, before);
      if (wasWaiting) expect(out.some((o) => o.conn === conn && 'reply' in o && o.reply.kind === 'TIMED_OUT')).toBe(true);
    } else if (s.type === 'disconnect') {
      const conn = open(s.conn);
      before.delete(conn);
      checkReplies(model, model.disconnect(conn, nowUs), before);
      conns[s.conn % connCount] = undefined;
      begun[s.conn % connCount] = undefined;
    } else {
      nowUs += s.afterUs;
      const conn = open(s.conn);
      if (model.isWaiting(conn)) {
        // beanstalkd reads nothing from a waiting connection: let time pass instead.
        checkReplies(model, model.tick(nowUs), before);
      } else {
        const slot = s.conn % connCount;
        const started = begun[slot];
        const req = started ? endOf(started, s.request) : s.request;
        const begins = req.kind === 'put-begin' || req.kind === 'put-too-big-begin';
        begun[slot] = begins ? req : undefined;
        const out = model.apply(conn, req, nowUs);
        checkReplies(model, out, before, conn);
        const own = out.filter((o) => o.conn === conn);
        if (req.kind === 'quit') {
          expect(own).toEqual([{ conn, close: true }]);
          conns[slot] = undefined;
        } else {
          expect(own.length).toBe(model.isWaiting(conn) || begins ? 0 : 1);
        }
      }
    }
    model.checkInvariants();
  }
}

describe('model property: random sequences keep every invariant', () => {
  it(`holds for ${RUNS} runs (seed ${SEED})`, () => {
    console.log(`model property seed: ${SEED} (rerun with MODEL_SEED=${SEED})`);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(step, { maxLength: 80 }), run),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
