import { describe, expect, it } from 'vitest';
import type { ReferenceModel } from '../../src/model/api.js';
import { createModel } from '../../src/model/index.js';
import { Engine, FLUSH_BYTES, LARGE_BODY_BYTES } from '../../src/server/engine.js';
import { EngineHarness } from './engine-harness.js';
import { US_PER_SECOND as SECOND_US } from '../../src/units.js';


describe('Engine: framing and pipelining', () => {
  it('answers 1000 pipelined puts from one chunk in order, in one write', () => {
    const h = new EngineHarness();
    const a = h.open();
    h.send(a, 'put 0 0 10 1\r\nx\r\n'.repeat(1000));
    const expected = Array.from({ length: 1000 }, (_, i) => `INSERTED ${i + 1}\r\n`).join('');
    expect(h.output(a)).toBe(expected);
    expect(h.writeCount(a)).toBe(1);
  });

  it('assembles a put whose line and body arrive one byte at a time', () => {
    const h = new EngineHarness();
    const a = h.open();
    const input = 'put 5 0 10 7\r\nhe\r\nllo\r\npeek 1\r\n';
    for (const byte of Buffer.from(input)) h.send(a, Uint8Array.of(byte));
    expect(h.output(a)).toBe('INSERTED 1\r\nFOUND 1 7\r\nhe\r\nllo\r\n');
  });

  it('writes nothing for a call that produces no reply', () => {
    const h = new EngineHarness();
    const a = h.open();
    h.send(a, 'put 0 0 10 5\r\nhel');
    expect(h.writeCount(a)).toBe(0);
    h.send(a, 'lo\r\n');
    expect(h.output(a)).toBe('INSERTED 1\r\n');
  });
});

describe('Engine: a blocking reserve holds the rest of its connection (a.0/9)', () => {
  it('applies later pipelined commands only after a job arrives from another connection', () => {
    const h = new EngineHarness();
    const worker = h.open();
    const producer = h.open();
    h.send(worker, 'reserve\r\nlist-tube-used\r\n');
    h.send(worker, 'use other\r\n');
    expect(h.output(worker)).toBe('');
    // Held input is not applied: `use other` has not created the tube yet.
    h.send(producer, 'list-tubes\r\n');
    expect(h.output(producer)).not.toContain('other');
    expect(h.engine.heldInputBytes(worker)).toBe('use other\r\n'.length);

    h.send(producer, 'put 0 0 10 3\r\njob\r\n');
    expect(h.output(producer)).toContain('INSERTED 1\r\n');
    expect(h.output(worker)).toBe('RESERVED 1 3\r\njob\r\nUSING default\r\nUSING other\r\n');
    // The reservation and the commands it released went out together.
    expect(h.writeCount(worker)).toBe(1);
    expect(h.engine.heldInputBytes(worker)).toBe(0);
  });

  it('stops again at a second reserve in the held input', () => {
    const h = new EngineHarness();
    const worker = h.open();
    const producer = h.open();
    h.send(worker, 'reserve\r\nreserve\r\nlist-tube-used\r\n');
    h.send(producer, 'put 0 0 10 1\r\na\r\n');
    expect(h.output(worker)).toBe('RESERVED 1 1\r\na\r\n');
    h.send(producer, 'put 0 0 10 1\r\nb\r\n');
    expect(h.output(worker)).toBe('RESERVED 1 1\r\na\r\nRESERVED 2 1\r\nb\r\nUSING default\r\n');
  });

  it('resumes when a timer ends the reserve', () => {
    const h = new EngineHarness();
    const worker = h.open();
    h.send(worker, 'reserve-with-timeout 1\r\nlist-tube-used\r\n', 0);
    expect(h.engine.nextDeadline()).toBe(1 * SECOND_US);
    h.engine.tick(SECOND_US - 1);
    expect(h.output(worker)).toBe('');
    h.engine.tick(SECOND_US);
    expect(h.output(worker)).toBe('TIMED_OUT\r\nUSING default\r\n');
  });
});

