// The parsing-level probe rows of docs/semantics.md section (g), with the exact Request
// the server's behaviour implies (row numbers in the names), plus the command table of a.0/5.
import { describe, expect, test } from 'vitest';
import { RequestParser } from '../../src/protocol/parser.js';
import type { Profile, Request } from '../../src/protocol/types.js';
import { BAD_FORMAT, UNKNOWN_COMMAND, bytes, parseAll } from './helpers.js';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const PUT_GARBAGE: Request = { kind: 'error', reply: 'BAD_FORMAT', counts: 'put' };
const PAUSE_BAD_NAME: Request = { kind: 'error', reply: 'BAD_FORMAT', counts: 'pause-tube' };

function put(pri: number, delaySeconds: number, ttrSeconds: number, body: string): Request {
  return { kind: 'put', pri, delaySeconds, ttrSeconds, body: new Uint8Array(bytes(body)) };
}

/** A put whose body has not all arrived: its live buffers hold what has, zeros for the rest. */
function putBegin(pri: number, delaySeconds: number, ttrSeconds: number, body: string, trailer: string): Request {
  return {
    kind: 'put-begin',
    pri,
    delaySeconds,
    ttrSeconds,
    body: new Uint8Array(bytes(body)),
    trailer: new Uint8Array(bytes(trailer)),
  };
}

type Row = [name: string, input: string, expected: Request[]];

function rows(table: Row[], profile: Profile = '1.12'): void {
  test.each(table)('%s', (_name, input, expected) => {
    expect(parseAll(input, { profile })).toEqual(expected);
  });
}

