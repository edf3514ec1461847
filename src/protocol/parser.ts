// The incremental request parser: bytes from one client connection in, Requests out, with
// beanstalkd's framing (semantics doc a.0/1-3 and a.1, prot.c conn_process_io):
//
// * The server keeps a 224-byte line buffer. A line ends at the FIRST CR of the buffer when the
//   byte after it is LF; a CR followed by anything else stalls the connection until the buffer
//   is full. A CR in the buffer's last byte is not looked at (scan_line_end scans size - 1).
// * A full buffer without a line end is discarded, and so is every following 224-byte window
//   until one holds a line end; that line end yields one BAD_FORMAT.
// * After a put line the body and its CR LF are read as raw bytes (bytes + 2), or discarded
//   without buffering when the size is over max-job-size.
//
// All of this depends only on the byte stream, never on how it was split into chunks.
import { interpretLine, type LineContext, type PutHeader } from './command-line.js';
import { MAX_LINE_BYTES, type Profile, type Request } from './types.js';

const CR = 13;
const LF = 10;
const EMPTY = Buffer.alloc(0);
const NO_BODY = new Uint8Array(0);

const OVERLONG_LINE: Request = Object.freeze({ kind: 'error', reply: 'BAD_FORMAT' });
const PUT_TOO_BIG: Request = Object.freeze({ kind: 'put-too-big' });
const PUT_EXPECTED_CRLF: Request = Object.freeze({ kind: 'put-expected-crlf' });

type Mode =
  | 'line' // looking for a command line
  | 'overlong' // discarding a too-long line through its end (prot.c STATE_WANT_ENDLINE)
  | 'body' // reading a put body and its CR LF
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
  /** A request completed inside push() (a put body that arrived with the chunk). */
  private completed: Request | undefined;

  private putHeader: PutHeader | undefined;
  private body: Uint8Array = NO_BODY;
  private bodyFilled = 0;
  private readonly trailer = new Uint8Array(2);
  private trailerFilled = 0;

  private discardLeft = 0;

  constructor(opts: RequestParserOptions) {
    this.ctx = { profile: opts.profile, maxJobSize: opts.maxJobSize };
  }

  push(chunk: Uint8Array): void {
    let data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    // Body and discard modes are only left pending once every earlier byte was consumed, so
    // the chunk goes straight into the body (or nowhere): a huge body is never buffered here.
    if (this.mode === 'body' || this.mode === 'discard') {
      data = data.subarray(this.absorb(data, 0));
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
      switch (this.mode) {
        case 'line': {
          const request = this.nextLine();
          if (request !== undefined) return request;
          if (this.mode === 'line') return undefined; // needs more bytes
          break;
        }
        case 'overlong':
          if (!this.skipOverlongLine()) return undefined;
          this.mode = 'line';
          return OVERLONG_LINE;
        case 'body':
        case 'discard':
          this.pos += this.absorb(this.buf, this.pos);
          break;
      }
    }
  }

  /** Bytes received and not yet returned in a request (discarded bytes excluded). */
  bufferedBytes(): number {
    const pending = this.buf.length - this.pos;
    return this.mode === 'body' ? pending + this.bodyFilled + this.trailerFilled : pending;
  }

  /**
   * In 'line' mode: returns the request of the next complete line, or undefined with the
   * mode unchanged (more bytes needed) or changed (a put body follows, or the line is too long).
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

  private onLine(line: string): Request | undefined {
    const outcome = interpretLine(line, this.ctx);
    if (outcome.kind === 'put-header') {
      this.mode = 'body';
      this.putHeader = outcome;
      this.body = new Uint8Array(outcome.bytes);
      this.bodyFilled = 0;
      this.trailerFilled = 0;
      return undefined;
    }
    if (outcome.kind === 'put-skip') {
      this.mode = 'discard';
      this.discardLeft = outcome.bytes + 2;
      return undefined;
    }
    return outcome;
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

  /** Feeds data[from..] to the put body or the discard counter; returns bytes consumed. */
  private absorb(data: Buffer, from: number): number {
    let at = from;
    if (this.mode === 'discard') {
      const n = Math.min(this.discardLeft, data.length - at);
      this.discardLeft -= n;
      if (this.discardLeft === 0) this.finish(PUT_TOO_BIG);
      return n;
    }
    const bodyNeed = this.body.length - this.bodyFilled;
    if (bodyNeed > 0) {
      const n = Math.min(bodyNeed, data.length - at);
      this.body.set(data.subarray(at, at + n), this.bodyFilled);
      this.bodyFilled += n;
      at += n;
    }
    while (this.trailerFilled < 2 && at < data.length) {
      this.trailer[this.trailerFilled++] = data[at++];
    }
    if (this.trailerFilled === 2) this.finishPut();
    return at - from;
  }

  private finishPut(): void {
    const header = this.putHeader!;
    const hasCrLf = this.trailer[0] === CR && this.trailer[1] === LF;
    this.finish(
      hasCrLf
        ? { kind: 'put', pri: header.pri, delaySeconds: header.delaySeconds, ttrSeconds: header.ttrSeconds, body: this.body }
        : PUT_EXPECTED_CRLF,
    );
    this.putHeader = undefined;
    this.body = NO_BODY; // the request owns the body now
  }

  private finish(request: Request): void {
    this.completed = request;
    this.mode = 'line';
  }
}
