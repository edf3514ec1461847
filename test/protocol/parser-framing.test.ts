// Framing properties of RequestParser: the byte stream alone decides the completed requests
// (never how it is chunked; only the put-begin markers depend on the chunks), the result equals
// a literal transcription of prot.c's buffer handling, bodies own their memory, and oversized
// bodies are discarded without being buffered.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { RequestParser } from '../../src/protocol/parser.js';
import type { Profile, Request } from '../../src/protocol/types.js';
import { bytes, completed, isBegin, parseAll, testSeed } from './helpers.js';
import { protCRequests } from './prot-c-reference.js';

/** Small enough that generated puts often exceed it and exercise the discard path. */
const PROPERTY_MAX_JOB_SIZE = 8;

const latin1 = (text: string): fc.Arbitrary<Buffer> => fc.constant(bytes(text));

/** Bytes that matter to framing, so random runs hit CR / LF / NUL / space / digits often. */
const noiseByte = fc.constantFrom(...bytes('a1 \r\n\0-x'));

const fragment: fc.Arbitrary<Buffer> = fc.oneof(
  fc.constantFrom(
    'list-tube-used\r\n', 'stats\r\n', 'use foo\r\n', 'watch a-b\r\n', 'ignore foo\r\n', 'peek 02\r\n',
    'kick -1\r\n', 'kick 1x\r\n', 'reserve-with-timeout abc\r\n', 'reserve-with-timeout 0 junk\r\n',
    'pause-tubedefault 1\r\n', 'pause-tube -x 1\r\n', 'delete 1 \r\n', 'quitnow\r\n', '\r\n', 'put\r\n',
    'put 1 0 10 1x\r\n', 'put 4294967296 0 10 1\r\n', 'release 1 2 3\r\n', 'bury 9 9\r\n',
  ).map(bytes),
  // A put line with a body whose declared size may be off by one or over the limit.
  fc
    .record({
      body: fc.uint8Array({ maxLength: 12 }),
      sizeDelta: fc.constantFrom(0, 0, 0, -1, 1),
      trailer: fc.constantFrom('\r\n', '\r\n', 'XY', '\n'),
    })
    .map(({ body, sizeDelta, trailer }) =>
      Buffer.concat([bytes(`put 1 0 10 ${Math.max(0, body.length + sizeDelta)}\r\n`), body, bytes(trailer)]),
    ),
  // Lines near and over the 224-byte limit, some with their CR on the window edge.
  fc.integer({ min: 210, max: 460 }).map((n) => bytes(`${'a'.repeat(n)}\r\n`)),
  fc.constantFrom(221, 222, 223, 224, 445, 446, 447, 448, 671).map((n) => bytes(`${'a'.repeat(n)}\r\n`)),
  // CR-dense noise: bare CRs stall windows, and CRs land on window edges.
  fc.array(fc.constantFrom(...bytes('aaa\r\n')), { minLength: 200, maxLength: 700 }).map((b) => Buffer.from(b)),
  latin1('use a\rb\r\n'),
  fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
  fc.array(noiseByte, { maxLength: 30 }).map((b) => Buffer.from(b)),
);

const stream = fc.array(fragment, { maxLength: 30 }).map((parts) => Buffer.concat(parts));

/** Cut points into sorted, distinct positions: the chunks a socket might deliver. */
function split(data: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let at = 0;
  for (const p of [...points, data.length]) {
    chunks.push(data.subarray(at, p));
    at = p;
  }
  return chunks;
}

function finalBuffered(chunks: readonly Buffer[], profile: Profile): number {
  const parser = new RequestParser({ profile, maxJobSize: PROPERTY_MAX_JOB_SIZE });
  for (const chunk of chunks) {
    parser.push(chunk);
    while (parser.next() !== undefined);
  }
  return parser.bufferedBytes();
}

/**
 * Each begin is followed at once by the request that ends it (or by nothing: the stream ended
 * mid-body), and a put-begin carries the line's numbers and, in its live buffers, the body.
 */
