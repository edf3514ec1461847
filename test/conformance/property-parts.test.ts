// The property harness's pure parts, without a server or a clock: the checker (a reply that
// differs, a stats delta, the stats baseline's decisions), the model side (ids mapped into the
// bytes, the watch list a step changes) and the deadline arithmetic (where the driver sleeps
// to when a deadline is too close, the sub-second phase rule). The model's replies come from
// the real reference model; the server's events are parsed from the bytes beanstalkd sends.
import { describe, expect, it } from 'vitest';
import type { Output } from '../../src/model/api.js';
import { parseStatsYaml } from '../../src/protocol/stats-yaml.js';
import { ReplyParser } from '../../src/protocol/reply-parser.js';
import { baselineIsStale, baselineStats, checkOutput, checkReread, serverIsQuiet, strayReply } from '../../src/conformance/properties/checker.js';
import type { CompareOptions } from '../../src/conformance/properties/compare.js';
import {
  advanceUntilUs,
  liveDeadlinesUs,
  nextTimeMove,
  phaseWaitUs,
  stepDeadlinesUs,
  type TimeState,
} from '../../src/conformance/properties/deadlines.js';
import { ModelSide, watchedAfter, type SentOp } from '../../src/conformance/properties/model-side.js';
import type { Op } from '../../src/conformance/properties/ops.js';
import type { ConnEvent } from '../../src/target/connection.js';

function event(raw: string | Buffer): ConnEvent {
  const parser = new ReplyParser();
  parser.push(typeof raw === 'string' ? Buffer.from(raw, 'latin1') : raw);
  const parsed = parser.next()!;
  return { kind: 'reply', reply: parsed.reply, raw: parsed.raw };
}

/** A `stats` reply with the model's fields, each counter `offset` higher (a server that ran before). */
function serverStats(model: Map<string, string>, offset: number, overrides: Record<string, number> = {}): ConnEvent {
  const lines = [...model].map(([k, v]) => `${k}: ${k in overrides ? overrides[k] : /^\d+$/.test(v) ? Number(v) + offset : v}\n`);
  const body = Buffer.from(`---\n${lines.join('')}`, 'latin1');
  return event(Buffer.concat([Buffer.from(`OK ${body.length}\r\n`), body, Buffer.from('\r\n')]));
}

function side(globalStats = false): ModelSide {
  return new ModelSide({ profile: '1.12', maxJobSize: 65535, tubePrefix: 't', globalStats });
}

/** Sends a step to the model the way the driver does (time stands still at `nowUs`). */
function step(model: ModelSide, op: SentOp, nowUs = 1000): { outputs: Output[]; real: string } {
  const rendered = model.render(op);
  const wire = model.wire(rendered.pieces);
  return { outputs: model.send(op.conn, wire.model, nowUs, rendered.watchChange), real: wire.real };
}

const reply = (outputs: Output[]) => outputs.find((o) => 'reply' in o)!;