describe('put (probe rows 1-11, 26-30)', () => {
  rows([
    ['1 max pri', 'put 4294967295 0 10 1\r\na\r\n', [put(4294967295, 0, 10, 'a')]],
    ['2 pri 2^32: no body consumed, body parsed as a command', 'put 4294967296 0 10 1\r\na\r\n', [BAD_FORMAT, UNKNOWN_COMMAND]],
    ['3 pri 2^64', 'put 18446744073709551616 0 10 1\r\n', [BAD_FORMAT]],
    ['3 pri -1', 'put -1 0 10 1\r\n', [BAD_FORMAT]],
    ['3 pri +1', 'put +1 0 10 1\r\n', [BAD_FORMAT]],
    ['4 leading zeros', 'put 01 0 10 1\r\nb\r\n', [put(1, 0, 10, 'b')]],
    ['5 delay -1', 'put 0 -1 10 1\r\n', [BAD_FORMAT]],
    ['6 delay 2^32-1', 'put 0 4294967295 10 1\r\nd\r\n', [put(0, 4294967295, 10, 'd')]],
    ['6 delay 2^32', 'put 0 4294967296 10 1\r\n', [BAD_FORMAT]],
    ['7 ttr 2^32', 'put 0 0 4294967296 1\r\n', [BAD_FORMAT]],
    ['7 ttr 0 is passed as sent (the model stores 1)', 'put 0 0 0 1\r\nt\r\n', [put(0, 0, 0, 't')]],
    ['7 ttr 2^32-1', 'put 0 0 4294967295 1\r\nt\r\n', [put(0, 0, 4294967295, 't')]],
    ['8 pri abc', 'put abc 0 10 1\r\n', [BAD_FORMAT]],
    ['8 bytes 1x: trailing garbage counts cmd-put', 'put 1 0 10 1x\r\n', [PUT_GARBAGE]],
    ['8 bytes x', 'put 1 0 10 x\r\n', [BAD_FORMAT]],
    ['8 pri 1x', 'put 1x 0 10 1\r\n', [BAD_FORMAT]],
    ['8 three args', 'put 1 0 10\r\n', [BAD_FORMAT]],
    ['8 five args', 'put 1 0 10 1 5\r\n', [PUT_GARBAGE]],
    ['8 trailing space', 'put 1 0 10 1 \r\n', [PUT_GARBAGE]],
    ['9 extra spaces', 'put  1  0  10  1\r\nz\r\n', [put(1, 0, 10, 'z')]],
    ['10 put without space', 'put\r\n', [UNKNOWN_COMMAND]],
    ['10 upper case', 'PUT 0 0 1 1\r\n', [UNKNOWN_COMMAND]],
    // cmd-put is counted at the line; the reply waits until the discard ends.
    ['11 size checked before garbage: no reply yet', 'put 1 0 10 99999999x\r\n', [{ kind: 'put-too-big-begin' }]],
    ['26 missing CR LF, id used', 'put 0 0 10 5\r\nhelloXXput 0 0 10 1\r\nq\r\n', [{ kind: 'put-expected-crlf' }, put(0, 0, 10, 'q')]],
    ['27 short declared size', 'put 0 0 10 3\r\nhello\r\n', [{ kind: 'put-expected-crlf' }, UNKNOWN_COMMAND]],
    ['28 long declared size waits, the job in flight', 'put 0 0 10 7\r\nhello\r\n', [putBegin(0, 0, 10, 'hello\r\n', '\0\0')]],
    ['28 … and completes on the next CR LF', 'put 0 0 10 7\r\nhello\r\n\r\n', [put(0, 0, 10, 'hello\r\n')]],
    ['29 empty body', 'put 0 0 10 0\r\n\r\n', [put(0, 0, 10, '')]],
    ['29 body is CR LF', 'put 0 0 10 2\r\n\r\n\r\n', [put(0, 0, 10, '\r\n')]],
    ['body holding NUL, CR and LF', 'put 0 0 10 5\r\na\0\r\nb\r\n', [put(0, 0, 10, 'a\0\r\nb')]],
  ]);

  test('11 an oversized put discards exactly bytes+2 bytes, never buffering them', () => {
    const parser = new RequestParser({ profile: '1.12', maxJobSize: 65535 });
    parser.push(bytes('put 1 0 10 99999999x\r\n'));
    expect(parser.next()).toEqual({ kind: 'put-too-big-begin' });
    expect(parser.next()).toBeUndefined();
    const block = Buffer.alloc(1 << 20, 0x61);
    let left = 99999999 + 2;
    while (left > block.length) {
      parser.push(block);
      left -= block.length;
      expect(parser.bufferedBytes()).toBe(0);
    }
    parser.push(Buffer.concat([block.subarray(0, left - 1)]));
    expect(parser.next()).toBeUndefined(); // one byte still to discard
    parser.push(bytes('alist-tube-used\r\n'));
    expect(parser.next()).toEqual({ kind: 'put-too-big' });
    expect(parser.next()).toEqual({ kind: 'list-tube-used' });
    expect(parser.next()).toBeUndefined();
  });

  test('30 a body of exactly max-job-size is accepted; one byte more is discarded', () => {
    const body = 'b'.repeat(65535);
    expect(parseAll(`put 0 0 10 65535\r\n${body}\r\n`)).toEqual([put(0, 0, 10, body)]);
    expect(parseAll(`put 0 0 10 65536\r\n${body}b\r\nstats\r\n`)).toEqual([{ kind: 'put-too-big' }, { kind: 'stats' }]);
  });

  test('32 / testserv too_big: with max-job-size 10, an 11-byte put swallows a whole 13-byte line', () => {
    expect(parseAll('put 0 0 0 11\r\ndelete 9999\r\nput 0 0 0 1\r\nx\r\n', { maxJobSize: 10 })).toEqual([
      { kind: 'put-too-big' },
      put(0, 0, 0, 'x'),
    ]);
    expect(parseAll('put 0 0 10 10\r\n0123456789\r\n', { maxJobSize: 10 })).toEqual([put(0, 0, 10, '0123456789')]);
  });

  test('testserv job_size_invalid: bytes ≥ 2^32 or with garbage consume no body', () => {
    expect(parseAll('put 0 0 0 4294967296\r\nput 0 0 0 10b\r\nput 0 0 0 1\r\nx\r\n')).toEqual([
      BAD_FORMAT,
      PUT_GARBAGE,
      put(0, 0, 0, 'x'),
    ]);
  });
});