function expectBeginsPaired(requests: readonly Request[]): void {
  requests.forEach((begin, i) => {
    const end = requests[i + 1];
    if (begin.kind === 'put-too-big-begin') {
      if (end !== undefined) expect(end.kind).toBe('put-too-big');
    } else if (begin.kind === 'put-begin') {
      if (end === undefined) return;
      expect(['put', 'put-expected-crlf']).toContain(end.kind);
      if (end.kind === 'put') {
        expect(end).toMatchObject({ pri: begin.pri, delaySeconds: begin.delaySeconds, ttrSeconds: begin.ttrSeconds });
        expect(end.body).toBe(begin.body); // the same memory, filled in place
      }
    }
  });
}

describe('chunking', () => {
  test('any split of a byte stream yields the same completed requests as feeding it whole', () => {
    const seed = testSeed('parser chunk split');
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 12 }), fc.constantFrom<Profile>('1.12', '1.13'), (data, cuts, profile) => {
        const opts = { profile, maxJobSize: PROPERTY_MAX_JOB_SIZE };
        const whole = parseAll(data, opts);
        const chunks = split(data, cuts);
        const pieces = parseAll(chunks, opts);
        expect(completed(pieces)).toEqual(completed(whole));
        expectBeginsPaired(pieces);
        // Fed whole, only a body cut off by the end of the stream has a begin: the last request.
        expect(whole.slice(0, -1).some(isBegin)).toBe(false);
        expect(finalBuffered(chunks, profile)).toBe(finalBuffered([data], profile));
      }),
      { seed, numRuns: 400 },
    );
  });

  test('byte-at-a-time feeding yields the same completed requests as feeding it whole', () => {
    const seed = testSeed('parser byte at a time');
    fc.assert(
      fc.property(stream, (data) => {
        const opts = { maxJobSize: PROPERTY_MAX_JOB_SIZE };
        const oneByOne = Array.from({ length: data.length }, (_, i) => data.subarray(i, i + 1));
        const pieces = parseAll(oneByOne, opts);
        expect(completed(pieces)).toEqual(completed(parseAll(data, opts)));
        expectBeginsPaired(pieces);
      }),
      { seed, numRuns: 150 },
    );
  });
});

describe('against a literal transcription of prot.c input handling', () => {
  test('same requests for any stream and any read() sizes', () => {
    const seed = testSeed('parser vs prot.c transcription');
    fc.assert(
      fc.property(
        stream,
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 8 }),
        fc.constantFrom<Profile>('1.12', '1.13'),
        (data, readSizes, profile) => {
          const ctx = { profile, maxJobSize: PROPERTY_MAX_JOB_SIZE };
          // prot.c reads at most 224 bytes per read() before a put line, so where a put is seen
          // in flight differs; what the stream completes does not.
          expect(completed(parseAll(data, ctx))).toEqual(protCRequests(data, readSizes, ctx));
        },
      ),
      { seed, numRuns: 500 },
    );
  });

  test('the transcription agrees on the hand-made edge cases too', () => {
    const cases = [
      `${'a'.repeat(223)}\r\nlist-tube-used\r\nstats\r\n`,
      `use a\rb\r\n${'list-tube-used\r\n'.repeat(14)}stats\r\n`,
      `${'a'.repeat(224)}b\rc${'d'.repeat(221)}e\r\nstats\r\n`,
      'put 0 0 10 3\r\nhello\r\nput 0 0 10 9\r\n0123456789\r\nstats\r\n',
    ];
    for (const text of cases) {
      const ctx = { profile: '1.12' as const, maxJobSize: PROPERTY_MAX_JOB_SIZE };
      expect(completed(parseAll(text, ctx))).toEqual(protCRequests(bytes(text), [7, 224, 1], ctx));
    }
  });
});