describe('the checker', () => {
  it('binds the server id on INSERTED, maps it into the next command, and finds a reply that differs', () => {
    const model = side();
    model.connect(0, 0);
    const compare: CompareOptions = { ids: model.ids };
    const put = step(model, { op: 'put', conn: 0, pri: 0, delay: 0, ttr: 10, body: 'x' });
    const ctx = (op: Op) => ({ compare, replyTimeoutMs: 2000, command: model.answeredCommand(0), op, onStepConnection: true });
    expect(checkOutput(reply(put.outputs), event('INSERTED 77\r\n'), ctx({ op: 'put', conn: 0, pri: 0, delay: 0, ttr: 10, body: 'x' }))).toEqual({
      ok: true,
      expect: 'INSERTED $j1',
    });

    const del: SentOp = { op: 'delete', conn: 0, job: 0 };
    const sent = step(model, del);
    // The server gets its own id; the model its own.
    expect(sent.real).toBe('delete 77\r\n');
    const verdict = checkOutput(reply(sent.outputs), event('NOT_FOUND\r\n'), ctx(del));
    expect(verdict).toEqual({ ok: false, expect: 'DELETED', actual: 'NOT_FOUND', facts: { command: 'delete', fields: undefined }, rereadable: false });
    expect(checkOutput(reply(sent.outputs), undefined, ctx(del))).toMatchObject({ ok: false, actual: 'no reply within 2000 ms' });
  });

  it('expects the connection closed after quit', () => {
    const model = side();
    model.connect(0, 0);
    const quit = step(model, { op: 'quit', conn: 0 }).outputs[0];
    const ctx = { compare: { ids: model.ids }, replyTimeoutMs: 500, onStepConnection: true };
    expect(checkOutput(quit, { kind: 'closed' }, ctx)).toEqual({ ok: true, expect: 'closed' });
    expect(checkOutput(quit, event('UNKNOWN_COMMAND\r\n'), ctx)).toMatchObject({ ok: false, expect: 'closed', actual: 'UNKNOWN_COMMAND' });
    expect(checkOutput(quit, undefined, ctx)).toMatchObject({ ok: false, actual: 'nothing within 500 ms' });
  });

  it('compares global stats as deltas from the baseline, and only the stats step may be read again', () => {
    const model = side(true);
    model.connect(0, 0);
    const baseOutputs = model.apply(0, 'stats\r\n', 1000);
    const baseModel = parseStatsYaml(Buffer.from((reply(baseOutputs) as { reply: { body: Uint8Array } }).reply.body).toString('latin1'));
    // The server had run 40 of everything before this sequence.
    const baseline = baselineStats(baseOutputs, serverStats(baseModel, 40))!;
    expect(baseline.real.get('cmd-put')).toBe(String(Number(baseModel.get('cmd-put')) + 40));
    const compare: CompareOptions = { ids: model.ids, statsBaseline: baseline };

    step(model, { op: 'put', conn: 0, pri: 0, delay: 0, ttr: 10, body: 'x' });
    const statsOp: SentOp = { op: 'stats', conn: 0 };
    const stats = reply(step(model, statsOp).outputs);
    const now = parseStatsYaml(Buffer.from((stats as { reply: { body: Uint8Array } }).reply.body).toString('latin1'));
    expect(now.get('cmd-put')).toBe('1');
    const ctx = { compare, replyTimeoutMs: 2000, command: 'stats', op: statsOp as Op, onStepConnection: true };
    // The same deltas on top of the server's 40: right.
    expect(checkOutput(stats, serverStats(now, 40), ctx).ok).toBe(true);
    // A server that did not count the put: cmd-put +0 where the model says +1.
    const missed = checkOutput(stats, serverStats(now, 40, { 'cmd-put': 40 }), ctx);
    expect(missed).toMatchObject({
      ok: false,
      actual: expect.stringContaining('cmd-put: expected 1 (+1 since the start; server started at 40), got 40'),
      facts: { command: 'stats', fields: ['cmd-put'] },
      rereadable: true,
    });
    // Another connection's stats reply, or a reply to another step, is not read again.
    expect(checkOutput(stats, serverStats(now, 40, { 'cmd-put': 40 }), { ...ctx, onStepConnection: false })).toMatchObject({ rereadable: false });
    expect(checkOutput(stats, serverStats(now, 40, { 'cmd-put': 40 }), { ...ctx, op: { op: 'peek-ready', conn: 0 } })).toMatchObject({ rereadable: false });

    // Read again a moment later: the model answers again and the late values now match.
    const again = model.apply(0, 'stats\r\n', 2000);
    const againModel = parseStatsYaml(Buffer.from((reply(again) as { reply: { body: Uint8Array } }).reply.body).toString('latin1'));
    const connId = (reply(again) as { conn: number }).conn;
    expect(checkReread(again, connId, serverStats(againModel, 40), compare)).toMatchObject({ ok: true });
    expect(checkReread(again, connId, serverStats(againModel, 40, { 'cmd-put': 40 }), compare)).toMatchObject({ ok: false });
    expect(checkReread(again, connId + 1, serverStats(againModel, 40), compare)).toBeUndefined();
  });

  it('takes no baseline from a reply that is not OK, and decides when the server is quiet and a baseline stale', () => {
    const model = side(true);
    model.connect(0, 0);
    expect(baselineStats(model.apply(0, 'stats\r\n', 0), event('UNKNOWN_COMMAND\r\n'))).toBeUndefined();
    const polled = new Map([['current-connections', '3'], ['cmd-stats', '12']]);
    expect(serverIsQuiet(polled, 3)).toBe(true);
    expect(serverIsQuiet(polled, 2)).toBe(false); // another check's connection is still open there
    // The last poll saw cmd-stats 12: a baseline that does not count it is from a cache.
    expect(baselineIsStale(new Map([['cmd-stats', '12']]), 12)).toBe(true);
    expect(baselineIsStale(new Map([['cmd-stats', '13']]), 12)).toBe(false);
    expect(baselineIsStale(new Map(), 12)).toBe(false);
  });

  it('reports a stray reply with the command it would answer', () => {
    expect(strayReply(event('TIMED_OUT\r\n'), 'reserve-with-timeout')).toEqual({
      expect: 'nothing 100ms',
      actual: 'TIMED_OUT',
      facts: { command: 'reserve-with-timeout' },
    });
  });
});

