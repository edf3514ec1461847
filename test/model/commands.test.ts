// Commands and their error replies (docs/semantics.md a.1-a.16), mostly probe rows of section (g).
import { describe, expect, it } from 'vitest';
import { Harness, put } from './harness.js';

describe('put and job ids (a.1, h.13)', () => {
  it('EXPECTED_CRLF and DRAINING use up ids; JOB_TOO_BIG and BAD_FORMAT do not (probe 26)', () => {
    const h = new Harness();
    const c = h.connect();
    expect(h.send(c, { kind: 'put-expected-crlf' })).toEqual(['c1: EXPECTED_CRLF']);
    expect(h.send(c, put('q'))).toEqual(['c1: INSERTED 2']);
    expect(h.send(c, { kind: 'put-too-big' })).toEqual(['c1: JOB_TOO_BIG']);
    expect(h.send(c, { kind: 'error', reply: 'BAD_FORMAT', counts: 'put' })).toEqual(['c1: BAD_FORMAT']);
    expect(h.send(c, put('r'))).toEqual(['c1: INSERTED 3']);
    h.model.enterDrainMode();
    expect(h.send(c, put('s'))).toEqual(['c1: DRAINING']);
    expect(h.model.jobCount()).toBe(2);
    const stats = h.stats(c, { kind: 'stats' });
    expect(stats.get('cmd-put')).toBe('6');
    expect(stats.get('total-jobs')).toBe('2');
    expect(stats.get('draining')).toBe('true');
  });

  it('stores ttr 0 as 1 and keeps pri, delay and body (probe 7)', () => {
    const h = new Harness();
    const c = h.connect();
    h.send(c, put('abc', 4294967295, 0, 0));
    const job = h.model.job(1);
    expect(job).toMatchObject({ ttrSeconds: 1, pri: 4294967295, state: 'ready', bodyBytes: 3, tube: 'default' });
    expect(h.stats(c, { kind: 'stats-job', id: 1 }).get('ttr')).toBe('1');
  });

  it('counts parsed-but-failed commands (probe 94)', () => {
    const h = new Harness();
    const c = h.connect();
    h.send(c, { kind: 'error', reply: 'BAD_FORMAT', counts: 'put' }); // trailing garbage
    h.send(c, { kind: 'put-too-big' });
    h.send(c, { kind: 'error', reply: 'BAD_FORMAT' }); // put x
    expect(h.send(c, { kind: 'delete', id: 99 })).toEqual(['c1: NOT_FOUND']);
    expect(h.send(c, { kind: 'touch', id: 99 })).toEqual(['c1: NOT_FOUND']);
    expect(h.send(c, { kind: 'stats-tube', tube: 'nosuch' })).toEqual(['c1: NOT_FOUND']);
    h.send(c, { kind: 'error', reply: 'BAD_FORMAT' }); // use -foo: not counted
    const stats = h.stats(c, { kind: 'stats' });
    expect(stats.get('cmd-put')).toBe('2');
    expect(stats.get('cmd-delete')).toBe('1');
    expect(stats.get('cmd-touch')).toBe('1');
    expect(stats.get('cmd-stats-tube')).toBe('1');
    expect(stats.get('cmd-use')).toBe('0');
    expect(stats.get('current-producers')).toBe('0');
  });

  it('UNKNOWN_COMMAND changes nothing', () => {
    const h = new Harness();
    const c = h.connect();
    expect(h.send(c, { kind: 'error', reply: 'UNKNOWN_COMMAND' })).toEqual(['c1: UNKNOWN_COMMAND']);
    expect(h.stats(c, { kind: 'stats' }).get('cmd-put')).toBe('0');
  });
});

