// Timed behaviour (docs/semantics.md b.3, b.5, a.3, a.15) with the clock advanced explicitly.
import { describe, expect, it } from 'vitest';
import { Harness, put } from './harness.js';

describe('delays', () => {
  it('a delayed job becomes READY at put time + delay (testserv delayed_to_ready)', () => {
    const h = new Harness();
    const c = h.connect();
    h.at(0.5).send(c, put('d', 0, 1));
    expect(h.model.nextDeadline()).toBe(1_500_000);
    h.at(1.4999);
    let tube = h.stats(c, { kind: 'stats-tube', tube: 'default' });
    expect([tube.get('current-jobs-delayed'), tube.get('current-jobs-ready')]).toEqual(['1', '0']);
    h.at(1.51);
    tube = h.stats(c, { kind: 'stats-tube', tube: 'default' });
    expect([tube.get('current-jobs-delayed'), tube.get('current-jobs-ready')]).toEqual(['0', '1']);
    expect(h.model.nextDeadline()).toBeUndefined();
  });

  it('a waiting worker gets the job at its ready time, and the TTR counts from then', () => {
    const h = new Harness();
    const p = h.connect();
    const w = h.connect();
    h.send(p, put('d', 0, 3, 7));
    h.send(w, { kind: 'reserve' });
    // A tick far in the future still runs the event at its own instant.
    expect(h.tick(5)).toEqual(['c2: RESERVED 1 d']);
    expect(h.model.job(1)?.deadlineUs).toBe(10_000_000);
  });

  it('equal ready times fall back to id order', () => {
    const h = new Harness();
    const c = h.connect();
    h.send(c, put('a', 9, 2));
    h.send(c, put('b', 0, 2));
    expect(h.send(c, { kind: 'peek-delayed' })).toEqual(['c1: FOUND 1 a']);
  });
});

describe('TTR and DEADLINE_SOON', () => {
  it('ttr 2: a waiting reserve gets DEADLINE_SOON when the margin starts (probe 64)', () => {
    const h = new Harness();
    const c = h.connect();
    h.send(c, put('x', 0, 0, 2));
    h.send(c, { kind: 'reserve' });
    expect(h.at(0.2).send(c, { kind: 'reserve' })).toEqual([]);
    expect(h.model.nextDeadline()).toBe(1_000_000);
    expect(h.tick(0.999999)).toEqual([]);
    expect(h.tick(1)).toEqual(['c1: DEADLINE_SOON']);
    expect(h.model.job(1)?.state).toBe('reserved');
    // inside the margin a reserve-with-timeout answers at once (probe 65)
    expect(h.at(1.1).send(c, { kind: 'reserve-with-timeout', timeoutSeconds: 5 })).toEqual(['c1: DEADLINE_SOON']);
    // 1.2 s after the margin began, the TTR has expired (probe 66)
    expect(h.tick(2.2)).toEqual([]);
    expect(h.model.job(1)).toMatchObject({ state: 'ready', timeouts: 1 });
    expect(h.stats(c, { kind: 'stats' }).get('job-timeouts')).toBe('1');
    expect(h.stats(c, { kind: 'stats' }).get('cmd-reserve-with-timeout')).toBe('1');
  });

  it('a ready job wins over the margin; without one DEADLINE_SOON is immediate (probes 67, 68)', () => {
    const h = new Harness();
    const c = h.connect();
    h.send(c, put('t1', 0, 0, 1));
    h.send(c, put('t2', 0, 0, 1));
    h.send(c, { kind: 'reserve-job', id: 1 });
    expect(h.send(c, { kind: 'reserve-with-timeout', timeoutSeconds: 5 })).toEqual(['c1: RESERVED 2 t2']);
    expect(h.send(c, { kind: 'reserve' })).toEqual(['c1: DEADLINE_SOON']);
    expect(h.model.isWaiting(c)).toBe(false);
  });

  it('ttr 3: reserve-with-timeout 10 gets DEADLINE_SOON 2 s after the reservation (probe 69)', () => {
    const h = new Harness();
    const c = h.connect();
    h.send(c, put('x', 0, 0, 3));
    h.send(c, { kind: 'reserve' });
    h.send(c, { kind: 'reserve-with-timeout', timeoutSeconds: 10 });
    expect(h.tick(1.99)).toEqual([]);
    expect(h.tick(2)).toEqual(['c1: DEADLINE_SOON']);
  });

  it('TIMED_OUT wins when the timeout comes before the margin (probe 70)', () => {
    const h = new Harness();
    const c = h.connect();
    h.send(c, put('x', 0, 0, 3));
    h.send(c, { kind: 'reserve' });
    h.at(0.5).send(c, { kind: 'touch', id: 1 });
    h.send(c, { kind: 'reserve-with-timeout', timeoutSeconds: 1 });
    // One tick past both instants: each event runs at its own time, in order.
    expect(h.tick(3)).toEqual(['c1: TIMED_OUT']);
    expect(h.model.job(1)?.state).toBe('reserved');
    expect(h.tick(3.5)).toEqual([]);
    expect(h.model.job(1)?.state).toBe('ready');
  });

  it('a TTR expiry hands the job to another waiter; the old owner loses it (probe 71)', () => {
    const h = new Harness();
    const a = h.connect();
    const b = h.connect();
    h.send(b, put('x', 0, 0, 1));
    h.send(b, { kind: 'reserve' });
    h.send(a, { kind: 'reserve-with-timeout', timeoutSeconds: 3 });
    expect(h.tick(1)).toEqual(['c1: RESERVED 1 x']);
    expect(h.model.job(1)).toMatchObject({ reserves: 2, timeouts: 1, reservedBy: a });
    expect(h.send(b, { kind: 'delete', id: 1 })).toEqual(['c2: NOT_FOUND']);
  });

  it('ready jobs only in a paused tube count as ready, so the margin fires at once (probe 72)', () => {
    const h = new Harness();
    const c = h.connect();
    h.send(c, put('held', 0, 0, 1));
    h.send(c, { kind: 'reserve' });
    h.send(c, { kind: 'use', tube: 'p' });
    h.send(c, put('paused'));
    h.send(c, { kind: 'watch', tube: 'p' });
    h.send(c, { kind: 'pause-tube', tube: 'p', delaySeconds: 60 });
    expect(h.send(c, { kind: 'reserve-with-timeout', timeoutSeconds: 3 })).toEqual(['c1: DEADLINE_SOON']);
    expect(h.stats(c, { kind: 'stats' }).get('current-waiting')).toBe('0');
  });

  it('only the connection\'s own soonest deadline matters', () => {
    const h = new Harness();
    const a = h.connect();
    const b = h.connect();
    h.send(a, put('a', 0, 0, 1));
    h.send(a, { kind: 'reserve' });
    h.send(b, put('b', 0, 0, 100));
    h.send(b, { kind: 'reserve' });
    expect(h.send(b, { kind: 'reserve' })).toEqual([]);
    expect(h.model.nextDeadline()).toBe(1_000_000);
    // a's expiry goes to the waiting b, whose own margin is far away
    expect(h.tick(1)).toEqual(['c2: RESERVED 1 a']);
  });
});

