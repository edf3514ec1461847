// A put whose body is still arriving (semantics a.1 step 5, probe 93): beanstalkd has counted
// cmd-put, marked the producer and allocated the id at the put line; the job is `invalid` to
// stats-job, peek shows what has arrived (zeros for the rest) and nothing else can touch it.
import { describe, expect, it } from 'vitest';
import type { Output } from '../../src/model/index.js';
import type { Request } from '../../src/protocol/types.js';
import { Harness, put } from './harness.js';

const latin1 = (text: string) => new Uint8Array(Buffer.from(text, 'latin1'));
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');

/** A put-begin as the parser makes it: live buffers holding the bytes received so far. */
function begin(received: string, size: number, pri = 0, delaySeconds = 0, ttrSeconds = 10) {
  const data = new Uint8Array(size + 2);
  data.set(latin1(received));
  const request = { kind: 'put-begin', pri, delaySeconds, ttrSeconds, body: data.subarray(0, size), trailer: data.subarray(size) } as const;
  /** More bytes arrive: the parser writes them into the same buffers. */
  const receive = (more: string, at: number) => data.set(latin1(more), at);
  return { request, receive };
}

function foundOf(outputs: Output[]): { id: number; body: string; trailer: string | undefined } {
  const [first] = outputs;
  if (outputs.length !== 1 || !('reply' in first) || first.reply.kind !== 'FOUND') throw new Error(`expected FOUND, got ${JSON.stringify(outputs)}`);
  const { id, body, trailer } = first.reply;
  return { id, body: text(body), trailer: trailer && text(trailer) };
}

function setup() {
  const h = new Harness();
  const a = h.connect();
  const b = h.connect();
  return { h, a, b };
}