describe('a put in flight (a.1 step 5, probe 93)', () => {
  const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');
  const newParser = () => new RequestParser({ profile: '1.12', maxJobSize: 65535 });

  test('a body already buffered with its line yields only the put', () => {
    expect(parseAll(['put 0 0 10 5\r\nhello\r\nstats\r\n'].map(bytes))).toEqual([put(0, 0, 10, 'hello'), { kind: 'stats' }]);
    // Chunks pushed before the line is parsed count as buffered too.
    const parser = newParser();
    parser.push(bytes('put 0 0 10 5\r\n'));
    parser.push(bytes('hello\r\n'));
    expect(parser.next()).toEqual(put(0, 0, 10, 'hello'));
    expect(parser.next()).toBeUndefined();
  });

  test('a split body yields put-begin at once, whose buffers fill in place, then the put', () => {
    const parser = newParser();
    parser.push(bytes('put 7 3 0 5\r\nhe'));
    const begin = parser.next();
    if (begin?.kind !== 'put-begin') throw new Error(`expected put-begin, got ${JSON.stringify(begin)}`);
    expect(begin).toMatchObject({ pri: 7, delaySeconds: 3, ttrSeconds: 0 });
    expect(text(begin.body)).toBe('he\0\0\0');
    expect(text(begin.trailer)).toBe('\0\0');
    expect(parser.next()).toBeUndefined();
    parser.push(bytes('llo\r'));
    expect(parser.next()).toBeUndefined();
    expect(text(begin.body)).toBe('hello');
    expect(text(begin.trailer)).toBe('\r\0');
    parser.push(bytes('\nstats\r\n'));
    const end = parser.next();
    expect(end).toEqual(put(7, 3, 0, 'hello'));
    expect(end?.kind === 'put' && end.body).toBe(begin.body);
    expect(parser.next()).toEqual({ kind: 'stats' });
  });

  test('a split body without its CR LF ends in put-expected-crlf', () => {
    expect(parseAll(['put 0 0 10 2\r\nh', 'iXYstats\r\n'].map(bytes))).toEqual([
      putBegin(0, 0, 10, 'hi', 'XY'), // the live buffers, as they were filled in the end
      { kind: 'put-expected-crlf' },
      { kind: 'stats' },
    ]);
  });

  test('a line whose body has not started is in flight too', () => {
    expect(parseAll(['put 0 0 10 1\r\n', 'x\r\n'].map(bytes))).toEqual([putBegin(0, 0, 10, 'x', '\r\n'), put(0, 0, 10, 'x')]);
  });

  test('an oversized put whose discard is split yields put-too-big-begin, then put-too-big', () => {
    expect(parseAll(['put 0 0 10 11\r\n0123', '456789a\r\nstats\r\n'].map(bytes), { maxJobSize: 10 })).toEqual([
      { kind: 'put-too-big-begin' },
      { kind: 'put-too-big' },
      { kind: 'stats' },
    ]);
    expect(parseAll('put 0 0 10 11\r\n0123456789a\r\n', { maxJobSize: 10 })).toEqual([{ kind: 'put-too-big' }]);
  });
});

