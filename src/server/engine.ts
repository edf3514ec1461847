// The embedded server's heart: bytes in, bytes out, with no sockets and no timers. The time is
// either an argument of each call (the conformance corpus drives it with a virtual clock) or,
// with a clock in the options, read again for every command (tcp.ts, the real clock).
//
// Like beanstalkd, a connection's commands are applied one at a time, and the engine stops
// applying them (and tells the transport to stop reading) while:
// * the connection waits in reserve (semantics a.0/9);
// * its replies are not sent yet (the sink's write returned false; resume() continues);
// * it had its turn (commandsPerTurn applied in one go; onYield asks for a resume()), so one
//   busy connection cannot hold the others up.
// What one connection costs in memory is therefore bounded whatever its client does: at most one
// received chunk of input, one turn's replies and what the transport buffers.
//
// Fault seam: the Engine only talks to the world through the ReferenceModel it is given and
// the EngineSink it writes to. A fault injector wraps either one (a model wrapper mutates
// replies or state transitions; a sink wrapper delays or garbles bytes) and passes the
// wrapped object here; nothing in this file needs to change for that.
import type { ConnId, Output, ReferenceModel } from '../model/api.js';
import type { Reply } from '../protocol/types.js';
import { RequestParser } from '../protocol/parser.js';
import { encodeReply } from '../protocol/encode.js';

export interface EngineSink {
  /**
   * Sends bytes to the peer. Returning false means the connection's output is not sent yet:
   * the engine applies none of its commands until resume(conn). Any other return: go on.
   */
  write(conn: ConnId, bytes: Uint8Array): boolean | void;
  /**
   * The same for several chunks sent in order (optional: without it they are concatenated for
   * write). Large job bodies come as chunks of their own, by reference, so peeking a 60 KB job
   * does not copy it.
   */
  writev?(conn: ConnId, chunks: Uint8Array[]): boolean | void;
  /** The server ends this connection, after the bytes already written. */
  close(conn: ConnId): void;
}

/** Replies of one connection are gathered into one write up to about this size. */
export const FLUSH_BYTES = 64 * 1024;
/** A RESERVED or FOUND body at least this large goes to the sink as it is stored, not copied. */
export const LARGE_BODY_BYTES = 1024;
const CRLF = Buffer.from('\r\n', 'latin1');
/**
 * Input held behind a blocking reserve, beyond which the transport stops reading. It keeps
 * reading below it only to see a FIN, which ends the reserve with TIMED_OUT (a.3); beanstalkd
 * leaves the bytes in the kernel and watches for the hang-up alone, which node cannot do.
 */
export const HELD_INPUT_LIMIT_BYTES = 64 * 1024;

interface ConnState {
  readonly id: ConnId;
  readonly parser: RequestParser;
  /**
   * Input that arrived while the connection waited in reserve. beanstalkd does not read a
   * waiting connection's socket (semantics a.0/9); holding the bytes here, outside the parser,
   * keeps them unapplied and lets the transport see how much is held and stop reading.
   */
  held: Uint8Array[];
  heldBytes: number;
  /** Replies not yet handed to the sink. */
  out: Uint8Array[];
  outBytes: number;
  /** `out` holds a large body by reference (see LARGE_BODY_BYTES). */
  outLarge: boolean;
  /** Listed in Engine.touched for the current call. */
  touched: boolean;
  /** Listed in Engine.runnable for the current call. */
  queued: boolean;
  /** Listed in Engine.visited: its reading state is re-checked when the call ends. */
  visited: boolean;
  /** The sink has not sent its replies yet: apply nothing until resume(). */
  blocked: boolean;
  /** It used up its turn; onYield was told and resume() continues. */
  yielded: boolean;
  /** What the transport was last told: whether to read this connection. */
  reading: boolean;
  /** The peer sent FIN: finish what it sent, answer reserves with TIMED_OUT, then close. */
  halfClosed: boolean;
  /** The server closes it once this call's output is written. */
  closing: boolean;
  /** Removed from the model; ignore everything that still arrives. */
  gone: boolean;
}