describe('testserv cases', () => {
  it('reserve_job_ttr_deadline_soon: a delayed job taken by reserve-job, DEADLINE_SOON, then READY after its TTR', () => {
    const h = new Harness();
    const c = h.connect();
    h.send(c, put('d', 0, 100, 1));
    expect(h.send(c, { kind: 'reserve-job', id: 1 })).toEqual(['c1: RESERVED 1 d']);
    expect(h.send(c, { kind: 'reserve' })).toEqual(['c1: DEADLINE_SOON']);
    expect(h.model.job(1)?.state).toBe('reserved');
    expect(h.tick(1.000001)).toEqual([]);
    expect(h.model.job(1)).toMatchObject({ state: 'ready', timeouts: 1, delaySeconds: 100 });
  });

  it('reserve_with_timeout_2conns: a timeout fires on time while another connection waits too', () => {
    const h = new Harness();
    const a = h.connect();
    const b = h.connect();
    h.send(a, { kind: 'reserve' });
    h.send(b, { kind: 'reserve-with-timeout', timeoutSeconds: 1 });
    expect(h.tick(1)).toEqual(['c2: TIMED_OUT']);
    expect(h.model.isWaiting(a)).toBe(true);
  });
});

describe('reserve-with-timeout', () => {
  it('0 answers at once on an empty queue; N answers at N s (probe 33, testserv)', () => {
    const h = new Harness();
    const c = h.connect();
    expect(h.send(c, { kind: 'reserve-with-timeout', timeoutSeconds: 0 })).toEqual(['c1: TIMED_OUT']);
    h.at(10).send(c, { kind: 'reserve-with-timeout', timeoutSeconds: 1 });
    expect(h.model.nextDeadline()).toBe(11_000_000);
    expect(h.tick(10.999999)).toEqual([]);
    expect(h.tick(11)).toEqual(['c1: TIMED_OUT']);
  });

  it('a negative timeout waits forever (1.12)', () => {
    const h = new Harness();
    const c = h.connect();
    expect(h.send(c, { kind: 'reserve-with-timeout', timeoutSeconds: -1 })).toEqual([]);
    expect(h.model.nextDeadline()).toBeUndefined();
    expect(h.tick(1e6)).toEqual([]);
    expect(h.model.isWaiting(c)).toBe(true);
  });

  it('a connection whose reserve timed out may send its next command in the same call', () => {
    const h = new Harness();
    const c = h.connect();
    h.send(c, { kind: 'reserve-with-timeout', timeoutSeconds: 1 });
    expect(h.at(2).send(c, { kind: 'list-tube-used' })).toEqual(['c1: TIMED_OUT', 'c1: USING default']);
  });
});