describe('line length and framing (probe rows 12-17, 81-83)', () => {
  rows([
    ['12 a 224-byte line is legal', `${'a'.repeat(222)}\r\n`, [UNKNOWN_COMMAND]],
    ['13 225 bytes, CR is byte 224: the next line is swallowed', `${'a'.repeat(223)}\r\nlist-tube-used\r\n`, [BAD_FORMAT]],
    ['14 226 bytes', `${'a'.repeat(224)}\r\nlist-tube-used\r\n`, [BAD_FORMAT, { kind: 'list-tube-used' }]],
    ['15 1002 bytes', `${'a'.repeat(1000)}\r\nlist-tube-used\r\n`, [BAD_FORMAT, { kind: 'list-tube-used' }]],
    ['16 the longest legal line', `pause-tube ${'t'.repeat(200)} 4294967295\r\n`, [{ kind: 'pause-tube', tube: 't'.repeat(200), delaySeconds: 4294967295 }]],
    ['17 one byte longer swallows the next line', `pause-tube ${'t'.repeat(200)} 04294967295\r\nstats\r\nlist-tubes\r\n`, [BAD_FORMAT, { kind: 'list-tubes' }]],
    ['81 NUL in the line', 'use a\0b\r\n', [BAD_FORMAT]],
    ['81 NUL before the arguments of a put: no body consumed', 'put 0 0 1 1\0\r\nq\r\n', [BAD_FORMAT, UNKNOWN_COMMAND]],
    ['81 a bare LF is an ordinary byte', 'use a\nuse b\r\n', [BAD_FORMAT]],
    ['82 a bare CR stalls the connection', 'use a\rb\r\nlist-tube-used\r\nstats\r\n', []],
    ['83 quit', 'quit\r\n', [{ kind: 'quit' }]],
    ['83 quit is a bare prefix', 'quitnow\r\n', [{ kind: 'quit' }]],
  ]);

  test('82 a bare CR: nothing until 224 bytes arrived, then one BAD_FORMAT at the next CR LF', () => {
    const stalled = 'use a\rb\r\n'; // 9 bytes
    const filler = 'list-tube-used\r\n'; // 16 bytes, 13 copies → 217 bytes in all
    const head = stalled + filler.repeat(13);
    expect(parseAll(head)).toEqual([]);
    // The 224-byte window ends 7 bytes into the 14th copy; its rest is discarded through CR LF.
    expect(parseAll(head + filler + 'stats\r\n')).toEqual([BAD_FORMAT, { kind: 'stats' }]);
  });

  test('a CR LF split across the 224-byte window boundary does not end the line', () => {
    // The first window (224 bytes) ends with a CR; the LF after it is an ordinary byte.
    const input = `${'x'.repeat(223)}\r\nlist-tube-used\r\nstats\r\n`;
    expect(parseAll(input)).toEqual([BAD_FORMAT, { kind: 'stats' }]);
  });

  test('an overlong line whose later window has a bare CR keeps discarding', () => {
    // Window 1: 224 × a. Window 2 holds a bare CR, so it is dropped whole (224 bytes),
    // and the CR LF that finishes the discard is the one after it.
    const window2 = `b\rc${'d'.repeat(221)}`;
    expect(window2.length).toBe(224);
    const input = `${'a'.repeat(224)}${window2}e\r\nstats\r\n`;
    expect(parseAll(input)).toEqual([BAD_FORMAT, { kind: 'stats' }]);
  });

  test('an empty line is UNKNOWN_COMMAND (79)', () => {
    expect(parseAll('\r\n')).toEqual([UNKNOWN_COMMAND]);
  });
});

describe('tube names (probe rows 18-25)', () => {
  const a200 = 'a'.repeat(200);
  const a201 = 'a'.repeat(201);
  rows([
    ['18 200 chars', `use ${a200}\r\n`, [{ kind: 'use', tube: a200 }]],
    ['18 201 chars', `use ${a201}\r\n`, [BAD_FORMAT]],
    ['18 watch 201', `watch ${a201}\r\n`, [BAD_FORMAT]],
    ['18 stats-tube 201', `stats-tube ${a201}\r\n`, [BAD_FORMAT]],
    ['18 pause-tube 201 counts cmd-pause-tube', `pause-tube ${a201} 1\r\n`, [PAUSE_BAD_NAME]],
    ['19 use -foo', 'use -foo\r\n', [BAD_FORMAT]],
    ['19 watch -foo', 'watch -foo\r\n', [BAD_FORMAT]],
    ['19 pause-tube -foo counts cmd-pause-tube', 'pause-tube -foo 1\r\n', [PAUSE_BAD_NAME]],
    ['20 use foo-', 'use foo-\r\n', [{ kind: 'use', tube: 'foo-' }]],
    ['20 every name char', 'use A-Za-z0-9+/;.$_()\r\n', [{ kind: 'use', tube: 'A-Za-z0-9+/;.$_()' }]],
    ['21 use foo*bar', 'use foo*bar\r\n', [BAD_FORMAT]],
    ['21 use foo bar', 'use foo bar\r\n', [BAD_FORMAT]],
    ['21 use foo␠', 'use foo \r\n', [BAD_FORMAT]],
    ['21 use ␠␠foo', 'use  foo\r\n', [BAD_FORMAT]],
    ['21 use ␠', 'use \r\n', [BAD_FORMAT]],
    ['22 use', 'use\r\n', [UNKNOWN_COMMAND]],
    ['23 pause-tube with extra spaces', 'pause-tube  default  1\r\n', [{ kind: 'pause-tube', tube: 'default', delaySeconds: 1 }]],
    ['23 pause-tube without a space', 'pause-tubedefault 1\r\n', [{ kind: 'pause-tube', tube: 'default', delaySeconds: 1 }]],
    ['24 pause-tube without delay', 'pause-tube default\r\n', [BAD_FORMAT]],
    ['24 pause-tube delay 2^32', 'pause-tube default 4294967296\r\n', [BAD_FORMAT]],
    ['24 pause-tube with trailing space', 'pause-tube default 1 \r\n', [BAD_FORMAT]],
    ['24 pause-tube name stops at a non-name char', 'pause-tube a*b 1\r\n', [BAD_FORMAT]],
    ['24 pause-tube alone', 'pause-tube\r\n', [BAD_FORMAT]],
    ['25 pause-tube nosuch', 'pause-tube nosuch 1\r\n', [{ kind: 'pause-tube', tube: 'nosuch', delaySeconds: 1 }]],
    ['25 stats-tube nosuch', 'stats-tube nosuch\r\n', [{ kind: 'stats-tube', tube: 'nosuch' }]],
    ['ignore', 'ignore foo\r\n', [{ kind: 'ignore', tube: 'foo' }]],
    ['non-ASCII byte in a name', 'use caf\u00e9\r\n', [BAD_FORMAT]],
  ]);
});

