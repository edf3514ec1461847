// The incremental request parser: bytes from one client connection in, Requests out, with
// beanstalkd's framing (docs/semantics.md a.0/1-3 and a.1, prot.c conn_process_io):
//
// * The server keeps a 224-byte line buffer. A line ends at the FIRST CR of the buffer when the
//   byte after it is LF; a CR followed by anything else stalls the connection until the buffer
//   is full. A CR in the buffer's last byte is not looked at (scan_line_end scans size - 1).
// * A full buffer without a line end is discarded, and so is every following 224-byte window
//   until one holds a line end; that line end yields one BAD_FORMAT.
// * After a put line the body and its CR LF are read as raw bytes (bytes + 2), or discarded
//   without buffering when the size is over max-job-size.
// * beanstalkd acts on a put line before its body arrives (cmd-put, producer, job id; a.1). So
//   when the body is not all there yet the parser yields put-begin (or put-too-big-begin) at once
//   and the completing request later; when it is all there, only the completing request.
//
// The completed requests depend only on the byte stream, never on how it was split into
// chunks; only where the begin requests appear depends on the split.
import { interpretLine, type LineContext, type PutHeader } from './command-line.js';
import { MAX_LINE_BYTES, type Profile, type Request } from './types.js';

const CR = 13;
const LF = 10;
const EMPTY = Buffer.alloc(0);
const NO_BODY = new Uint8Array(0);

const OVERLONG_LINE: Request = Object.freeze({ kind: 'error', reply: 'BAD_FORMAT' });
const PUT_TOO_BIG: Request = Object.freeze({ kind: 'put-too-big' });
const PUT_EXPECTED_CRLF: Request = Object.freeze({ kind: 'put-expected-crlf' });
const PUT_TOO_BIG_BEGIN: Request = Object.freeze({ kind: 'put-too-big-begin' });

type PutBegin = Extract<Request, { kind: 'put-begin' }>;

/**
 * Bodies are copied out of the socket chunk, so a held job does not pin the chunk. Small ones
 * are cut from shared slabs: an ArrayBuffer of its own costs a body about 200 bytes of V8 and
 * allocator bookkeeping, more than a typical 100-byte body. A held body pins at most its slab.
 */
const SLAB_BYTES = 16 * 1024;
const POOLED_BODY_MAX_BYTES = 1024;
let slab = new ArrayBuffer(SLAB_BYTES);
let slabUsed = 0;

function copyBody(from: Buffer, start: number, end: number): Uint8Array {
  const size = end - start;
  let body: Uint8Array;
  if (size > POOLED_BODY_MAX_BYTES) {
    body = new Uint8Array(size);
  } else {
    if (slabUsed + size > SLAB_BYTES) {
      slab = new ArrayBuffer(SLAB_BYTES);
      slabUsed = 0;
    }
    body = new Uint8Array(slab, slabUsed, size);
    slabUsed += (size + 7) & ~7; // keep views 8-byte aligned
  }
  body.set(from.subarray(start, end));
  return body;
}

type Mode =
  | 'line' // looking for a command line
  | 'overlong' // discarding a too-long line through its end (prot.c STATE_WANT_ENDLINE)
  | 'body' // reading a put body and its CR LF after a put-begin
  | 'discard'; // throwing away an oversized put body (prot.c STATE_BITBUCKET)

export interface RequestParserOptions {
  profile: Profile;
  maxJobSize: number;
}

export class RequestParser {
  private readonly ctx: LineContext;
  private mode: Mode = 'line';
  /**
   * Unparsed input is buf[pos..]. A pushed chunk is kept by reference (not copied) while
   * its bytes are pending, so callers must not reuse a chunk's memory after pushing it.
   */
  private buf: Buffer = EMPTY;
  private pos = 0;
  /** A request completed inside push() (the rest of a put body arrived with the chunk). */
  private completed: Request | undefined;

  /** The put in flight (body mode), as handed out in its put-begin. */
  private putBegin: PutBegin | undefined;
  /** Body and CR LF slot in one buffer; put-begin's body and trailer are views into it. */
  private putData: Uint8Array = NO_BODY;
  private putFilled = 0;

  private discardLeft = 0;

  constructor(opts: RequestParserOptions) {
    this.ctx = { profile: opts.profile, maxJobSize: opts.maxJobSize };
  }

  push(chunk: Uint8Array): void {
    let data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    // Body and discard modes are only left pending once every earlier byte was consumed, so
    // the chunk goes straight into the body (or nowhere): a huge body is never buffered here.
    if (this.mode === 'body' || this.mode === 'discard') {
      data = data.subarray(this.absorb(data));
    }
    if (data.length === 0) return;
    if (this.pos >= this.buf.length) {
      this.buf = data;
    } else {
      this.buf = Buffer.concat([this.buf.subarray(this.pos), data]);
    }
    this.pos = 0;
  }

  /** The next complete request, or undefined when more bytes are needed. */
  next(): Request | undefined {
    for (;;) {
      const done = this.completed;
      if (done !== undefined) {
        this.completed = undefined;
        return done;
      }
      if (this.pos >= this.buf.length) {
        this.buf = EMPTY; // let the last chunk be collected
        this.pos = 0;
        return undefined;
      }
      // Bytes are only pending in 'line' or 'overlong' mode: entering 'body' or 'discard' takes
      // every pending byte, and push() feeds those modes directly.
      if (this.mode === 'overlong') {
        if (!this.skipOverlongLine()) return undefined;
        this.mode = 'line';
        return OVERLONG_LINE;
      }
      const request = this.nextLine();
      if (request !== undefined) return request;
      if (this.mode === 'line') return undefined; // needs more bytes
    }
  }

