// Which job and which waiting connection (docs/semantics.md b.4, h.1, h.2).
import { describe, expect, it } from 'vitest';
import { Harness, put } from './harness.js';

describe('ready order', () => {
  it('is (pri, id); a released job keeps its id and goes ahead again (probe 74)', () => {
    const h = new Harness();
    const c = h.connect();
    for (const pri of [5, 5, 1, 5, 0]) h.send(c, put(`p${pri}`, pri));
    expect(h.send(c, { kind: 'reserve' })).toEqual(['c1: RESERVED 5 p0']);
    expect(h.send(c, { kind: 'reserve' })).toEqual(['c1: RESERVED 3 p1']);
    expect(h.send(c, { kind: 'reserve' })).toEqual(['c1: RESERVED 1 p5']);
    h.send(c, { kind: 'release', id: 1, pri: 5, delaySeconds: 0 });
    expect(h.send(c, { kind: 'reserve' })).toEqual(['c1: RESERVED 1 p5']);
    h.send(c, { kind: 'release', id: 1, pri: 5, delaySeconds: 0 });
    h.send(c, { kind: 'release', id: 3, pri: 5, delaySeconds: 0 });
    expect(h.send(c, { kind: 'reserve' })).toEqual(['c1: RESERVED 1 p5']);
    expect(h.send(c, { kind: 'reserve' })).toEqual(['c1: RESERVED 2 p5']);
    expect(h.send(c, { kind: 'reserve' })).toEqual(['c1: RESERVED 3 p1']);
  });

  it('is (pri, id) across watched tubes (probes 75, 76; testserv multi_tube)', () => {
    const h = new Harness();
    const c = h.connect();
    h.send(c, { kind: 'use', tube: 'a' });
    h.send(c, put('a9', 9));
    h.send(c, { kind: 'use', tube: 'b' });
    h.send(c, put('b1', 1));
    h.send(c, put('b9', 9));
    h.send(c, { kind: 'watch', tube: 'a' });
    h.send(c, { kind: 'watch', tube: 'b' });
    expect(h.send(c, { kind: 'reserve' })).toEqual(['c1: RESERVED 2 b1']);
    expect(h.send(c, { kind: 'reserve' })).toEqual(['c1: RESERVED 1 a9']);
    expect(h.send(c, { kind: 'reserve' })).toEqual(['c1: RESERVED 3 b9']);
  });

  it('ignores jobs in unwatched and paused tubes', () => {
    const h = new Harness();
    const c = h.connect();
    h.send(c, { kind: 'use', tube: 'other' });
    h.send(c, put('x'));
    h.send(c, { kind: 'use', tube: 'default' });
    h.send(c, put('y', 10));
    h.send(c, { kind: 'pause-tube', tube: 'default', delaySeconds: 5 });
    h.send(c, { kind: 'watch', tube: 'other' });
    h.send(c, { kind: 'pause-tube', tube: 'other', delaySeconds: 5 });
    expect(h.send(c, { kind: 'reserve-with-timeout', timeoutSeconds: 0 })).toEqual(['c1: TIMED_OUT']);
  });
});