describe('window edges under chunking', () => {
  test('a chunk ending one byte before a stalled window fills still drops that last byte', () => {
    const window2 = `b\rc${'d'.repeat(220)}`; // a bare CR stalls it; 223 bytes so far
    const head = `${'a'.repeat(224)}${window2}`;
    const tail = '\r\nlist-tube-used\r\nstats\r\n'; // its CR is window 2's 224th byte
    const expected = [{ kind: 'error', reply: 'BAD_FORMAT' }, { kind: 'stats' }];
    expect(protCRequests(bytes(head + tail), [1000], { profile: '1.12', maxJobSize: 8 })).toEqual(expected);
    expect(parseAll([bytes(head), bytes(tail)])).toEqual(expected);
    expect(parseAll(head + tail)).toEqual(expected);
  });

  test('a full 224-byte window without a line end is dropped at once', () => {
    const parser = new RequestParser({ profile: '1.12', maxJobSize: 65535 });
    parser.push(bytes('a'.repeat(224)));
    expect(parser.next()).toBeUndefined();
    expect(parser.bufferedBytes()).toBe(0);
    parser.push(bytes('a'.repeat(300)));
    expect(parser.next()).toBeUndefined();
    expect(parser.bufferedBytes()).toBe(300 - 224);
  });
});

describe('memory', () => {
  test('a put body owns its memory: it neither pins nor aliases the socket chunk', () => {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    bytes('put 0 0 10 3\r\nabc\r\n').copy(chunk);
    chunk.write('\r\n', chunk.length - 2, 'latin1'); // the rest is one long line of spaces
    const parser = new RequestParser({ profile: '1.12', maxJobSize: 65535 });
    parser.push(chunk);
    const request = parser.next();
    if (request?.kind !== 'put') throw new Error(`expected a put, got ${JSON.stringify(request)}`);
    chunk.fill(0x7a, 0, 32);
    expect(Buffer.from(request.body).toString('latin1')).toBe('abc');
    // Its memory is a small slab of its own, not the 64 KiB chunk.
    expect(request.body.buffer).not.toBe(chunk.buffer);
    expect(request.body.buffer.byteLength).toBeLessThanOrEqual(16 * 1024);
  });

  test('a 1 GiB+1 declared body over the limit is discarded without buffering', () => {
    const maxJobSize = 1 << 30; // beanstalkd's -z cap; testserv job_size_max_plus_1
    const parser = new RequestParser({ profile: '1.13', maxJobSize });
    parser.push(bytes(`put 0 0 10 ${maxJobSize + 1}\r\n`));
    expect(parser.next()).toEqual({ kind: 'put-too-big-begin' });
    expect(parser.next()).toBeUndefined();
    const block = Buffer.alloc(1 << 20, 0x61);
    const before = process.memoryUsage().arrayBuffers;
    let left = maxJobSize + 1 + 2;
    while (left >= block.length) {
      parser.push(block);
      left -= block.length;
    }
    parser.push(Buffer.concat([block.subarray(0, left), bytes('stats\r\n')]));
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(32 << 20);
    expect(parser.next()).toEqual({ kind: 'put-too-big' });
    expect(parser.next()).toEqual({ kind: 'stats' });
  });

  test('an accepted body is copied straight from each chunk, not accumulated in the line buffer', () => {
    const parser = new RequestParser({ profile: '1.12', maxJobSize: 1 << 20 });
    parser.push(bytes(`put 0 0 10 ${1 << 20}\r\n`));
    expect(parser.next()?.kind).toBe('put-begin');
    const block = Buffer.alloc(1 << 16, 0x62);
    for (let i = 0; i < 16; i++) {
      parser.push(block);
      expect(parser.next()).toBeUndefined();
    }
    expect(parser.bufferedBytes()).toBe(1 << 20);
    parser.push(bytes('\r\n'));
    const request = parser.next();
    expect(request?.kind).toBe('put');
    expect(parser.bufferedBytes()).toBe(0);
  });
});