describe('delete (a.5)', () => {
  it('deletes READY, DELAYED and BURIED jobs of any tube; tube cmd-delete counts successes (probe 73)', () => {
    const h = new Harness();
    const a = h.connect();
    h.send(a, put('r'));
    h.send(a, put('d', 0, 100));
    h.send(a, put('b'));
    h.send(a, { kind: 'reserve-job', id: 3 });
    h.send(a, { kind: 'bury', id: 3, pri: 0 });
    const b = h.connect();
    expect(h.send(b, { kind: 'delete', id: 1 })).toEqual(['c2: DELETED']);
    expect(h.send(b, { kind: 'delete', id: 2 })).toEqual(['c2: DELETED']);
    expect(h.send(b, { kind: 'delete', id: 3 })).toEqual(['c2: DELETED']);
    expect(h.send(b, { kind: 'delete', id: 3 })).toEqual(['c2: NOT_FOUND']);
    expect(h.stats(b, { kind: 'stats-tube', tube: 'default' }).get('cmd-delete')).toBe('3');
    expect(h.stats(b, { kind: 'stats' }).get('cmd-delete')).toBe('4');
  });

  it('only the owner may delete, release, bury or touch a reserved job (probes 42-44)', () => {
    const h = new Harness();
    const a = h.connect();
    const b = h.connect();
    h.send(a, put('x'));
    expect(h.send(b, { kind: 'release', id: 1, pri: 0, delaySeconds: 0 })).toEqual(['c2: NOT_FOUND']);
    expect(h.send(b, { kind: 'bury', id: 1, pri: 0 })).toEqual(['c2: NOT_FOUND']);
    expect(h.send(b, { kind: 'touch', id: 1 })).toEqual(['c2: NOT_FOUND']);
    h.send(b, { kind: 'reserve' });
    for (const request of [
      { kind: 'release', id: 1, pri: 0, delaySeconds: 0 },
      { kind: 'bury', id: 1, pri: 0 },
      { kind: 'touch', id: 1 },
      { kind: 'delete', id: 1 },
      { kind: 'reserve-job', id: 1 },
      { kind: 'kick-job', id: 1 },
    ] as const) {
      expect(h.send(a, request)).toEqual(['c1: NOT_FOUND']);
    }
    expect(h.send(b, { kind: 'reserve-job', id: 1 })).toEqual(['c2: NOT_FOUND']);
    expect(h.send(b, { kind: 'touch', id: 1 })).toEqual(['c2: TOUCHED']);
    expect(h.send(b, { kind: 'delete', id: 1 })).toEqual(['c2: DELETED']);
  });
});

describe('release, bury, touch (a.6-a.8)', () => {
  it('release with a delay makes the job DELAYED with the new pri and delay (probe 85)', () => {
    const h = new Harness();
    const c = h.connect();
    h.send(c, put('x'));
    h.send(c, { kind: 'reserve' });
    expect(h.send(c, { kind: 'release', id: 1, pri: 2000, delaySeconds: 3 })).toEqual(['c1: RELEASED']);
    h.at(0.001);
    const stats = h.stats(c, { kind: 'stats-job', id: 1 });
    expect([stats.get('state'), stats.get('pri'), stats.get('delay'), stats.get('time-left'), stats.get('releases')])
      .toEqual(['delayed', '2000', '3', '2', '1']);
  });

  it('bury replaces pri and appends to the FIFO; peek-buried and kick take the oldest (probes 86, 87)', () => {
    const h = new Harness();
    const c = h.connect();
    h.send(c, put('a'));
    h.send(c, put('b'));
    h.send(c, { kind: 'reserve' });
    h.send(c, { kind: 'reserve' });
    expect(h.send(c, { kind: 'bury', id: 1, pri: 9 })).toEqual(['c1: BURIED']);
    expect(h.send(c, { kind: 'bury', id: 1, pri: 0 })).toEqual(['c1: NOT_FOUND']);
    h.send(c, { kind: 'bury', id: 2, pri: 1 });
    expect(h.send(c, { kind: 'peek-buried' })).toEqual(['c1: FOUND 1 a']);
    expect(h.send(c, { kind: 'kick', bound: 1 })).toEqual(['c1: KICKED 1']);
    expect(h.send(c, { kind: 'peek-buried' })).toEqual(['c1: FOUND 2 b']);
    expect(h.model.job(1)).toMatchObject({ state: 'ready', pri: 9, buries: 1, kicks: 1 });
  });

  it('touch restores a full TTR (probe 91)', () => {
    const h = new Harness();
    const c = h.connect();
    h.send(c, put('x', 0, 0, 5));
    h.send(c, { kind: 'reserve' });
    h.at(0.001);
    expect(h.stats(c, { kind: 'stats-job', id: 1 }).get('time-left')).toBe('4');
    h.at(1.6);
    expect(h.stats(c, { kind: 'stats-job', id: 1 }).get('time-left')).toBe('3');
    expect(h.send(c, { kind: 'touch', id: 1 })).toEqual(['c1: TOUCHED']);
    h.at(1.601);
    expect(h.stats(c, { kind: 'stats-job', id: 1 }).get('time-left')).toBe('4');
    expect(h.model.job(1)?.deadlineUs).toBe(6_600_000);
  });
});