describe('Engine: closing', () => {
  it('quit closes the connection, drops later input and returns its reserved job', () => {
    const h = new EngineHarness();
    const a = h.open();
    const b = h.open();
    h.send(a, 'put 0 0 10 1\r\nq\r\nreserve\r\nquit\r\nput 0 0 10 1\r\nz\r\n');
    expect(h.output(a)).toBe('INSERTED 1\r\nRESERVED 1 1\r\nq\r\n');
    expect(h.closed.has(a)).toBe(true);
    expect(h.log.at(-1)).toBe(`close ${a}`);
    // The put after quit was never applied, and job 1 is ready again.
    h.send(b, 'peek 2\r\npeek-ready\r\n');
    expect(h.output(b)).toBe('NOT_FOUND\r\nFOUND 1 1\r\nq\r\n');
    // Input after the close is ignored rather than applied to a dead connection.
    h.send(a, 'put 0 0 10 1\r\nz\r\n');
    expect(h.output(a)).toBe('INSERTED 1\r\nRESERVED 1 1\r\nq\r\n');
  });

  it('quit hands the returned job to a connection waiting in reserve, without an internal error', () => {
    const h = new EngineHarness();
    const a = h.open();
    const b = h.open();
    h.send(a, 'put 0 0 10 1\r\nq\r\nreserve\r\n');
    h.send(b, 'reserve\r\n');
    expect(h.output(b)).toBe('');
    h.send(a, 'quit\r\n');
    expect(h.internalErrors).toEqual([]);
    expect(h.output(b)).toBe('RESERVED 1 1\r\nq\r\n');
  });

  it('FIN while waiting in reserve answers TIMED_OUT, then the held commands, then closes', () => {
    const h = new EngineHarness();
    const a = h.open();
    h.send(a, 'reserve\r\nlist-tube-used\r\n');
    expect(h.closed.has(a)).toBe(false);
    h.engine.hangup(a, 10);
    expect(h.output(a)).toBe('TIMED_OUT\r\nUSING default\r\n');
    expect(h.closed.has(a)).toBe(true);
  });

  it('FIN on an idle connection closes it after answering what it sent', () => {
    const h = new EngineHarness();
    const a = h.open();
    const b = h.open();
    h.send(a, 'list-tube-used\r\n');
    h.engine.hangup(a, 0);
    expect(h.output(a)).toBe('USING default\r\n');
    expect(h.closed.has(a)).toBe(true);
    expect(h.closed.has(b)).toBe(false);
  });

  it('a peer that disappears gives its reserved job to a waiting connection', () => {
    const h = new EngineHarness();
    const holder = h.open();
    const waiter = h.open();
    h.send(holder, 'put 0 0 10 1\r\nj\r\nreserve\r\n');
    h.send(waiter, 'reserve\r\n');
    expect(h.output(waiter)).toBe('');
    h.engine.close(holder, 5);
    expect(h.output(waiter)).toBe('RESERVED 1 1\r\nj\r\n');
    // The engine does not close what the peer already closed.
    expect(h.closed.has(holder)).toBe(false);
  });
});

describe('Engine: timers come from nextDeadline', () => {
  it('a delayed job reaches a waiting reserver when tick passes its deadline', () => {
    const h = new EngineHarness();
    const producer = h.open();
    const worker = h.open();
    h.send(producer, 'put 0 2 10 1\r\nd\r\n', 0);
    h.send(worker, 'reserve\r\n', 0);
    expect(h.engine.nextDeadline()).toBe(2 * SECOND_US);
    h.engine.tick(2 * SECOND_US - 1);
    expect(h.output(worker)).toBe('');
    h.engine.tick(2 * SECOND_US);
    expect(h.output(worker)).toBe('RESERVED 1 1\r\nd\r\n');
  });

  it('DEADLINE_SOON fires one second before the TTR deadline', () => {
    const h = new EngineHarness();
    const worker = h.open();
    h.send(worker, 'put 0 0 3 1\r\nt\r\nreserve\r\nreserve\r\n', 0);
    expect(h.output(worker)).toBe('INSERTED 1\r\nRESERVED 1 1\r\nt\r\n');
    expect(h.engine.nextDeadline()).toBe(2 * SECOND_US);
    h.engine.tick(2 * SECOND_US);
    expect(h.output(worker)).toBe('INSERTED 1\r\nRESERVED 1 1\r\nt\r\nDEADLINE_SOON\r\n');
  });
});