describe('reserve-with-timeout (probe rows 33-40)', () => {
  const rwt = (timeoutSeconds: number): Request => ({ kind: 'reserve-with-timeout', timeoutSeconds });
  const cases: Array<[name: string, arg: string, v112: Request, v113: Request]> = [
    ['33 zero', ' 0', rwt(0), rwt(0)],
    ['35 empty argument', ' ', rwt(0), BAD_FORMAT],
    ['35 non-numeric', ' abc', rwt(0), BAD_FORMAT],
    ['36 trailing x', ' 0x', rwt(0), rwt(0)],
    ['36 trailing word', ' 0 junk', rwt(0), rwt(0)],
    ['37 -1', ' -1', rwt(-1), BAD_FORMAT],
    ['38 2^31', ' 2147483648', rwt(-1), BAD_FORMAT],
    ['1.13 max 2^31-1', ' 2147483647', rwt(2147483647), rwt(2147483647)],
    ['39 2^32-1', ' 4294967295', rwt(-1), BAD_FORMAT],
    ['39 2^32 wraps to 0', ' 4294967296', rwt(0), BAD_FORMAT],
    ['39 20 digits', ' 99999999999999999999', BAD_FORMAT, BAD_FORMAT],
    ['1.12 LONG_MAX is no error', ' 9223372036854775807', rwt(-1), BAD_FORMAT],
    ['1.12 LONG_MAX+1 overflows', ' 9223372036854775808', BAD_FORMAT, BAD_FORMAT],
    ['1.12 LONG_MIN is no error', ' -9223372036854775808', rwt(0), BAD_FORMAT],
    ['1.12 below LONG_MIN overflows', ' -9223372036854775809', BAD_FORMAT, BAD_FORMAT],
    ['1.12 -4294967295 wraps to 1', ' -4294967295', rwt(1), BAD_FORMAT],
    ['1.12 strtol skips tabs and takes +', ' \t+7', rwt(7), BAD_FORMAT],
    ['leading spaces', '   7', rwt(7), rwt(7)],
  ];
  test.each(cases)('%s', (_name, arg, v112, v113) => {
    const line = `reserve-with-timeout${arg}\r\n`;
    expect(parseAll(line, { profile: '1.12' })).toEqual([v112]);
    expect(parseAll(line, { profile: '1.13' })).toEqual([v113]);
  });

  rows([
    ['34 no space matches reserve', 'reserve-with-timeout\r\n', [BAD_FORMAT]],
    ['40 reserve␠', 'reserve \r\n', [BAD_FORMAT]],
    ['40 reservex', 'reservex\r\n', [BAD_FORMAT]],
    ['40 reserve-job without id', 'reserve-job\r\n', [BAD_FORMAT]],
    ['reserve', 'reserve\r\n', [{ kind: 'reserve' }]],
  ]);
});