describe('a put in flight', () => {
  it('counts cmd-put and the producer at the line, and is in no current-jobs count', () => {
    const { h, a, b } = setup();
    expect(h.send(a, begin('', 1).request)).toEqual([]);
    const stats = h.stats(b, { kind: 'stats' });
    expect(stats.get('cmd-put')).toBe('1');
    expect(stats.get('current-producers')).toBe('1');
    for (const key of ['current-jobs-urgent', 'current-jobs-ready', 'current-jobs-reserved', 'current-jobs-delayed', 'current-jobs-buried', 'total-jobs']) {
      expect(stats.get(key), key).toBe('0');
    }
    const tube = h.stats(b, { kind: 'stats-tube', tube: 'default' });
    expect([...tube].filter(([k]) => k.startsWith('current-jobs') || k === 'total-jobs').every(([, v]) => v === '0')).toBe(true);
    // Not a job to the views either: it has no state a JobView can hold.
    expect(h.model.job(1)).toBeUndefined();
    expect(h.model.jobCount()).toBe(0);
  });

  it('stats-job shows it invalid with the line values and its age from the line (probe 93)', () => {
    const { h, a, b } = setup();
    h.send(a, { kind: 'use', tube: 'foo' });
    h.at(1).send(a, begin('he', 5, 7, 3, 0).request);
    expect(h.at(3.5).okBody(b, { kind: 'stats-job', id: 1 })).toBe(
      '---\nid: 1\ntube: foo\nstate: invalid\npri: 7\nage: 2\ndelay: 3\nttr: 1\ntime-left: 0\nfile: 0\n' +
        'reserves: 0\ntimeouts: 0\nreleases: 0\nburies: 0\nkicks: 0\n',
    );
  });

  it('peek shows the bytes received so far, zeros for the rest, and the CR LF slot as received', () => {
    const { h, a, b } = setup();
    const put5 = begin('he', 5);
    h.send(a, put5.request);
    const first = h.raw(b, { kind: 'peek', id: 1 });
    expect(foundOf(first)).toEqual({ id: 1, body: 'he\0\0\0', trailer: '\0\0' });
    put5.receive('llo\r', 2);
    expect(foundOf(h.raw(b, { kind: 'peek', id: 1 }))).toEqual({ id: 1, body: 'hello', trailer: '\r\0' });
    // A reply is a snapshot: later bytes do not change one already given.
    expect(foundOf(first).body).toBe('he\0\0\0');
    expect(h.stats(b, { kind: 'stats' }).get('cmd-peek')).toBe('2');
  });

  it('cannot be reserved, deleted, kicked, touched, released or buried, nor seen by peek-ready', () => {
    const { h, a, b } = setup();
    h.send(a, begin('x', 3).request);
    const attempts: Request[] = [
      { kind: 'reserve-job', id: 1 },
      { kind: 'delete', id: 1 },
      { kind: 'kick-job', id: 1 },
      { kind: 'touch', id: 1 },
      { kind: 'release', id: 1, pri: 0, delaySeconds: 0 },
      { kind: 'bury', id: 1, pri: 0 },
      { kind: 'peek-ready' },
      { kind: 'peek-delayed' },
      { kind: 'peek-buried' },
    ];
    for (const request of attempts) expect(h.send(b, request), request.kind).toEqual(['c2: NOT_FOUND']);
    expect(h.send(b, { kind: 'kick', bound: 10 })).toEqual(['c2: KICKED 0']);
    expect(h.send(b, { kind: 'reserve-with-timeout', timeoutSeconds: 0 })).toEqual(['c2: TIMED_OUT']);
    const stats = h.stats(b, { kind: 'stats' });
    expect([stats.get('cmd-delete'), stats.get('cmd-touch'), stats.get('cmd-release'), stats.get('cmd-bury')]).toEqual(['1', '1', '1', '1']);
  });

  it('the completing put is INSERTED with the id taken at the line, not counted again', () => {
    const { h, a, b } = setup();
    h.at(10).send(a, begin('he', 5, 0, 2).request);
    expect(h.send(b, put('other'))).toEqual(['c2: INSERTED 2']);
    expect(h.at(14).send(a, put('hello', 0, 2))).toEqual(['c1: INSERTED 1']);
    const job = h.model.job(1);
    // The age counts from the line; the delay from the moment the job is queued.
    expect(job).toMatchObject({ state: 'delayed', createdUs: 10_000_000, deadlineUs: 16_000_000, bodyBytes: 5 });
    const stats = h.stats(b, { kind: 'stats' });
    expect([stats.get('cmd-put'), stats.get('total-jobs'), stats.get('current-jobs-delayed')]).toEqual(['2', '2', '1']);
    expect(h.okBody(b, { kind: 'stats-job', id: 1 })).toContain('\nstate: delayed\npri: 0\nage: 4\n');
    expect(h.send(a, put('next'))).toEqual(['c1: INSERTED 3']);
  });

  it('a body without its CR LF discards the job, and its id stays used', () => {
    const { h, a, b } = setup();
    h.send(a, begin('h', 2).request);
    expect(h.send(a, { kind: 'put-expected-crlf' })).toEqual(['c1: EXPECTED_CRLF']);
    expect(h.send(b, { kind: 'stats-job', id: 1 })).toEqual(['c2: NOT_FOUND']);
    expect(h.stats(b, { kind: 'stats' }).get('cmd-put')).toBe('1');
    expect(h.send(a, put('x'))).toEqual(['c1: INSERTED 2']);
  });

  it('in drain mode the completing put answers DRAINING; the id stays used', () => {
    const { h, a, b } = setup();
    h.send(a, begin('', 1).request);
    h.model.enterDrainMode();
    expect(h.send(a, put('x'))).toEqual(['c1: DRAINING']);
    expect(h.send(b, { kind: 'peek', id: 1 })).toEqual(['c2: NOT_FOUND']);
    expect(h.stats(b, { kind: 'stats' }).get('cmd-put')).toBe('1');
  });

  it('disappears when its connection closes; the counts it made stay', () => {
    const { h, a, b } = setup();
    h.send(a, { kind: 'use', tube: 'foo' });
    h.send(a, begin('he', 5).request);
    h.model.disconnect(a, h.nowUs);
    h.model.checkInvariants();
    expect(h.send(b, { kind: 'peek', id: 1 })).toEqual(['c2: NOT_FOUND']);
    // The tube it and the connection held is gone with them.
    expect(h.list(b, { kind: 'list-tubes' })).toEqual(['default']);
    const stats = h.stats(b, { kind: 'stats' });
    expect([stats.get('cmd-put'), stats.get('current-producers')]).toEqual(['1', '0']);
    expect(h.send(b, put('x'))).toEqual(['c2: INSERTED 2']);
  });

  it('nothing but its end can come from its connection', () => {
    const { h, a } = setup();
    h.send(a, begin('', 1).request);
    expect(() => h.model.apply(a, { kind: 'stats' }, 0)).toThrow(/still arriving/);
    expect(() => h.model.apply(a, begin('', 1).request, 0)).toThrow(/still arriving/);
  });
});

describe('an oversized put whose discard is in progress', () => {
  it('has counted cmd-put once, marks no producer and takes no id', () => {
    const { h, a, b } = setup();
    expect(h.send(a, { kind: 'put-too-big-begin' })).toEqual([]);
    let stats = h.stats(b, { kind: 'stats' });
    expect([stats.get('cmd-put'), stats.get('current-producers')]).toEqual(['1', '0']);
    expect(() => h.model.apply(a, { kind: 'stats' }, 0)).toThrow(/still arriving/);
    expect(h.send(a, { kind: 'put-too-big' })).toEqual(['c1: JOB_TOO_BIG']);
    stats = h.stats(b, { kind: 'stats' });
    expect(stats.get('cmd-put')).toBe('1');
    expect(h.send(a, { kind: 'put-too-big' })).toEqual(['c1: JOB_TOO_BIG']); // no begin: counted here
    expect(h.stats(b, { kind: 'stats' }).get('cmd-put')).toBe('2');
    expect(h.send(a, put('x'))).toEqual(['c1: INSERTED 1']);
  });
});