describe('Engine: one failing connection does not take down the others', () => {
  it('answers INTERNAL_ERROR and closes only the connection whose command made the model throw', () => {
    const h = new EngineHarness({
      wrapModel: (model): ReferenceModel => ({
        get profile() {
          return model.profile;
        },
        get maxJobSize() {
          return model.maxJobSize;
        },
        connect: (nowUs) => model.connect(nowUs),
        apply: (conn, request, nowUs) => {
          if (request.kind === 'use' && request.tube === 'boom') throw new Error('model bug');
          return model.apply(conn, request, nowUs);
        },
        tick: (nowUs) => model.tick(nowUs),
        nextDeadline: () => model.nextDeadline(),
        hangup: (conn, nowUs) => model.hangup(conn, nowUs),
        disconnect: (conn, nowUs) => model.disconnect(conn, nowUs),
        isWaiting: (conn) => model.isWaiting(conn),
        enterDrainMode: () => model.enterDrainMode(),
        checkInvariants: () => model.checkInvariants(),
        job: (id) => model.job(id),
        jobCount: () => model.jobCount(),
      }),
    });
    const a = h.open();
    const b = h.open();
    h.send(a, 'use boom\r\nlist-tube-used\r\n');
    expect(h.output(a)).toBe('INTERNAL_ERROR\r\n');
    expect(h.closed.has(a)).toBe(true);
    expect(h.internalErrors).toHaveLength(1);
    h.send(b, 'put 0 0 10 1\r\nk\r\n');
    expect(h.output(b)).toBe('INSERTED 1\r\n');
  });
});

describe('Engine: a put in flight is visible to other connections (a.1 step 5, probe 93)', () => {
  it('counts cmd-put and the producer as soon as the line arrives', () => {
    const h = new EngineHarness();
    const a = h.open();
    const b = h.open();
    h.send(a, 'put 0 0 5 1\r\n\r\n'); // 1 body byte and 1 of the CR LF: 1 byte short
    h.send(b, 'stats\r\n');
    expect(h.output(b)).toContain('\ncmd-put: 1\n');
    expect(h.output(b)).toContain('\ncurrent-producers: 1\n');
    expect(h.output(a)).toBe('');
  });

  it('peek sends the stored body + 2 bytes as they are: received bytes, then zeros', () => {
    const h = new EngineHarness();
    const a = h.open();
    const b = h.open();
    h.send(a, 'put 0 0 10 5\r\nhe');
    h.send(b, 'peek 1\r\nreserve-job 1\r\ndelete 1\r\n');
    expect(h.output(b)).toBe('FOUND 1 5\r\nhe\0\0\0\0\0NOT_FOUND\r\nNOT_FOUND\r\n');
    h.send(a, 'llo\r');
    h.send(b, 'peek 1\r\n');
    expect(h.output(b).endsWith('FOUND 1 5\r\nhello\r\0')).toBe(true);
    h.send(a, '\n');
    expect(h.output(a)).toBe('INSERTED 1\r\n');
    h.send(b, 'peek 1\r\n');
    expect(h.output(b).endsWith('FOUND 1 5\r\nhello\r\n')).toBe(true);
  });

  it('the in-flight job goes with its connection', () => {
    const h = new EngineHarness();
    const a = h.open();
    const b = h.open();
    h.send(a, 'put 0 0 10 5\r\nhe');
    h.engine.close(a, 0);
    h.send(b, 'stats-job 1\r\nput 0 0 10 1\r\nx\r\n');
    expect(h.output(b)).toBe('NOT_FOUND\r\nINSERTED 2\r\n');
    h.model.checkInvariants();
  });
});