export interface EngineOptions {
  /**
   * Told when applying a connection's input threw (a bug in the model or parser). The engine
   * answers that connection INTERNAL_ERROR and closes it, so one bad input cannot take the
   * others down; this callback is how the transport gets to log it.
   */
  onInternalError?(conn: ConnId, error: unknown): void;
  /**
   * Read for every command, so each has its own time as in beanstalkd (a put and a stats-job in
   * one chunk are microseconds apart, and time-left shows it). Two commands never share an
   * instant: a clock that has not moved is taken one µs later. Without it, every command of a
   * call happens at the call's nowUs.
   */
  clock?(): number;
  /** Commands applied for one connection in one go before it yields (default: no limit). */
  commandsPerTurn?: number;
  /** The connection yielded its turn with commands still to apply: call resume(conn) soon. */
  onYield?(conn: ConnId): void;
  /**
   * Whether the transport should read this connection changed: false while its commands
   * cannot be applied (replies unsent, turn used up) or too much input waits behind a reserve.
   * Every connection starts as reading.
   */
  onReadingChange?(conn: ConnId, reading: boolean): void;
}

export class Engine {
  private readonly conns = new Map<ConnId, ConnState>();
  /** Connections with output (or a close) pending in the current call. */
  private touched: ConnState[] = [];
  /** Connections that got a reply from elsewhere and may have buffered input to resume. */
  private runnable: ConnState[] = [];
  /** Connections whose reading state may have changed in the current call. */
  private visited: ConnState[] = [];
  /** The connection whose requests are being applied right now. */
  private running: ConnState | undefined;
  private nowUs = 0;
  private readonly commandsPerTurn: number;

  constructor(
    private readonly model: ReferenceModel,
    private readonly sink: EngineSink,
    private readonly options: EngineOptions = {},
  ) {
    this.commandsPerTurn = options.commandsPerTurn ?? Infinity;
  }

  open(nowUs: number): ConnId {
    this.advance(nowUs);
    const id = this.model.connect(this.nowUs);
    this.conns.set(id, {
      id,
      parser: new RequestParser({ profile: this.model.profile, maxJobSize: this.model.maxJobSize }),
      held: [],
      heldBytes: 0,
      out: [],
      outBytes: 0,
      outLarge: false,
      touched: false,
      queued: false,
      visited: false,
      blocked: false,
      yielded: false,
      reading: true,
      halfClosed: false,
      closing: false,
      gone: false,
    });
    return id;
  }

  receive(conn: ConnId, bytes: Uint8Array, nowUs: number): void {
    const state = this.live(conn);
    if (!state || bytes.length === 0) return;
    this.advance(nowUs);
    this.visit(state);
    if (state.heldBytes > 0 || this.model.isWaiting(conn) || state.blocked || state.yielded) {
      // Not applicable now: kept whole until the connection can go on (a chunk that arrives
      // after the transport was told to stop reading, or behind a reserve).
      state.held.push(bytes);
      state.heldBytes += bytes.length;
    } else {
      state.parser.push(bytes);
      this.run(state);
    }
    this.finishCall();
  }

  /** Goes on with a connection that was stopped because its output was unsent or its turn was over. */
  resume(conn: ConnId, nowUs: number): void {
    const state = this.live(conn);
    if (!state) return;
    this.advance(nowUs);
    state.blocked = false;
    state.yielded = false;
    this.visit(state);
    this.run(state);
    this.finishCall();
  }

  hangup(conn: ConnId, nowUs: number): void {
    const state = this.live(conn);
    if (!state) return;
    this.advance(nowUs);
    state.halfClosed = true;
    this.visit(state);
    this.run(state);
    this.finishCall();
  }

  close(conn: ConnId, nowUs: number): void {
    const state = this.live(conn);
    if (!state) return;
    this.advance(nowUs);
    // The peer is gone: nothing more can be written to it.
    state.out = [];
    state.outBytes = 0;
    this.retire(state);
    this.finishCall();
  }

