// encodeReply / encodeCommand produce beanstalkd's exact bytes; ReplyParser reads them back
// with their raw bytes; RequestParser reads encoded commands back unchanged.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { encodeCommand, encodeReply } from '../../src/protocol/encode.js';
import { ProtocolError, ReplyParser, type ParsedReply } from '../../src/protocol/reply-parser.js';
import type { Command, Reply } from '../../src/protocol/types.js';
import { bytes, parseAll, testSeed } from './helpers.js';

const body = (text: string): Uint8Array => new Uint8Array(bytes(text));

describe('encodeReply: exact beanstalkd bytes', () => {
  const cases: Array<[Reply, string]> = [
    [{ kind: 'INSERTED', id: 12 }, 'INSERTED 12\r\n'],
    [{ kind: 'BURIED', id: 7 }, 'BURIED 7\r\n'],
    [{ kind: 'BURIED' }, 'BURIED\r\n'],
    [{ kind: 'USING', tube: 'default' }, 'USING default\r\n'],
    [{ kind: 'RESERVED', id: 5, body: body('abc') }, 'RESERVED 5 3\r\nabc\r\n'],
    [{ kind: 'FOUND', id: 2, body: body('a\r\n\0') }, 'FOUND 2 4\r\na\r\n\0\r\n'],
    [{ kind: 'RESERVED', id: 1, body: body('') }, 'RESERVED 1 0\r\n\r\n'],
    [{ kind: 'OK', body: body('---\n- default\n') }, 'OK 14\r\n---\n- default\n\r\n'],
    [{ kind: 'KICKED', count: 3 }, 'KICKED 3\r\n'],
    [{ kind: 'KICKED', count: 0 }, 'KICKED 0\r\n'],
    [{ kind: 'KICKED' }, 'KICKED\r\n'],
    [{ kind: 'WATCHING', count: 2 }, 'WATCHING 2\r\n'],
    [{ kind: 'DEADLINE_SOON' }, 'DEADLINE_SOON\r\n'],
    [{ kind: 'TIMED_OUT' }, 'TIMED_OUT\r\n'],
    [{ kind: 'NOT_IGNORED' }, 'NOT_IGNORED\r\n'],
    [{ kind: 'UNKNOWN_COMMAND' }, 'UNKNOWN_COMMAND\r\n'],
    [{ kind: 'EXPECTED_CRLF' }, 'EXPECTED_CRLF\r\n'],
    [{ kind: 'JOB_TOO_BIG' }, 'JOB_TOO_BIG\r\n'],
    [{ kind: 'PAUSED' }, 'PAUSED\r\n'],
  ];
  test.each(cases)('%j', (reply, wire) => {
    expect(encodeReply(reply).toString('latin1')).toBe(wire);
  });
});

describe('encodeCommand', () => {
  const cases: Array<[Command, string]> = [
    [{ kind: 'put', pri: 1024, delaySeconds: 0, ttrSeconds: 60, body: body('hi\r\n') }, 'put 1024 0 60 4\r\nhi\r\n\r\n'],
    [{ kind: 'reserve' }, 'reserve\r\n'],
    [{ kind: 'reserve-with-timeout', timeoutSeconds: 0 }, 'reserve-with-timeout 0\r\n'],
    [{ kind: 'release', id: 3, pri: 2, delaySeconds: 1 }, 'release 3 2 1\r\n'],
    [{ kind: 'bury', id: 3, pri: 2 }, 'bury 3 2\r\n'],
    [{ kind: 'kick', bound: 10 }, 'kick 10\r\n'],
    [{ kind: 'pause-tube', tube: 'a', delaySeconds: 5 }, 'pause-tube a 5\r\n'],
    [{ kind: 'stats-tube', tube: 'x(1)' }, 'stats-tube x(1)\r\n'],
    [{ kind: 'list-tubes-watched' }, 'list-tubes-watched\r\n'],
  ];
  test.each(cases)('%j', (cmd, wire) => {
    expect(encodeCommand(cmd).toString('latin1')).toBe(wire);
  });
});

// Generators over the whole Reply / Command unions.
const id = fc.nat({ max: Number.MAX_SAFE_INTEGER });
const u32 = fc.nat({ max: 4294967295 });
const tube = fc.stringMatching(/^[A-Za-z0-9+/;.$_()][A-Za-z0-9\-+/;.$_()]{0,199}$/);
const anyBody = fc.uint8Array({ maxLength: 300 });