describe('kick and kick-job (a.11, a.12)', () => {
  it('kicks only buried jobs when the tube has any, else delayed by ready time (probe 54)', () => {
    const h = new Harness();
    const c = h.connect();
    h.send(c, put('d100', 0, 100));
    h.send(c, put('d50', 0, 50));
    h.send(c, put('b'));
    h.send(c, { kind: 'reserve' });
    h.send(c, { kind: 'bury', id: 3, pri: 0 });
    expect(h.send(c, { kind: 'kick', bound: 10 })).toEqual(['c1: KICKED 1']);
    expect(h.send(c, { kind: 'peek-delayed' })).toEqual(['c1: FOUND 2 d50']);
    expect(h.send(c, { kind: 'kick', bound: 1 })).toEqual(['c1: KICKED 1']);
    expect(h.model.job(2)?.state).toBe('ready');
    expect(h.model.job(1)?.state).toBe('delayed');
    expect(h.send(c, { kind: 'kick', bound: 0 })).toEqual(['c1: KICKED 0']);
    const stats = h.stats(c, { kind: 'stats' });
    expect(stats.get('cmd-kick')).toBe('3');
  });

  it('kick works on the used tube only', () => {
    const h = new Harness();
    const c = h.connect();
    h.send(c, put('d', 0, 100));
    h.send(c, { kind: 'use', tube: 'other' });
    expect(h.send(c, { kind: 'kick', bound: 5 })).toEqual(['c1: KICKED 0']);
  });

  it('kick-job moves BURIED or DELAYED jobs of any tube; otherwise NOT_FOUND; no counter (testserv kickjob_*)', () => {
    const h = new Harness();
    const c = h.connect();
    h.send(c, { kind: 'use', tube: 't' });
    h.send(c, put('ready'));
    h.send(c, put('delayed', 0, 100));
    h.send(c, { kind: 'use', tube: 'default' });
    expect(h.send(c, { kind: 'kick-job', id: 1 })).toEqual(['c1: NOT_FOUND']);
    expect(h.send(c, { kind: 'kick-job', id: 2 })).toEqual(['c1: KICKED']);
    expect(h.send(c, { kind: 'kick-job', id: 2 })).toEqual(['c1: NOT_FOUND']);
    expect(h.send(c, { kind: 'kick-job', id: 9 })).toEqual(['c1: NOT_FOUND']);
    expect(h.model.job(2)).toMatchObject({ state: 'ready', kicks: 1, delaySeconds: 100 });
    expect(h.stats(c, { kind: 'stats' }).get('cmd-kick')).toBe('0');
  });

  it('a kicked job goes to a waiting worker, after the KICKED reply', () => {
    const h = new Harness();
    const a = h.connect();
    const w = h.connect();
    h.send(a, put('d', 0, 100));
    h.send(w, { kind: 'reserve' });
    expect(h.send(a, { kind: 'kick', bound: 5 })).toEqual(['c1: KICKED 1', 'c2: RESERVED 1 d']);
  });
});

describe('reserve-job (a.4)', () => {
  it('takes READY, DELAYED or BURIED jobs of any tube, paused or not, and marks a worker', () => {
    const h = new Harness();
    const c = h.connect();
    h.send(c, { kind: 'use', tube: 'p' });
    h.send(c, put('one'));
    h.send(c, put('two', 0, 100));
    h.send(c, { kind: 'pause-tube', tube: 'p', delaySeconds: 100 });
    const w = h.connect();
    expect(h.send(w, { kind: 'reserve-job', id: 9 })).toEqual(['c2: NOT_FOUND']);
    expect(h.stats(w, { kind: 'stats' }).get('current-workers')).toBe('0');
    expect(h.send(w, { kind: 'reserve-job', id: 2 })).toEqual(['c2: RESERVED 2 two']);
    expect(h.send(w, { kind: 'reserve-job', id: 1 })).toEqual(['c2: RESERVED 1 one']);
    expect(h.send(w, { kind: 'reserve-job', id: 1 })).toEqual(['c2: NOT_FOUND']);
    const stats = h.stats(w, { kind: 'stats' });
    expect(stats.get('current-workers')).toBe('1');
    expect(stats.get('cmd-reserve')).toBe('0');
    // Released with delay 0 it is simply READY (it does not remember it was delayed).
    h.send(w, { kind: 'release', id: 2, pri: 0, delaySeconds: 0 });
    expect(h.model.job(2)?.state).toBe('ready');
  });

  it('a buried job taken by reserve-job goes back to READY on release (testserv reserve_job_buried)', () => {
    const h = new Harness();
    const c = h.connect();
    h.send(c, put('a'));
    h.send(c, { kind: 'reserve' });
    h.send(c, { kind: 'bury', id: 1, pri: 0 });
    expect(h.send(c, { kind: 'reserve-job', id: 1 })).toEqual(['c1: RESERVED 1 a']);
    expect(h.stats(c, { kind: 'stats-tube', tube: 'default' }).get('current-jobs-buried')).toBe('0');
    h.send(c, { kind: 'release', id: 1, pri: 0, delaySeconds: 0 });
    expect(h.model.job(1)?.state).toBe('ready');
  });
});