describe('ids (probe rows 49-52)', () => {
  rows([
    ['50 2^64-1 is a valid id (clamped)', 'peek 18446744073709551615\r\n', [{ kind: 'peek', id: MAX_SAFE }]],
    ['50 2^64', 'peek 18446744073709551616\r\n', [BAD_FORMAT]],
    ['50 -1', 'peek -1\r\n', [BAD_FORMAT]],
    ['50 +2', 'peek +2\r\n', [BAD_FORMAT]],
    ['50 02', 'peek 02\r\n', [{ kind: 'peek', id: 2 }]],
    ['ids up to 2^53-1 are exact', 'delete 9007199254740991\r\n', [{ kind: 'delete', id: 9007199254740991 }]],
    ['2^53 clamps', 'delete 9007199254740992\r\n', [{ kind: 'delete', id: MAX_SAFE }]],
    ['long zero padding', `delete ${'0'.repeat(40)}7\r\n`, [{ kind: 'delete', id: 7 }]],
    ['49 peek 0', 'peek 0\r\n', [{ kind: 'peek', id: 0 }]],
    ['51 peek-ready␠', 'peek-ready \r\n', [BAD_FORMAT]],
    ['51 stats-job 2␠', 'stats-job 2 \r\n', [BAD_FORMAT]],
    ['51 kick-job 3␠', 'kick-job 3 \r\n', [BAD_FORMAT]],
    ['51 delete 1␠', 'delete 1 \r\n', [BAD_FORMAT]],
    ['52 touch', 'touch\r\n', [UNKNOWN_COMMAND]],
    ['52 touch␠', 'touch \r\n', [BAD_FORMAT]],
    ['52 kick-job', 'kick-job\r\n', [UNKNOWN_COMMAND]],
    ['52 delete', 'delete\r\n', [UNKNOWN_COMMAND]],
    ['testserv touch_bad_format', 'touch 1a\r\n', [BAD_FORMAT]],
    ['multiple spaces before an id', 'delete  1\r\n', [{ kind: 'delete', id: 1 }]],
    ['release', 'release 1 2 3\r\n', [{ kind: 'release', id: 1, pri: 2, delaySeconds: 3 }]],
    ['release without delay', 'release 1 2\r\n', [BAD_FORMAT]],
    ['release with trailing space', 'release 1 2 3 \r\n', [BAD_FORMAT]],
    ['release pri 2^32', 'release 1 4294967296 0\r\n', [BAD_FORMAT]],
    ['86 bury max pri', 'bury 1 4294967295\r\n', [{ kind: 'bury', id: 1, pri: 4294967295 }]],
    ['bury without pri', 'bury 1\r\n', [BAD_FORMAT]],
    ['bury garbage pri', 'bury 1 x\r\n', [BAD_FORMAT]],
  ]);
});

describe('kick (probe rows 53-57)', () => {
  const kick = (bound: number): Request => ({ kind: 'kick', bound });
  rows([
    ['53 kick 0', 'kick 0\r\n', [kick(0)]],
    ['55 kick -1 wraps', 'kick -1\r\n', [kick(4294967295)]],
    ['55 kick 1x', 'kick 1x\r\n', [kick(1)]],
    ['55 kick +1', 'kick +1\r\n', [kick(1)]],
    ['55 kick ␠␠1', 'kick  1\r\n', [kick(1)]],
    ['56 kick abc', 'kick abc\r\n', [BAD_FORMAT]],
    ['56 kick ␠', 'kick \r\n', [BAD_FORMAT]],
    ['56 kick 2^64', 'kick 18446744073709551616\r\n', [BAD_FORMAT]],
    ['56 kick', 'kick\r\n', [UNKNOWN_COMMAND]],
    ['57 kick 2^32+1', 'kick 4294967297\r\n', [kick(1)]],
    ['57 kick 2^64-1', 'kick 18446744073709551615\r\n', [kick(4294967295)]],
    ['kick -(2^64-1) wraps to 1', 'kick -18446744073709551615\r\n', [kick(1)]],
    ['kick sign without digits', 'kick -\r\n', [BAD_FORMAT]],
    ['kick tab before the number', 'kick \t5\r\n', [kick(5)]],
    ['kick-job', 'kick-job 3\r\n', [{ kind: 'kick-job', id: 3 }]],
  ]);
});

