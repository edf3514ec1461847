// restoreJob: jobs replayed from a binlog (semantics b.7) placed as put, bury or a delayed
// release left them, without counting as new puts.
import { describe, expect, it } from 'vitest';
import { createModel, type RestoredJob } from '../../src/model/index.js';
import { parseStatsYaml } from '../../src/protocol/stats-yaml.js';
import type { Request } from '../../src/protocol/types.js';
import { put, render } from './harness.js';
import { US_PER_SECOND as SECOND_US } from '../../src/units.js';

/** The caller's clock at the model's start: restored times are on the caller's axis. */
const START_US = 1_000 * SECOND_US;

const zeroCounters = { reserves: 0, timeouts: 0, releases: 0, buries: 0, kicks: 0 };

function restored(fields: Partial<RestoredJob> & Pick<RestoredJob, 'id' | 'state'>): RestoredJob {
  return {
    tube: 'default',
    pri: 100,
    delaySeconds: 0,
    ttrSeconds: 60,
    readyAtUs: 0,
    createdUs: START_US - 30 * SECOND_US,
    body: new TextEncoder().encode(`job${fields.id}`),
    counters: zeroCounters,
    ...fields,
  };
}

function setup() {
  const model = createModel({ startUs: START_US });
  const nowUs = START_US;
  const conn = model.connect(nowUs);
  const send = (request: Request, atUs = nowUs): string[] => {
    const out = model.apply(conn, request, atUs).map(render);
    model.checkInvariants();
    return out;
  };
  const okYaml = (request: Request, atUs = nowUs): Map<string, string> => {
    const out = model.apply(conn, request, atUs);
    const first = out[0];
    if (!first || !('reply' in first) || first.reply.kind !== 'OK') throw new Error(`expected OK, got ${out.map(render).join(', ')}`);
    return parseStatsYaml(new TextDecoder().decode(first.reply.body));
  };
  return { model, nowUs, conn, send, okYaml };
}

describe('restoreJob', () => {
  it('restores a ready job with its fields and counters; it is reservable and does not count in total-jobs', () => {
    const { model, nowUs, send, okYaml } = setup();
    const counters = { reserves: 3, timeouts: 1, releases: 2, buries: 0, kicks: 4 };
    expect(model.restoreJob(restored({ id: 7, state: 'ready', tube: 'keep', pri: 5, counters }), nowUs)).toEqual([]);
    model.checkInvariants();
    const job = okYaml({ kind: 'stats-job', id: 7 });
    expect(Object.fromEntries(job)).toMatchObject({
      id: '7', tube: 'keep', state: 'ready', pri: '5', ttr: '60', age: '30',
      reserves: '3', timeouts: '1', releases: '2', buries: '0', kicks: '4',
    });
    expect(okYaml({ kind: 'stats-tube', tube: 'keep' }).get('total-jobs')).toBe('0');
    expect(okYaml({ kind: 'stats-tube', tube: 'keep' }).get('current-jobs-ready')).toBe('1');
    expect(okYaml({ kind: 'stats' }).get('total-jobs')).toBe('0');
    send({ kind: 'watch', tube: 'keep' });
    expect(send({ kind: 'reserve-with-timeout', timeoutSeconds: 0 })).toEqual(['c1: RESERVED 7 job7']);
  });

  it('keeps ids: the next put gets one more than the largest restored id, whatever the order', () => {
    const { model, nowUs, send } = setup();
    model.restoreJob(restored({ id: 9, state: 'ready' }), nowUs);
    model.restoreJob(restored({ id: 4, state: 'ready' }), nowUs);
    expect(send(put('new'))).toEqual(['c1: INSERTED 10']);
    expect(() => model.restoreJob(restored({ id: 4, state: 'ready' }), nowUs)).toThrow(/id is in use/);
  });

  it('skips ids a binlog shows were used by jobs deleted since, and never goes back', () => {
    const { model, send } = setup();
    model.skipIdsThrough(7);
    expect(send(put('a'))).toEqual(['c1: INSERTED 8']);
    model.skipIdsThrough(3);
    expect(send(put('b'))).toEqual(['c1: INSERTED 9']);
  });

  it('restores a delayed job with its absolute ready time; it becomes ready then, not before', () => {
    const { model, nowUs, send, okYaml } = setup();
    model.restoreJob(restored({ id: 1, state: 'delayed', delaySeconds: 600, readyAtUs: nowUs + 595 * SECOND_US }), nowUs);
    model.checkInvariants();
    expect(Object.fromEntries(okYaml({ kind: 'stats-job', id: 1 }))).toMatchObject({ state: 'delayed', delay: '600', 'time-left': '595' });
    expect(send({ kind: 'peek-delayed' })).toEqual(['c1: FOUND 1 job1']);
    expect(model.nextDeadline()).toBe(nowUs + 595 * SECOND_US);
    expect(send({ kind: 'reserve-with-timeout', timeoutSeconds: 0 }, nowUs + 594 * SECOND_US)).toEqual(['c1: TIMED_OUT']);
    expect(send({ kind: 'reserve-with-timeout', timeoutSeconds: 0 }, nowUs + 596 * SECOND_US)).toEqual(['c1: RESERVED 1 job1']);
  });

  it('makes a delayed job whose ready time has passed ready at once', () => {
    const { model, nowUs, send, okYaml } = setup();
    model.restoreJob(restored({ id: 2, state: 'delayed', delaySeconds: 5, readyAtUs: nowUs - SECOND_US }), nowUs);
    expect(okYaml({ kind: 'stats-job', id: 2 }).get('state')).toBe('ready');
    expect(send({ kind: 'peek-ready' })).toEqual(['c1: FOUND 2 job2']);
  });

  it('restores buried jobs in order; kick brings them back', () => {
    const { model, nowUs, send, okYaml } = setup();
    model.restoreJob(restored({ id: 3, state: 'buried', counters: { ...zeroCounters, buries: 2 } }), nowUs);
    model.restoreJob(restored({ id: 1, state: 'buried' }), nowUs);
    model.checkInvariants();
    expect(okYaml({ kind: 'stats-job', id: 3 }).get('buries')).toBe('2');
    expect(send({ kind: 'peek-buried' })).toEqual(['c1: FOUND 3 job3']);
    expect(send({ kind: 'reserve-with-timeout', timeoutSeconds: 0 })).toEqual(['c1: TIMED_OUT']);
    expect(send({ kind: 'kick', bound: 1 })).toEqual(['c1: KICKED 1']);
    expect(send({ kind: 'peek-ready' })).toEqual(['c1: FOUND 3 job3']);
    expect(send({ kind: 'peek-buried' })).toEqual(['c1: FOUND 1 job1']);
  });

  it('hands a restored ready job to a connection already waiting for it', () => {
    const { model, nowUs, conn } = setup();
    expect(model.apply(conn, { kind: 'reserve' }, nowUs)).toEqual([]);
    expect(model.restoreJob(restored({ id: 5, state: 'ready' }), nowUs).map(render)).toEqual(['c1: RESERVED 5 job5']);
    model.checkInvariants();
  });

  it('a tube that only restored jobs hold goes away with its last job', () => {
    const { model, nowUs, send } = setup();
    model.restoreJob(restored({ id: 1, state: 'buried', tube: 'gone' }), nowUs);
    expect(send({ kind: 'stats-tube', tube: 'gone' })[0]).toMatch(/^c1: OK/);
    expect(send({ kind: 'delete', id: 1 })).toEqual(['c1: DELETED']);
    expect(send({ kind: 'stats-tube', tube: 'gone' })).toEqual(['c1: NOT_FOUND']);
  });
});
