// Server bytes to Replies for the client. The replies load traffic is made of (INSERTED,
// RESERVED and the bare words a worker gets) are decoded straight from the bytes, without
// building a line string or a raw copy: the protocol's ReplyParser costs over a microsecond per
// reply, which alone would make a load generator slower than the server it measures. Anything
// else, and any line that is not exactly one of those forms, goes through ReplyParser, which
// stays the one authority on what a reply is and on what is a protocol error.
import { ReplyParser } from '../protocol/reply-parser.js';
import type { Reply } from '../protocol/types.js';

const CR = 13;
const LF = 10;
const SPACE = 32;
const ZERO = 48;
const NINE = 57;
const EMPTY = Buffer.alloc(0);
/** Longer numbers could exceed 2^53; ReplyParser clamps those. */
const MAX_FAST_DIGITS = 15;
/** Longer lines are left to ReplyParser (its line limit and error messages apply). */
const MAX_FAST_LINE_BYTES = 64;

const INSERTED = Buffer.from('INSERTED ', 'latin1');
const RESERVED = Buffer.from('RESERVED ', 'latin1');
/** The bare words a load run's workers get back; other bare words take the general path. */
const FAST_WORDS = new Map<string, Reply['kind']>(
  (['DELETED', 'TIMED_OUT', 'DEADLINE_SOON', 'RELEASED', 'BURIED', 'TOUCHED', 'NOT_FOUND'] as const).map((word) => [word, word]),
);

/** next() found an incomplete reply: wait for more bytes. */
const NEED_MORE = Symbol('need more bytes');

export class ReplyReader {
  private buf: Buffer = EMPTY;
  private pos = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.buf = this.pos >= this.buf.length ? chunk : Buffer.concat([this.buf.subarray(this.pos), chunk]);
    this.pos = 0;
  }

  /** The next complete reply, or undefined when more bytes are needed. Throws ProtocolError. */
  next(): Reply | undefined {
    if (this.pos >= this.buf.length) return undefined;
    const fast = this.fast();
    if (fast === NEED_MORE) return undefined;
    return fast ?? this.general();
  }

  /** Bytes received and not yet returned in a reply. */
  bufferedBytes(): number {
    return this.buf.length - this.pos;
  }

  private consume(end: number): void {
    if (end >= this.buf.length) {
      this.buf = EMPTY;
      this.pos = 0;
    } else {
      this.pos = end;
    }
  }

  /** A reply of the common forms; undefined when the bytes are anything else. */
  private fast(): Reply | typeof NEED_MORE | undefined {
    const buf = this.buf;
    const start = this.pos;
    const limit = Math.min(buf.length, start + MAX_FAST_LINE_BYTES);
    let cr = start;
    while (cr < limit && buf[cr] !== CR) cr++;
    if (cr === limit) return limit === buf.length ? NEED_MORE : undefined;
    if (cr + 1 >= buf.length) return NEED_MORE;
    if (buf[cr + 1] !== LF) return undefined;
    if (startsWith(buf, start, cr, INSERTED)) {
      const id = decimal(buf, start + INSERTED.length, cr);
      if (id < 0) return undefined;
      this.consume(cr + 2);
      return { kind: 'INSERTED', id };
    }
    if (startsWith(buf, start, cr, RESERVED)) {
      let space = start + RESERVED.length;
      while (space < cr && buf[space] !== SPACE) space++;
      const id = decimal(buf, start + RESERVED.length, space);
      const bytes = decimal(buf, space + 1, cr);
      if (id < 0 || bytes < 0) return undefined;
      const bodyStart = cr + 2;
      const end = bodyStart + bytes + 2;
      if (end > buf.length) return NEED_MORE;
      if (buf[end - 2] !== CR || buf[end - 1] !== LF) return undefined;
      // A copy, as ReplyParser gives: a view would keep the whole received chunk alive.
      const body = Buffer.from(buf.subarray(bodyStart, bodyStart + bytes));
      this.consume(end);
      return { kind: 'RESERVED', id, body };
    }
    const kind = FAST_WORDS.get(buf.toString('latin1', start, cr));
    if (kind === undefined) return undefined;
    this.consume(cr + 2);
    return { kind } as Reply;
  }

  /** Any other reply, through the protocol's parser; it throws on bytes that are no reply. */
  private general(): Reply | undefined {
    const parser = new ReplyParser();
    parser.push(this.buf.subarray(this.pos));
    const parsed = parser.next();
    if (parsed === undefined) return undefined;
    this.consume(this.pos + parsed.raw.length);
    return parsed.reply;
  }
}

function startsWith(buf: Buffer, start: number, end: number, prefix: Buffer): boolean {
  if (end - start <= prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[start + i] !== prefix[i]) return false;
  return true;
}

/** The decimal number in buf[from, to), or -1 unless it is 1 to MAX_FAST_DIGITS digits. */
function decimal(buf: Buffer, from: number, to: number): number {
  const digits = to - from;
  if (digits < 1 || digits > MAX_FAST_DIGITS) return -1;
  let value = 0;
  for (let i = from; i < to; i++) {
    const byte = buf[i];
    if (byte < ZERO || byte > NINE) return -1;
    value = value * 10 + (byte - ZERO);
  }
  return value;
}