  tick(nowUs: number): void {
    this.advance(nowUs);
    this.route(this.model.tick(this.nowUs));
    this.finishCall();
  }

  nextDeadline(): number | undefined {
    return this.model.nextDeadline();
  }

  /** Bytes received but not yet parsed because the connection waits in reserve (or is stopped). */
  heldInputBytes(conn: ConnId): number {
    return this.conns.get(conn)?.heldBytes ?? 0;
  }

  /** Whether the transport should read this connection now (onReadingChange reports changes). */
  isReading(conn: ConnId): boolean {
    const state = this.live(conn);
    return state !== undefined && state.reading;
  }

  private live(conn: ConnId): ConnState | undefined {
    const state = this.conns.get(conn);
    return state && !state.gone ? state : undefined;
  }

  /** The call's time; never earlier than a time already used. */
  private advance(nowUs: number): void {
    if (nowUs > this.nowUs) this.nowUs = nowUs;
  }

  /** The time of the command about to be applied (see EngineOptions.clock). */
  private commandNow(): number {
    const clock = this.options.clock;
    if (clock !== undefined) {
      const t = clock();
      this.nowUs = t > this.nowUs ? t : this.nowUs + 1;
    }
    return this.nowUs;
  }

  /** Applies the connection's buffered requests in order until it blocks, runs dry or closes. */
  private run(state: ConnState): void {
    this.running = state;
    try {
      this.applyBuffered(state);
    } catch (error) {
      this.options.onInternalError?.(state.id, error);
      if (!state.gone) {
        this.reply(state, { kind: 'INTERNAL_ERROR' });
        this.serverClose(state);
      }
    } finally {
      this.running = undefined;
    }
  }

  private applyBuffered(state: ConnState): void {
    const { id, parser } = state;
    let budget = this.commandsPerTurn;
    while (!state.gone && !state.closing && !state.blocked && !state.yielded) {
      if (this.model.isWaiting(id)) {
        if (!state.halfClosed) return;
        // The client half-closed: its reserve is answered TIMED_OUT (a.3).
        this.route(this.model.hangup(id, this.nowUs));
        // A model that keeps the connection waiting must not make this loop spin.
        if (this.model.isWaiting(id)) return;
        this.afterCommand(state);
        continue;
      }
      if (budget === 0) {
        state.yielded = true;
        this.options.onYield?.(id);
        return;
      }
      const request = parser.next();
      if (request !== undefined) {
        budget -= 1;
        this.route(this.model.apply(id, request, this.commandNow()));
        this.afterCommand(state);
        continue;
      }
      const chunk = state.held.shift();
      if (chunk !== undefined) {
        state.heldBytes -= chunk.length;
        parser.push(chunk);
        continue;
      }
      // Everything the peer sent before its FIN is answered; beanstalkd then reads EOF and closes.
      if (state.halfClosed) this.serverClose(state);
      return;
    }
  }

  /**
   * After a FIN every reply goes out on its own before the next command is applied: beanstalkd
   * stops at the first reply it cannot write, so a client that closed its socket (rather than
   * only its sending side) gets no further command run on its behalf. Otherwise replies are
   * gathered, up to FLUSH_BYTES, into one write.
   */
  private afterCommand(state: ConnState): void {
    if (state.out.length > 0 && (state.halfClosed || state.outBytes >= FLUSH_BYTES)) this.flush(state);
  }

  private flush(state: ConnState): void {
    const { out } = state;
    if (out.length === 0) return;
    state.out = [];
    state.outBytes = 0;
    const large = state.outLarge;
    state.outLarge = false;
    let accepted: boolean | void;
    if (out.length === 1) accepted = this.sink.write(state.id, out[0]);
    else if (large && this.sink.writev) accepted = this.sink.writev(state.id, coalesceSmall(out));
    else accepted = this.sink.write(state.id, Buffer.concat(out));
    if (accepted === false) state.blocked = true;
  }