describe('the model side', () => {
  it('keeps one waiter per tube from the watch lists the steps change', () => {
    const model = side();
    model.connect(0, 0);
    model.connect(1, 0);
    step(model, { op: 'watch', conn: 0, tube: 1 });
    step(model, { op: 'ignore', conn: 0, tube: 0 }); // connection 0 watches tube 1 only
    step(model, { op: 'reserve', conn: 0 });
    expect(model.isWaiting(0)).toBe(true);
    // Connection 1 watches tube 0 only: it may wait too.
    expect(model.canRun({ op: 'reserve', conn: 1 })).toBe(true);
    step(model, { op: 'watch', conn: 1, tube: 1 });
    expect(model.canRun({ op: 'reserve', conn: 1 })).toBe(false);
    expect(model.canRun({ op: 'reserve-with-timeout', conn: 1, seconds: 1 })).toBe(false);
    // A waiting connection can only be closed.
    expect(model.canRun({ op: 'peek-ready', conn: 0 })).toBe(false);
    expect(model.canRun({ op: 'close', conn: 0 })).toBe(true);
    expect(model.answeredCommand(0)).toBe('reserve');
  });

  it('changes a watch list only when the model answers WATCHING', () => {
    expect([...watchedAfter(new Set([0]), { tube: 0, add: false }, { kind: 'NOT_IGNORED' })]).toEqual([0]);
    expect([...watchedAfter(new Set([0, 1]), { tube: 0, add: false }, { kind: 'WATCHING', count: 1 })]).toEqual([1]);
    expect([...watchedAfter(new Set([0]), { tube: 2, add: true }, { kind: 'WATCHING', count: 2 })].sort()).toEqual([0, 2]);
  });
});

describe('the deadline arithmetic', () => {
  const state = (s: Partial<TimeState>): TimeState => ({
    nowUs: 1_000_000,
    untilUs: 1_000_000,
    dueUs: undefined,
    lastDeadlineRunUs: -Infinity,
    idleTtrExpiry: () => false,
    ...s,
  });

  it('sleeps to 270 ms past a deadline that is within 250 ms of now, ahead or behind', () => {
    expect(nextTimeMove(state({ dueUs: 1_100_000 }))).toEqual({ kind: 'sleep', us: 370_000 });
    expect(nextTimeMove(state({ dueUs: 900_000 }))).toEqual({ kind: 'sleep', us: 170_000 });
    // A deadline the model ran inside the last command gets the same margin.
    expect(nextTimeMove(state({ lastDeadlineRunUs: 950_000, dueUs: 5_000_000 }))).toEqual({ kind: 'sleep', us: 220_000 });
  });

  it('runs a deadline once it is a margin in the past, and gives up on a lone TTR expiry', () => {
    expect(nextTimeMove(state({ dueUs: 700_000 }))).toEqual({ kind: 'run-deadline', dueUs: 700_000 });
    expect(nextTimeMove(state({ dueUs: 1_200_000, idleTtrExpiry: (d) => d === 1_200_000 }))).toEqual({ kind: 'unpredictable' });
    // Beyond the margin a TTR expiry is still ahead: the driver looks for strays until a margin before it.
    expect(nextTimeMove(state({ untilUs: 3_000_000, dueUs: 2_000_000, idleTtrExpiry: () => true }))).toEqual({ kind: 'look', us: 750_000 });
  });

  it('looks for strays up to a margin before the next deadline or to the end, then is done', () => {
    expect(nextTimeMove(state({ untilUs: 1_200_000, dueUs: 2_000_000 }))).toEqual({ kind: 'look', us: 200_000 });
    expect(nextTimeMove(state({ untilUs: 1_500_000 }))).toEqual({ kind: 'look', us: 500_000 });
    expect(nextTimeMove(state({ dueUs: 1_300_000 }))).toEqual({ kind: 'done' });
  });

  it('waits for a sub-second phase 120 ms clear of every live deadline', () => {
    // Now at phase .45 s, a deadline at phase .5 s: the first 10 ms step clear of it is 180 ms on.
    expect(phaseWaitUs(1_450_000, [3_500_000])).toBe(180_000);
    expect(phaseWaitUs(1_200_000, [3_500_000])).toBe(0);
    // Deadlines all around the clock: no phase orders a new one unambiguously.
    expect(phaseWaitUs(1_000_000, [2_000_000, 2_200_000, 2_400_000, 2_600_000, 2_800_000])).toBeUndefined();
  });

  it('knows which deadlines a step could meet, what a step creates, and where advance goes', () => {
    const now = 10_000_000;
    // Within 7 s; a job's deadline within 8 s (its step may add up to a second more).
    expect(liveDeadlinesUs(now, [now - 1, now + 1_000_000, now + 7_500_000], [
      { state: 'reserved', deadlineUs: now + 7_500_000 },
      { state: 'delayed', deadlineUs: now + 8_500_000 },
      { state: 'ready', deadlineUs: now + 1_000_000 },
    ])).toEqual([now + 1_000_000, now + 7_500_000]);
    expect(stepDeadlinesUs({ op: 'reserve-with-timeout', conn: 0, seconds: 0 }, now)).toEqual([]);
    expect(stepDeadlinesUs({ op: 'reserve-with-timeout', conn: 0, seconds: 2 }, now)).toEqual([now + 2_000_000]);
    expect(stepDeadlinesUs({ op: 'pause-tube', conn: 0, tube: 0, delay: 3 }, now)).toEqual([now + 3_000_000]);
    expect(advanceUntilUs(now, undefined)).toBe(now + 300_000);
    expect(advanceUntilUs(now, now + 1_000_000)).toBe(now + 1_270_000);
    expect(advanceUntilUs(now, now + 10_000_000)).toBe(now + 3_500_000);
  });
});