describe('waiting connections', () => {
  function waiters(h: Harness, count: number): number[] {
    const conns = Array.from({ length: count }, () => h.connect());
    for (const c of conns) expect(h.send(c, { kind: 'reserve' })).toEqual([]);
    return conns;
  }

  it('three waiters are served FIFO (probe 77)', () => {
    const h = new Harness();
    const p = h.connect();
    waiters(h, 3);
    expect(h.send(p, put('1'))).toEqual(['c1: INSERTED 1', 'c2: RESERVED 1 1']);
    expect(h.send(p, put('2'))).toEqual(['c1: INSERTED 2', 'c3: RESERVED 2 2']);
    expect(h.send(p, put('3'))).toEqual(['c1: INSERTED 3', 'c4: RESERVED 3 3']);
  });

  it('six waiters follow ms_take: W1←1, W2←2, W3←3, W6←4, W5←5, W4←6 (probe 78)', () => {
    const h = new Harness();
    const p = h.connect();
    const w = waiters(h, 6);
    const receivers: number[] = [];
    for (let i = 1; i <= 6; i++) {
      const out = h.raw(p, put(String(i)));
      const delivery = out[1];
      if (!('reply' in delivery) || delivery.reply.kind !== 'RESERVED') throw new Error('no delivery');
      expect(delivery.reply.id).toBe(i);
      receivers.push(w.indexOf(delivery.conn) + 1);
      // Every connection still waiting could have received the job (h.2).
      expect(delivery.candidates ? [...delivery.candidates].sort() : [delivery.conn]).toEqual(
        w.filter((c) => c === delivery.conn || h.model.isWaiting(c)).sort(),
      );
    }
    expect(receivers).toEqual([1, 2, 3, 6, 5, 4]);
  });

  it('a connection waiting on two tubes leaves both sets when served', () => {
    const h = new Harness();
    const p = h.connect();
    const both = h.connect();
    h.send(both, { kind: 'watch', tube: 'x' });
    const onlyX = h.connect();
    h.send(onlyX, { kind: 'watch', tube: 'x' });
    h.send(onlyX, { kind: 'ignore', tube: 'default' });
    h.send(both, { kind: 'reserve' });
    h.send(onlyX, { kind: 'reserve' });
    expect(h.stats(p, { kind: 'stats-tube', tube: 'x' }).get('current-waiting')).toBe('2');
    expect(h.send(p, put('d'))).toEqual(['c1: INSERTED 1', 'c2: RESERVED 1 d']);
    expect(h.stats(p, { kind: 'stats-tube', tube: 'x' }).get('current-waiting')).toBe('1');
    h.send(p, { kind: 'use', tube: 'x' });
    expect(h.send(p, put('x'))).toEqual(['c1: INSERTED 2', 'c3: RESERVED 2 x']);
  });

  it('pickWaiter chooses among the waiting set and is told the tube', () => {
    const calls: Array<[number[], string]> = [];
    const h = new Harness({
      pickWaiter: (candidates, tube) => {
        calls.push([[...candidates], tube]);
        return candidates.length - 1;
      },
    });
    const p = h.connect();
    waiters(h, 3);
    expect(h.send(p, put('a'))).toEqual(['c1: INSERTED 1', 'c4: RESERVED 1 a']);
    expect(h.send(p, put('b'))).toEqual(['c1: INSERTED 2', 'c3: RESERVED 2 b']);
    expect(h.send(p, put('c'))).toEqual(['c1: INSERTED 3', 'c2: RESERVED 3 c']);
    // No choice with a single waiter: the picker is not asked.
    expect(calls).toEqual([[[2, 3, 4], 'default'], [[2, 3], 'default']]);
  });

  it('a bad pick is an error, not a silent fallback', () => {
    const h = new Harness({ pickWaiter: () => 7 });
    const p = h.connect();
    waiters(h, 2);
    expect(() => h.model.apply(p, put('a'), 0)).toThrow(/pickWaiter/);
  });

  it('after unpausing several tubes at once the smallest (pri, id) among them goes first', () => {
    const h = new Harness();
    const p = h.connect();
    h.send(p, { kind: 'use', tube: 'a' });
    h.send(p, put('a5', 5));
    h.send(p, { kind: 'use', tube: 'b' });
    h.send(p, put('b1', 1));
    h.send(p, { kind: 'pause-tube', tube: 'a', delaySeconds: 2 });
    h.send(p, { kind: 'pause-tube', tube: 'b', delaySeconds: 2 });
    const w = h.connect();
    h.send(w, { kind: 'watch', tube: 'a' });
    h.send(w, { kind: 'watch', tube: 'b' });
    h.send(w, { kind: 'reserve' });
    expect(h.tick(1.999999)).toEqual([]);
    expect(h.tick(2)).toEqual(['c2: RESERVED 2 b1']);
  });
});