describe('pause-tube', () => {
  it('holds jobs until the pause ends, then serves waiters (probe 59; testserv pause)', () => {
    const h = new Harness();
    const a = h.connect();
    h.send(a, put('p'));
    h.send(a, { kind: 'pause-tube', tube: 'default', delaySeconds: 2 });
    const b = h.connect();
    h.at(0.5).send(b, { kind: 'reserve-with-timeout', timeoutSeconds: 5 });
    expect(h.model.nextDeadline()).toBe(2_000_000);
    expect(h.tick(1.999)).toEqual([]);
    expect(h.tick(2)).toEqual(['c2: RESERVED 1 p']);
  });

  it('stats-tube shows the pause and the truncated time left, both 0 afterwards (probe 60)', () => {
    const h = new Harness();
    const c = h.connect();
    expect(h.send(c, { kind: 'pause-tube', tube: 'default', delaySeconds: 2 })).toEqual(['c1: PAUSED']);
    h.at(0.001);
    let stats = h.stats(c, { kind: 'stats-tube', tube: 'default' });
    expect([stats.get('pause'), stats.get('pause-time-left'), stats.get('cmd-pause-tube')]).toEqual(['2', '1', '1']);
    h.at(2);
    stats = h.stats(c, { kind: 'stats-tube', tube: 'default' });
    expect([stats.get('pause'), stats.get('pause-time-left')]).toEqual(['0', '0']);
  });

  it('pause 0 un-pauses at once and wakes waiters (probe 62; testserv unpause_tube)', () => {
    const h = new Harness();
    const a = h.connect();
    const b = h.connect();
    h.send(a, { kind: 'pause-tube', tube: 'default', delaySeconds: 86400 });
    h.send(b, { kind: 'reserve' });
    h.send(a, put('x'));
    expect(h.send(a, { kind: 'pause-tube', tube: 'default', delaySeconds: 0 })).toEqual(['c1: PAUSED', 'c2: RESERVED 1 x']);
    expect(h.stats(a, { kind: 'stats-tube', tube: 'default' }).get('pause')).toBe('0');
    h.send(a, put('y'));
    expect(h.send(a, { kind: 'reserve-with-timeout', timeoutSeconds: 0 })).toEqual(['c1: RESERVED 2 y']);
  });

  it('NOT_FOUND for a missing tube still counts globally; re-pausing overwrites', () => {
    const h = new Harness();
    const c = h.connect();
    expect(h.send(c, { kind: 'pause-tube', tube: 'nosuch', delaySeconds: 1 })).toEqual(['c1: NOT_FOUND']);
    h.send(c, { kind: 'pause-tube', tube: 'default', delaySeconds: 100 });
    h.send(c, { kind: 'pause-tube', tube: 'default', delaySeconds: 1 });
    expect(h.model.nextDeadline()).toBe(1_000_000);
    expect(h.stats(c, { kind: 'stats' }).get('cmd-pause-tube')).toBe('3');
    expect(h.stats(c, { kind: 'stats-tube', tube: 'default' }).get('cmd-pause-tube')).toBe('2');
  });
});

describe('stats time fields truncate toward zero', () => {
  it('time-left 4 just after reserving a ttr 5 job; age and uptime whole seconds', () => {
    const h = new Harness({ startUs: 1_700_000_000_000_000 });
    const base = 1_700_000_000;
    const c = h.connect();
    h.at(base + 0.25).send(c, put('x', 0, 0, 5));
    h.send(c, { kind: 'reserve' });
    h.at(base + 0.250001);
    expect(h.stats(c, { kind: 'stats-job', id: 1 }).get('time-left')).toBe('4');
    h.at(base + 3.2499);
    const job = h.stats(c, { kind: 'stats-job', id: 1 });
    expect([job.get('age'), job.get('time-left')]).toEqual(['2', '2']);
    expect(h.stats(c, { kind: 'stats' }).get('uptime')).toBe('3');
    expect(h.model.job(1)?.createdUs).toBe(1_700_000_000_250_000);
    expect(h.model.nextDeadline()).toBe(1_700_000_005_250_000);
  });
});