describe('peek family (a.10)', () => {
  it('peek finds any job; peek-ready/delayed/buried look at the used tube only', () => {
    const h = new Harness();
    const c = h.connect();
    h.send(c, put('p5', 5));
    h.send(c, put('p1', 1));
    h.send(c, put('late', 0, 20));
    h.send(c, put('soon', 0, 10));
    expect(h.send(c, { kind: 'peek', id: 0 })).toEqual(['c1: NOT_FOUND']);
    expect(h.send(c, { kind: 'peek', id: 3 })).toEqual(['c1: FOUND 3 late']);
    expect(h.send(c, { kind: 'peek-ready' })).toEqual(['c1: FOUND 2 p1']);
    expect(h.send(c, { kind: 'peek-delayed' })).toEqual(['c1: FOUND 4 soon']);
    expect(h.send(c, { kind: 'peek-buried' })).toEqual(['c1: NOT_FOUND']);
    h.send(c, { kind: 'delete', id: 4 });
    expect(h.send(c, { kind: 'peek-delayed' })).toEqual(['c1: FOUND 3 late']);
    h.send(c, { kind: 'use', tube: 'empty' });
    expect(h.send(c, { kind: 'peek-ready' })).toEqual(['c1: NOT_FOUND']);
    expect(h.send(c, { kind: 'peek-delayed' })).toEqual(['c1: NOT_FOUND']);
    const stats = h.stats(c, { kind: 'stats' });
    expect([stats.get('cmd-peek'), stats.get('cmd-peek-ready'), stats.get('cmd-peek-delayed'), stats.get('cmd-peek-buried')])
      .toEqual(['2', '2', '3', '1']);
  });

  it('peek-ready works on a paused tube (probe 61)', () => {
    const h = new Harness();
    const c = h.connect();
    h.send(c, put('p'));
    h.send(c, { kind: 'pause-tube', tube: 'default', delaySeconds: 10 });
    expect(h.send(c, { kind: 'peek-ready' })).toEqual(['c1: FOUND 1 p']);
  });
});