  private reply(state: ConnState, reply: Reply): void {
    if ((reply.kind === 'RESERVED' || (reply.kind === 'FOUND' && reply.trailer === undefined)) && reply.body.length >= LARGE_BODY_BYTES) {
      // The line, the stored body itself, then CR LF: the bytes encodeReply would copy into one buffer.
      const { body } = reply;
      this.push(state, Buffer.from(`${reply.kind} ${reply.id} ${body.length}\r\n`, 'latin1'));
      this.push(state, body);
      this.push(state, CRLF);
      state.outLarge = true;
      return;
    }
    this.push(state, encodeReply(reply));
  }

  private push(state: ConnState, bytes: Uint8Array): void {
    state.out.push(bytes);
    state.outBytes += bytes.length;
    this.touch(state);
  }

  private route(outputs: Output[]): void {
    for (const output of outputs) {
      const state = this.live(output.conn);
      if (!state || state.closing) continue;
      if ('close' in output) {
        // `quit`: the model has already closed the connection and returned its jobs.
        this.serverClose(state, { modelClosed: true });
        continue;
      }
      this.reply(state, output.reply);
      // A reply caused by another connection (or a timer) may end this one's reserve, and
      // its buffered input must then be applied.
      if (state !== this.running && !state.queued) {
        state.queued = true;
        this.runnable.push(state);
      }
    }
  }

  /** The server side closes: drop the remaining input, write what is pending, then close. */
  private serverClose(state: ConnState, how: { modelClosed: boolean } = { modelClosed: false }): void {
    state.closing = true;
    this.touch(state);
    this.retire(state, how);
  }

  private retire(state: ConnState, { modelClosed }: { modelClosed: boolean } = { modelClosed: false }): void {
    state.gone = true;
    state.held = [];
    state.heldBytes = 0;
    this.conns.delete(state.id);
    if (!modelClosed) this.route(this.model.disconnect(state.id, this.nowUs));
  }

  private touch(state: ConnState): void {
    if (state.touched) return;
    state.touched = true;
    this.touched.push(state);
  }

  private visit(state: ConnState): void {
    if (state.visited) return;
    state.visited = true;
    this.visited.push(state);
  }

  private finishCall(): void {
    // run() may queue further connections; the loop picks them up as the array grows.
    for (let i = 0; i < this.runnable.length; i++) {
      const state = this.runnable[i];
      state.queued = false;
      this.visit(state);
      this.run(state);
    }
    this.runnable = [];
    const touched = this.touched;
    this.touched = [];
    for (const state of touched) {
      state.touched = false;
      this.visit(state);
      this.flush(state);
      if (state.closing) this.sink.close(state.id);
    }
    const visited = this.visited;
    this.visited = [];
    for (const state of visited) {
      state.visited = false;
      if (state.gone) continue;
      const reading = this.wantsInput(state);
      if (reading !== state.reading) {
        state.reading = reading;
        this.options.onReadingChange?.(state.id, reading);
      }
    }
  }

  private wantsInput(state: ConnState): boolean {
    if (state.blocked || state.yielded) return false;
    if (state.heldBytes > 0 && !this.model.isWaiting(state.id)) return false;
    return state.heldBytes < HELD_INPUT_LIMIT_BYTES;
  }
}

/** Runs of small chunks joined into one, large ones (bodies) left as they are. */
function coalesceSmall(chunks: Uint8Array[]): Uint8Array[] {
  const result: Uint8Array[] = [];
  let run: Uint8Array[] = [];
  const endRun = (): void => {
    if (run.length > 0) result.push(run.length === 1 ? run[0] : Buffer.concat(run));
    run = [];
  };
  for (const chunk of chunks) {
    if (chunk.length >= LARGE_BODY_BYTES) {
      endRun();
      result.push(chunk);
    } else {
      run.push(chunk);
    }
  }
  endRun();
  return result;
}
