// The client side: server bytes in, Replies out, each with its exact raw bytes (the conformance
// checker compares and prints those). A server that is not speaking the protocol is reported
// with a ProtocolError naming the offending line, never by waiting forever on a huge buffer.
// Job ids are decimal numbers in beanstalkd; a parser made with `opaqueIds` also accepts any
// other token there (a server whose ids are UUIDs), so the conformance suite can hold such a
// server to every other rule and report the id format once.
import type { Reply } from './types.js';

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

const CR = 13;
const LF = 10;
const EMPTY = Buffer.alloc(0);
/** The longest legal reply line is `USING <200-char tube>\r\n` (208 bytes); allow slack. */
const MAX_REPLY_LINE_BYTES = 1024;

const BARE_WORDS: ReadonlySet<string> = new Set([
  'BURIED', 'DEADLINE_SOON', 'TIMED_OUT', 'DELETED', 'RELEASED', 'TOUCHED', 'NOT_IGNORED',
  'KICKED', 'PAUSED', 'NOT_FOUND', 'BAD_FORMAT', 'UNKNOWN_COMMAND', 'JOB_TOO_BIG',
  'EXPECTED_CRLF', 'DRAINING', 'OUT_OF_MEMORY', 'INTERNAL_ERROR',
]);

const DECIMAL = /^[0-9]+$/;
/** An opaque job id: printable ASCII without spaces. */
const ID_TOKEN = /^[\x21-\x7e]+$/;

export interface ParsedReply {
  reply: Reply;
  raw: Buffer;
  /**
   * The job id exactly as the server wrote it, for replies that carry one (INSERTED, BURIED <id>,
   * RESERVED, FOUND). With `opaqueIds` a non-decimal id leaves `reply.id` NaN: use this.
   */
  jobId?: string;
}

export interface ReplyParserOptions {
  /** Accept any token as a job id, not only a decimal number (see the file comment). */
  opaqueIds?: boolean;
}

/** A reply line split into its word and the numeric / name arguments after it. */
type Header =
  | { kind: 'plain'; reply: Reply; jobId?: string }
  | { kind: 'body'; make: (body: Uint8Array) => Reply; bytes: number; jobId?: string };

export class ReplyParser {
  private buf: Buffer = EMPTY;
  private pos = 0;
  private readonly opaqueIds: boolean;

  constructor(opts: ReplyParserOptions = {}) {
    this.opaqueIds = opts.opaqueIds ?? false;
  }

  push(chunk: Uint8Array): void {
    const data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (data.length === 0) return;
    this.buf = this.pos >= this.buf.length ? data : Buffer.concat([this.buf.subarray(this.pos), data]);
    this.pos = 0;
  }

  /**
   * The next complete reply, or undefined when more bytes are needed. Throws ProtocolError on
   * bytes that are no beanstalkd reply; the stream cannot be resynchronised after that.
   */
  next(): ParsedReply | undefined {
    const buf = this.buf;
    const start = this.pos;
    const cr = buf.indexOf(CR, start);
    const lineBytes = cr === -1 ? buf.length - start : cr - start;
    if (lineBytes > MAX_REPLY_LINE_BYTES) {
      throw new ProtocolError(`reply line longer than ${MAX_REPLY_LINE_BYTES} bytes: ${quote(buf, start, start + 60)}…`);
    }
    if (cr === -1 || cr + 1 >= buf.length) return undefined;
    if (buf[cr + 1] !== LF) throw new ProtocolError(`reply line with a bare CR: ${quote(buf, start, cr + 2)}`);
    const line = buf.toString('latin1', start, cr);
    const header = parseHeader(line, this.opaqueIds);
    let end = cr + 2;
    if (header.kind === 'body') {
      end += header.bytes + 2;
      if (end > buf.length) return undefined;
      if (buf[end - 2] !== CR || buf[end - 1] !== LF) {
        throw new ProtocolError(`reply body not followed by CR LF after ${JSON.stringify(line)}`);
      }
    }
    // One copy: raw is the reply's own memory, and a body is a view into it.
    const raw = Buffer.from(buf.subarray(start, end));
    const bodyStart = cr + 2 - start;
    const reply =
      header.kind === 'plain' ? header.reply : header.make(raw.subarray(bodyStart, bodyStart + header.bytes));
    this.pos = end;
    if (this.pos >= buf.length) {
      this.buf = EMPTY;
      this.pos = 0;
    }
    return header.jobId === undefined ? { reply, raw } : { reply, raw, jobId: header.jobId };
  }

  /** Bytes received and not yet returned in a reply. */
  bufferedBytes(): number {
    return this.buf.length - this.pos;
  }
}

function quote(buf: Buffer, from: number, to: number): string {
  return JSON.stringify(buf.toString('latin1', from, Math.min(to, buf.length)));
}

function parseHeader(line: string, opaqueIds: boolean): Header {
  const space = line.indexOf(' ');
  if (space === -1) {
    if (BARE_WORDS.has(line)) return { kind: 'plain', reply: { kind: line } as Reply };
    throw new ProtocolError(`unrecognised reply line ${JSON.stringify(line)}`);
  }
  const word = line.slice(0, space);
  const rest = line.slice(space + 1);
  const args = rest.split(' ');
  switch (word) {
    case 'INSERTED':
    case 'BURIED':
      return { kind: 'plain', reply: { kind: word, id: jobId(line, args, 0, 1, opaqueIds) }, jobId: args[0] };
    case 'WATCHING':
      return { kind: 'plain', reply: { kind: 'WATCHING', count: number(line, args, 0, 1) } };
    case 'KICKED':
      return { kind: 'plain', reply: { kind: 'KICKED', count: number(line, args, 0, 1) } };
    case 'USING':
      if (rest.length === 0) break;
      return { kind: 'plain', reply: { kind: 'USING', tube: rest } };
    case 'RESERVED':
    case 'FOUND': {
      const id = jobId(line, args, 0, 2, opaqueIds);
      return { kind: 'body', bytes: number(line, args, 1, 2), make: (body) => ({ kind: word, id, body }), jobId: args[0] };
    }
    case 'OK':
      return { kind: 'body', bytes: number(line, args, 0, 1), make: (body) => ({ kind: 'OK', body }) };
  }
  throw new ProtocolError(`unrecognised reply line ${JSON.stringify(line)}`);
}

/** args[index] as a job id: a decimal number, or with `opaque` any token (NaN when not decimal). */
function jobId(line: string, args: string[], index: number, count: number, opaque: boolean): number {
  if (opaque && args.length === count && ID_TOKEN.test(args[index]) && !DECIMAL.test(args[index])) return Number.NaN;
  return number(line, args, index, count);
}

/** args[index] as a decimal number, when the line has exactly `count` arguments. */
function number(line: string, args: string[], index: number, count: number): number {
  const text = args[index];
  if (args.length !== count || !DECIMAL.test(text)) {
    throw new ProtocolError(`unrecognised reply line ${JSON.stringify(line)}`);
  }
  // Ids above 2^53 cannot be held exactly; like the request parser, clamp them (types.ts JobId).
  return Math.min(Number(text), Number.MAX_SAFE_INTEGER);
}