describe('use, watch, ignore, lists (a.2, a.9, a.14)', () => {
  it('watch counts, ignore of the last tube, ignore of an unwatched tube (probes 46-48)', () => {
    const h = new Harness();
    const c = h.connect();
    expect(h.send(c, { kind: 'ignore', tube: 'default' })).toEqual(['c1: NOT_IGNORED']);
    expect(h.send(c, { kind: 'ignore', tube: 'nosuch' })).toEqual(['c1: WATCHING 1']);
    expect(h.send(c, { kind: 'watch', tube: 'default' })).toEqual(['c1: WATCHING 1']);
    expect(h.send(c, { kind: 'watch', tube: 'foo' })).toEqual(['c1: WATCHING 2']);
    expect(h.send(c, { kind: 'watch', tube: 'foo' })).toEqual(['c1: WATCHING 2']);
    expect(h.send(c, { kind: 'ignore', tube: 'default' })).toEqual(['c1: WATCHING 1']);
    expect(h.list(c, { kind: 'list-tubes-watched' })).toEqual(['foo']);
    expect(h.send(c, { kind: 'ignore', tube: 'foo' })).toEqual(['c1: NOT_IGNORED']);
    expect(h.stats(c, { kind: 'stats' }).get('cmd-ignore')).toBe('4');
    // ignore never creates a tube
    expect(h.list(c, { kind: 'list-tubes' })).toEqual(['default', 'foo']);
  });

  it('the watch list loses tubes by swap-with-last', () => {
    const h = new Harness();
    const c = h.connect();
    for (const tube of ['t1', 't2', 't3']) h.send(c, { kind: 'watch', tube });
    h.send(c, { kind: 'ignore', tube: 'default' });
    expect(h.list(c, { kind: 'list-tubes-watched' })).toEqual(['t3', 't1', 't2']);
  });

  it('use and list-tube-used', () => {
    const h = new Harness();
    const c = h.connect();
    expect(h.send(c, { kind: 'list-tube-used' })).toEqual(['c1: USING default']);
    expect(h.send(c, { kind: 'use', tube: 'x_y' })).toEqual(['c1: USING x_y']);
    expect(h.send(c, { kind: 'list-tube-used' })).toEqual(['c1: USING x_y']);
    h.send(c, put('j'));
    expect(h.model.job(1)?.tube).toBe('x_y');
  });

  it('list bodies are exact bytes (probe 89)', () => {
    const h = new Harness();
    const c = h.connect();
    for (const tube of ['t1', 't2', 't3']) h.send(c, { kind: 'use', tube });
    expect(h.okBody(c, { kind: 'list-tubes' })).toBe('---\n- default\n- t3\n');
    expect(h.okBody(c, { kind: 'list-tubes' }).length).toBe(19);
  });
});

describe('quit, disconnect, hangup (a.16, a.3)', () => {
  it('quit closes with no reply; reserved jobs go back to READY without counters (probe 45)', () => {
    const h = new Harness();
    const a = h.connect();
    const b = h.connect();
    h.send(a, put('x'));
    h.send(b, { kind: 'reserve' });
    expect(h.send(b, { kind: 'quit' })).toEqual(['c2: CLOSE']);
    expect(h.model.job(1)).toMatchObject({ state: 'ready', reserves: 1, timeouts: 0, releases: 0 });
    expect(() => h.send(b, { kind: 'stats' })).toThrow(/closed/);
    const stats = h.stats(a, { kind: 'stats' });
    expect([stats.get('current-connections'), stats.get('total-connections'), stats.get('current-workers')]).toEqual(['1', '2', '0']);
  });

  it('quit hands the job to another waiting worker (testserv quit_releases_job)', () => {
    const h = new Harness();
    const a = h.connect();
    const b = h.connect();
    h.send(a, put('x'));
    h.send(a, { kind: 'reserve' });
    h.send(b, { kind: 'reserve' });
    expect(h.send(a, { kind: 'quit' })).toEqual(['c1: CLOSE', 'c2: RESERVED 1 x']);
  });

  it('disconnect returns reserved jobs in reservation order (connclose)', () => {
    const h = new Harness();
    const a = h.connect();
    h.send(a, put('low', 5));
    h.send(a, put('high', 1));
    h.send(a, { kind: 'reserve-job', id: 1 });
    h.send(a, { kind: 'reserve-job', id: 2 });
    const w = h.connect();
    h.send(w, { kind: 'reserve' });
    // Job 1 returns first and goes to the waiter although job 2 is more urgent.
    expect(h.model.disconnect(a, 0).map((o) => ('reply' in o ? o.reply.kind + ' ' + ('id' in o.reply ? o.reply.id : '') : 'close'))).toEqual(['RESERVED 1']);
    h.model.checkInvariants();
  });

  it('hangup answers a waiting reserve with TIMED_OUT and does nothing otherwise (probe 84)', () => {
    const h = new Harness();
    const c = h.connect();
    expect(h.model.hangup(c, 0)).toEqual([]);
    h.send(c, { kind: 'reserve' });
    expect(h.model.isWaiting(c)).toBe(true);
    expect(h.model.hangup(c, 0)).toEqual([{ conn: c, reply: { kind: 'TIMED_OUT' } }]);
    expect(h.model.isWaiting(c)).toBe(false);
    h.model.checkInvariants();
  });

  it('a waiting connection may not send commands', () => {
    const h = new Harness();
    const c = h.connect();
    h.send(c, { kind: 'reserve' });
    expect(() => h.model.apply(c, { kind: 'stats' }, 0)).toThrow(/waiting/);
  });
});