describe('command recognition (a.0/5, probe rows 79-80)', () => {
  rows([
    ['79 statsx', 'statsx\r\n', [BAD_FORMAT]],
    ['79 stats␠', 'stats \r\n', [BAD_FORMAT]],
    ['79 stats-job without space matches stats', 'stats-job\r\n', [BAD_FORMAT]],
    ['79 stats-tube without space matches stats', 'stats-tube\r\n', [BAD_FORMAT]],
    ['79 list-tubes␠', 'list-tubes \r\n', [BAD_FORMAT]],
    ['79 list-tubesx', 'list-tubesx\r\n', [BAD_FORMAT]],
    ['80 peek', 'peek\r\n', [UNKNOWN_COMMAND]],
    ['80 peekfoo', 'peekfoo\r\n', [UNKNOWN_COMMAND]],
    ['peek-readyX', 'peek-readyX\r\n', [BAD_FORMAT]],
    ['list-tube-usedX', 'list-tube-usedX\r\n', [BAD_FORMAT]],
    ['list-tubes-watchedX', 'list-tubes-watchedX\r\n', [BAD_FORMAT]],
    ['watch without space', 'watch\r\n', [UNKNOWN_COMMAND]],
    ['leading space', ' stats\r\n', [UNKNOWN_COMMAND]],
  ]);

  const everyCommand: Array<[string, Request]> = [
    ['put 1 2 3 1\r\nx\r\n', { kind: 'put', pri: 1, delaySeconds: 2, ttrSeconds: 3, body: new Uint8Array([0x78]) }],
    ['use t\r\n', { kind: 'use', tube: 't' }],
    ['reserve\r\n', { kind: 'reserve' }],
    ['reserve-with-timeout 5\r\n', { kind: 'reserve-with-timeout', timeoutSeconds: 5 }],
    ['reserve-job 4\r\n', { kind: 'reserve-job', id: 4 }],
    ['delete 4\r\n', { kind: 'delete', id: 4 }],
    ['release 4 5 6\r\n', { kind: 'release', id: 4, pri: 5, delaySeconds: 6 }],
    ['bury 4 5\r\n', { kind: 'bury', id: 4, pri: 5 }],
    ['touch 4\r\n', { kind: 'touch', id: 4 }],
    ['watch t\r\n', { kind: 'watch', tube: 't' }],
    ['ignore t\r\n', { kind: 'ignore', tube: 't' }],
    ['peek 4\r\n', { kind: 'peek', id: 4 }],
    ['peek-ready\r\n', { kind: 'peek-ready' }],
    ['peek-delayed\r\n', { kind: 'peek-delayed' }],
    ['peek-buried\r\n', { kind: 'peek-buried' }],
    ['kick 4\r\n', { kind: 'kick', bound: 4 }],
    ['kick-job 4\r\n', { kind: 'kick-job', id: 4 }],
    ['stats-job 4\r\n', { kind: 'stats-job', id: 4 }],
    ['stats-tube t\r\n', { kind: 'stats-tube', tube: 't' }],
    ['stats\r\n', { kind: 'stats' }],
    ['list-tubes\r\n', { kind: 'list-tubes' }],
    ['list-tube-used\r\n', { kind: 'list-tube-used' }],
    ['list-tubes-watched\r\n', { kind: 'list-tubes-watched' }],
    ['quit\r\n', { kind: 'quit' }],
    ['pause-tube t 4\r\n', { kind: 'pause-tube', tube: 't', delaySeconds: 4 }],
  ];
  test.each(everyCommand)('all 25 commands: %j', (input, expected) => {
    for (const profile of ['1.12', '1.13'] as const) expect(parseAll(input, { profile })).toEqual([expected]);
  });
});