const replyArb: fc.Arbitrary<Reply> = fc.oneof(
  id.map((i): Reply => ({ kind: 'INSERTED', id: i })),
  fc.option(id, { nil: undefined }).map((i): Reply => (i === undefined ? { kind: 'BURIED' } : { kind: 'BURIED', id: i })),
  tube.map((t): Reply => ({ kind: 'USING', tube: t })),
  fc.tuple(id, anyBody).map(([i, b]): Reply => ({ kind: 'RESERVED', id: i, body: b })),
  fc.tuple(id, anyBody).map(([i, b]): Reply => ({ kind: 'FOUND', id: i, body: b })),
  anyBody.map((b): Reply => ({ kind: 'OK', body: b })),
  fc.nat().map((n): Reply => ({ kind: 'WATCHING', count: n })),
  fc.option(u32, { nil: undefined }).map((n): Reply => (n === undefined ? { kind: 'KICKED' } : { kind: 'KICKED', count: n })),
  fc.constantFrom<Reply['kind']>(
    'DEADLINE_SOON', 'TIMED_OUT', 'DELETED', 'RELEASED', 'TOUCHED', 'NOT_IGNORED', 'PAUSED', 'NOT_FOUND',
    'BAD_FORMAT', 'UNKNOWN_COMMAND', 'JOB_TOO_BIG', 'EXPECTED_CRLF', 'DRAINING', 'OUT_OF_MEMORY', 'INTERNAL_ERROR',
  ).map((kind) => ({ kind }) as Reply),
);

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ pri: u32, delaySeconds: u32, ttrSeconds: u32, body: anyBody }).map((c): Command => ({ kind: 'put', ...c })),
  fc.tuple(fc.constantFrom('use', 'watch', 'ignore', 'stats-tube' as const), tube).map(([kind, t]) => ({ kind, tube: t }) as Command),
  fc.nat({ max: 2147483647 }).map((t): Command => ({ kind: 'reserve-with-timeout', timeoutSeconds: t })),
  fc.tuple(fc.constantFrom('reserve-job', 'delete', 'touch', 'peek', 'kick-job', 'stats-job' as const), id).map(([kind, i]) => ({ kind, id: i }) as Command),
  fc.record({ id, pri: u32, delaySeconds: u32 }).map((c): Command => ({ kind: 'release', ...c })),
  fc.record({ id, pri: u32 }).map((c): Command => ({ kind: 'bury', ...c })),
  u32.map((bound): Command => ({ kind: 'kick', bound })),
  fc.record({ tube, delaySeconds: u32 }).map((c): Command => ({ kind: 'pause-tube', ...c })),
  fc.constantFrom<Command['kind']>(
    'reserve', 'peek-ready', 'peek-delayed', 'peek-buried', 'stats', 'list-tubes', 'list-tube-used', 'list-tubes-watched', 'quit',
  ).map((kind) => ({ kind }) as Command),
);

function readAll(parser: ReplyParser): ParsedReply[] {
  const out: ParsedReply[] = [];
  for (let r = parser.next(); r !== undefined; r = parser.next()) out.push(r);
  return out;
}

/** Bodies come back as views into `raw`; compare them as plain byte arrays. */
function normalise(reply: Reply): Reply {
  return 'body' in reply ? { ...reply, body: new Uint8Array(reply.body) } : reply;
}

describe('round trips', () => {
  test('encodeReply → ReplyParser gives back every reply and its exact bytes, however chunked', () => {
    const seed = testSeed('reply round trip');
    fc.assert(
      fc.property(fc.array(replyArb, { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 10 }), (replies, cuts) => {
        const encoded = replies.map(encodeReply);
        const wire = Buffer.concat(encoded);
        const parser = new ReplyParser();
        const parsed: ParsedReply[] = [];
        let at = 0;
        for (const cut of [...cuts.map((c) => c % (wire.length + 1)), wire.length].sort((a, b) => a - b)) {
          parser.push(wire.subarray(at, cut));
          at = cut;
          parsed.push(...readAll(parser));
        }
        expect(parsed.map((p) => normalise(p.reply))).toEqual(replies.map(normalise));
        expect(parsed.map((p) => p.raw)).toEqual(encoded);
        expect(parser.bufferedBytes()).toBe(0);
      }),
      { seed, numRuns: 300 },
    );
  });

  test('encodeCommand → RequestParser gives back every command, in both profiles', () => {
    const seed = testSeed('command round trip');
    fc.assert(
      fc.property(fc.array(commandArb, { maxLength: 20 }), fc.constantFrom('1.12' as const, '1.13' as const), (commands, profile) => {
        const wire = Buffer.concat(commands.map(encodeCommand));
        const parsed = parseAll(wire, { profile, maxJobSize: 300 });
        expect(parsed.map((r) => ('body' in r ? { ...r, body: new Uint8Array(r.body) } : r))).toEqual(commands);
      }),
      { seed, numRuns: 300 },
    );
  });
});

describe('ReplyParser errors', () => {
  const bad: Array<[string, string]> = [
    ['unknown word', 'HELLO\r\n'],
    ['lower case', 'inserted 1\r\n'],
    ['missing id', 'INSERTED\r\n'],
    ['non-numeric id', 'INSERTED x\r\n'],
    ['extra argument', 'DELETED 1\r\n'],
    ['RESERVED without size', 'RESERVED 1\r\n'],
    ['bare CR in a reply line', 'DELETED\rX\r\n'],
    ['body without CR LF', 'OK 2\r\nabXY'],
  ];
  test.each(bad)('%s throws a ProtocolError naming the line', (_name, wire) => {
    const parser = new ReplyParser();
    parser.push(bytes(wire));
    expect(() => parser.next()).toThrow(ProtocolError);
  });

  test('the error message quotes the offending line', () => {
    const parser = new ReplyParser();
    parser.push(bytes('WHAT IS THIS\r\n'));
    expect(() => parser.next()).toThrow(/"WHAT IS THIS"/);
  });

  test('a line that never ends is an error once it is far too long', () => {
    const parser = new ReplyParser();
    parser.push(bytes('X'.repeat(500)));
    expect(parser.next()).toBeUndefined();
    parser.push(bytes('X'.repeat(600)));
    expect(() => parser.next()).toThrow(ProtocolError);
  });

  test('an incomplete body waits for more bytes', () => {
    const parser = new ReplyParser();
    parser.push(bytes('RESERVED 9 5\r\nhel'));
    expect(parser.next()).toBeUndefined();
    parser.push(bytes('lo\r'));
    expect(parser.next()).toBeUndefined();
    parser.push(bytes('\nTIMED_OUT\r\n'));
    expect(normalise(parser.next()!.reply)).toEqual({ kind: 'RESERVED', id: 9, body: body('hello') });
    expect(parser.next()!.reply).toEqual({ kind: 'TIMED_OUT' });
  });
});
