// The client's ReplyReader decodes the common replies itself and must agree with the protocol's
// ReplyParser on every byte stream: the same replies, the same need for more bytes, the same
// streams rejected. Randomised over reply mixes and over where the stream is cut into chunks.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReplyReader } from '../../src/client/reply-reader.js';
import { ReplyParser } from '../../src/protocol/reply-parser.js';
import type { Reply } from '../../src/protocol/types.js';

const SEED = Number(process.env.SEED ?? Date.now() % 2 ** 31);

function readAll(chunks: Buffer[]): Reply[] {
  const reader = new ReplyReader();
  const replies: Reply[] = [];
  for (const chunk of chunks) {
    reader.push(chunk);
    for (let reply = reader.next(); reply !== undefined; reply = reader.next()) replies.push(reply);
  }
  return replies;
}

function parseAll(bytes: Buffer): Reply[] {
  const parser = new ReplyParser();
  parser.push(bytes);
  const replies: Reply[] = [];
  for (let parsed = parser.next(); parsed !== undefined; parsed = parser.next()) replies.push(parsed.reply);
  return replies;
}

/** The bytes cut at the given offsets. */
function cut(bytes: Buffer, offsets: number[]): Buffer[] {
  const points = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(from, point));
    from = point;
  }
  return chunks;
}

const body = fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b));
const id = fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER), fc.constant(10 ** 17));
/** Replies as a server sends them, with the fast forms over-represented, plus near misses. */
const replyBytes = fc.oneof(
  id.map((n) => `INSERTED ${n}\r\n`),
  fc.tuple(id, body).map(([n, b]) => Buffer.concat([Buffer.from(`RESERVED ${n} ${b.length}\r\n`), b, Buffer.from('\r\n')])),
  fc.tuple(id, body).map(([n, b]) => Buffer.concat([Buffer.from(`FOUND ${n} ${b.length}\r\n`), b, Buffer.from('\r\n')])),
  fc.constantFrom('DELETED\r\n', 'TIMED_OUT\r\n', 'DEADLINE_SOON\r\n', 'RELEASED\r\n', 'BURIED\r\n', 'BURIED 7\r\n'),
  fc.constantFrom('TOUCHED\r\n', 'NOT_FOUND\r\n', 'KICKED 3\r\n', 'USING tube\r\n', 'WATCHING 2\r\n', 'OK 2\r\nab\r\n', 'INSERTED 012\r\n'),
);
const stream = fc.array(replyBytes, { minLength: 1, maxLength: 30 }).map((parts) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p))));

describe(`ReplyReader agrees with ReplyParser (seed ${SEED})`, () => {
  it('gives the same replies however the stream is cut', () => {
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 12 }), (bytes, offsets) => {
        expect(readAll(cut(bytes, offsets))).toEqual(parseAll(bytes));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('gives nothing until a reply is complete', () => {
    const bytes = Buffer.from('RESERVED 5 3\r\nabc\r\n');
    for (let end = 0; end < bytes.length; end++) expect(readAll([bytes.subarray(0, end)])).toEqual([]);
    expect(readAll([bytes])).toEqual([{ kind: 'RESERVED', id: 5, body: Buffer.from('abc') }]);
  });

  it.each([
    'INSERTED 12x\r\n',
    'INSERTED  12\r\n',
    'INSERTED\r\n',
    'RESERVED 5 3\r\nabcd\r\n',
    'RESERVED 5\r\nabc\r\n',
    'DELETED\rx',
    'DELETE\r\n',
    `${'X'.repeat(2000)}\r\n`,
  ])('rejects %j as ReplyParser does', (text) => {
    const bytes = Buffer.from(text, 'latin1');
    expect(() => parseAll(bytes)).toThrow();
    expect(() => readAll([bytes])).toThrow(expect.objectContaining({ name: 'ProtocolError' }));
  });

  it('copies a job body out of the received chunk', () => {
    const chunk = Buffer.from('RESERVED 1 2\r\nhi\r\n');
    const [reply] = readAll([chunk]);
    chunk.fill(0);
    expect(reply).toEqual({ kind: 'RESERVED', id: 1, body: Buffer.from('hi') });
  });
});