  /** Bytes received and not yet returned in a request (discarded bytes excluded). */
  bufferedBytes(): number {
    const pending = this.buf.length - this.pos;
    return this.mode === 'body' ? pending + this.putFilled : pending;
  }

  /**
   * In 'line' mode: returns the request of the next complete line, or undefined with the
   * mode unchanged (more bytes needed) or changed to 'overlong' (the line is too long).
   */
  private nextLine(): Request | undefined {
    const buf = this.buf;
    const start = this.pos;
    const available = buf.length - start;
    const windowEnd = start + Math.min(available, MAX_LINE_BYTES);
    const cr = buf.indexOf(CR, start);
    if (cr !== -1 && cr < windowEnd - 1 && buf[cr + 1] === LF) {
      this.pos = cr + 2;
      return this.onLine(buf.toString('latin1', start, cr));
    }
    // No line end in reach (or a bare CR stalls the line): wait for the window to fill.
    if (available < MAX_LINE_BYTES) return undefined;
    this.pos = start + MAX_LINE_BYTES;
    this.mode = 'overlong';
    return undefined;
  }

  /** Called once the line is consumed: buf[pos..] is what follows it. */
  private onLine(line: string): Request {
    const outcome = interpretLine(line, this.ctx);
    if (outcome.kind === 'put-header') return this.startPut(outcome);
    if (outcome.kind === 'put-skip') return this.startDiscard(outcome.bytes + 2);
    return outcome;
  }

  private startPut(header: PutHeader): Request {
    const buf = this.buf;
    const start = this.pos;
    const size = header.bytes;
    if (buf.length - start >= size + 2) {
      // All here: beanstalkd inserts it within the same read, so no in-flight state is visible.
      this.pos = start + size + 2;
      if (buf[start + size] !== CR || buf[start + size + 1] !== LF) return PUT_EXPECTED_CRLF;
      const body = copyBody(buf, start, start + size);
      return { kind: 'put', pri: header.pri, delaySeconds: header.delaySeconds, ttrSeconds: header.ttrSeconds, body };
    }
    // Still arriving: whatever is here goes in now, the rest straight from later chunks.
    const data = new Uint8Array(size + 2);
    data.set(buf.subarray(start));
    this.putFilled = buf.length - start;
    this.pos = buf.length;
    this.putData = data;
    this.mode = 'body';
    this.putBegin = {
      kind: 'put-begin',
      pri: header.pri,
      delaySeconds: header.delaySeconds,
      ttrSeconds: header.ttrSeconds,
      body: data.subarray(0, size),
      trailer: data.subarray(size),
    };
    return this.putBegin;
  }

  private startDiscard(total: number): Request {
    const available = this.buf.length - this.pos;
    if (available >= total) {
      this.pos += total;
      return PUT_TOO_BIG;
    }
    this.pos = this.buf.length;
    this.discardLeft = total - available;
    this.mode = 'discard';
    return PUT_TOO_BIG_BEGIN;
  }

  /**
   * In 'overlong' mode: drops 224-byte windows until one holds a CR LF found by the first-CR
   * rule, and consumes through that CR LF. Returns false when more bytes are needed.
   */
  private skipOverlongLine(): boolean {
    const buf = this.buf;
    for (;;) {
      const cr = buf.indexOf(CR, this.pos);
      if (cr === -1) {
        this.pos += MAX_LINE_BYTES * Math.floor((buf.length - this.pos) / MAX_LINE_BYTES);
        return false;
      }
      // Windows wholly before the CR held no CR: each filled up and was dropped.
      this.pos += MAX_LINE_BYTES * Math.floor((cr - this.pos) / MAX_LINE_BYTES);
      if (cr - this.pos === MAX_LINE_BYTES - 1) {
        this.pos = cr + 1; // the CR is its window's last byte and is dropped unseen
        continue;
      }
      if (cr + 1 >= buf.length) return false;
      if (buf[cr + 1] === LF) {
        this.pos = cr + 2;
        return true;
      }
      // A bare CR stalls this window until it is full; then it is dropped like the others.
      if (this.pos + MAX_LINE_BYTES > buf.length) return false;
      this.pos += MAX_LINE_BYTES;
    }
  }

  /** Feeds the front of a chunk to the put body or the discard counter; returns bytes consumed. */
  private absorb(data: Buffer): number {
    if (this.mode === 'discard') {
      const n = Math.min(this.discardLeft, data.length);
      this.discardLeft -= n;
      if (this.discardLeft === 0) this.finish(PUT_TOO_BIG);
      return n;
    }
    const n = Math.min(this.putData.length - this.putFilled, data.length);
    this.putData.set(data.subarray(0, n), this.putFilled);
    this.putFilled += n;
    if (this.putFilled === this.putData.length) this.finishPut();
    return n;
  }

  private finishPut(): void {
    const begin = this.putBegin!;
    const { trailer } = begin;
    this.finish(
      trailer[0] === CR && trailer[1] === LF
        ? { kind: 'put', pri: begin.pri, delaySeconds: begin.delaySeconds, ttrSeconds: begin.ttrSeconds, body: begin.body }
        : PUT_EXPECTED_CRLF,
    );
    this.putBegin = undefined;
    this.putData = NO_BODY; // the requests own the buffer now
  }

  private finish(request: Request): void {
    this.completed = request;
    this.mode = 'line';
  }
}