describe('Engine: one command at a time, each at its own time (issue 13)', () => {
  it('reads the clock for every command, so a put and a stats-job in one chunk are apart', () => {
    let nowUs = 5 * SECOND_US;
    const h = new EngineHarness({ clock: () => nowUs });
    const a = h.open();
    // The clock does not move between the two commands: the second is still a µs later.
    h.send(a, 'put 0 1000 60 1\r\nx\r\nstats-job 1\r\n', nowUs);
    expect(h.output(a)).toMatch(/\ntime-left: 999\n/);
  });

  it('without a clock every command of a call shares the call time (the virtual target)', () => {
    const h = new EngineHarness();
    const a = h.open();
    h.send(a, 'put 0 1000 60 1\r\nx\r\nstats-job 1\r\n', 0);
    expect(h.output(a)).toMatch(/\ntime-left: 1000\n/);
  });

  it('stops applying a connection whose output the sink has not sent, until resume()', () => {
    const h = new EngineHarness({ sinkAccepts: () => false });
    const a = h.open();
    h.send(a, 'list-tube-used\r\n'.repeat(5000));
    // One flush (FLUSH_BYTES of replies) went out, then nothing more was applied.
    const firstFlush = h.output(a).length;
    expect(firstFlush).toBeGreaterThanOrEqual(FLUSH_BYTES);
    expect(firstFlush).toBeLessThan(FLUSH_BYTES + 100);
    expect(h.engine.isReading(a)).toBe(false);
    h.engine.resume(a, 0);
    expect(h.output(a).length).toBeGreaterThan(firstFlush);
    expect(h.output(a).length).toBeLessThan(2 * FLUSH_BYTES + 100);
    for (let i = 0; i < 10; i++) h.engine.resume(a, 0);
    expect(h.output(a)).toBe('USING default\r\n'.repeat(5000));
    expect(h.engine.isReading(a)).toBe(true);
  });

  it('a chunk that arrives while stopped is held, not applied', () => {
    const h = new EngineHarness({ sinkAccepts: () => false });
    const a = h.open();
    h.send(a, 'list-tube-used\r\n'.repeat(5000));
    h.send(a, 'use late\r\n');
    expect(h.engine.heldInputBytes(a)).toBe('use late\r\n'.length);
    expect(h.output(a)).not.toContain('USING late');
    for (let i = 0; i < 10; i++) h.engine.resume(a, 0);
    expect(h.output(a).endsWith('USING default\r\nUSING late\r\n')).toBe(true);
  });

  it('yields after commandsPerTurn commands and asks to be resumed', () => {
    const yielded: number[] = [];
    const h = new EngineHarness({ commandsPerTurn: 10, onYield: (conn) => yielded.push(conn) });
    const a = h.open();
    const b = h.open();
    h.send(a, 'list-tube-used\r\n'.repeat(25));
    expect(h.output(a)).toBe('USING default\r\n'.repeat(10));
    expect(yielded).toEqual([a]);
    expect(h.engine.isReading(a)).toBe(false);
    // Another connection is served meanwhile.
    h.send(b, 'list-tube-used\r\n');
    expect(h.output(b)).toBe('USING default\r\n');
    h.engine.resume(a, 0);
    h.engine.resume(a, 0);
    expect(h.output(a)).toBe('USING default\r\n'.repeat(25));
    expect(yielded).toEqual([a, a]);
    expect(h.engine.isReading(a)).toBe(true);
  });

  it('after a FIN, writes each reply on its own and applies nothing more until the sink took it', () => {
    let accept = true;
    const h = new EngineHarness({ sinkAccepts: () => accept });
    const a = h.open();
    h.send(a, 'reserve-with-timeout 60\r\nlist-tube-used\r\nuse gone\r\n');
    accept = false; // the transport's answer after a FIN: not before the kernel took it
    h.engine.hangup(a, 0);
    expect(h.output(a)).toBe('TIMED_OUT\r\n');
    h.engine.resume(a, 0);
    expect(h.output(a)).toBe('TIMED_OUT\r\nUSING default\r\n');
    // A transport whose write failed closes the connection instead of resuming it.
    h.engine.close(a, 0);
    const b = h.open();
    h.send(b, 'list-tubes\r\n');
    expect(h.output(b)).toBe('OK 14\r\n---\n- default\n\r\n');
  });
});

describe('Engine: large bodies are written as stored', () => {
  it('hands a RESERVED body of LARGE_BODY_BYTES or more to writev by reference, small replies joined', () => {
    const model = createModel({ startUs: 0 });
    const chunks: Uint8Array[][] = [];
    const engine = new Engine(model, { write: () => true, writev: (_conn, c) => void chunks.push(c), close: () => {} });
    const a = engine.open(0);
    const body = 'b'.repeat(LARGE_BODY_BYTES);
    engine.receive(a, Buffer.from(`put 0 0 10 ${body.length}\r\n${body}\r\nlist-tube-used\r\nreserve\r\nlist-tube-used\r\n`), 0);
    expect(chunks).toHaveLength(1);
    const text = chunks[0].map((c) => Buffer.from(c).toString('latin1'));
    expect(text).toEqual([`INSERTED 1\r\nUSING default\r\nRESERVED 1 ${body.length}\r\n`, body, '\r\nUSING default\r\n']);
    // The body chunk is the job's stored body, not a copy.
    const stored = chunks[0][1];
    engine.receive(a, Buffer.from('peek 1\r\n'), 0);
    expect(chunks[1][1]).toBe(stored);
  });
});
