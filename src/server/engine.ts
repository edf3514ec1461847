// The embedded server's heart: bytes in, bytes out, with no sockets and no clock. Each call
// takes the time as an argument, so the conformance corpus drives it with a virtual clock and
// tcp.ts drives it with the real one.
//
// Fault seam: the Engine only talks to the world through the ReferenceModel it is given and
// the EngineSink it writes to. A fault injector wraps either one (a model wrapper mutates
// replies or state transitions; a sink wrapper delays or garbles bytes) and passes the
// wrapped object here; nothing in this file needs to change for that.
import type { ConnId, Output, ReferenceModel } from '../model/api.js';
import { RequestParser } from '../protocol/parser.js';
import { encodeReply } from '../protocol/encode.js';

export interface EngineSink {
  write(conn: ConnId, bytes: Uint8Array): void;
  /** The server ends this connection, after the bytes already written. */
  close(conn: ConnId): void;
}

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
  /** Replies produced during the current call, written as one chunk when the call ends. */
  out: Uint8Array[];
  /** Listed in Engine.touched for the current call. */
  touched: boolean;
  /** Listed in Engine.runnable for the current call. */
  queued: boolean;
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
}

export class Engine {
  private readonly conns = new Map<ConnId, ConnState>();
  /** Connections with output (or a close) pending in the current call. */
  private touched: ConnState[] = [];
  /** Connections that got a reply from elsewhere and may have buffered input to resume. */
  private runnable: ConnState[] = [];
  /** The connection whose requests are being applied right now. */
  private running: ConnState | undefined;
  private nowUs = 0;

  constructor(
    private readonly model: ReferenceModel,
    private readonly sink: EngineSink,
    private readonly options: EngineOptions = {},
  ) {}

  open(nowUs: number): ConnId {
    const id = this.model.connect(nowUs);
    this.conns.set(id, {
      id,
      parser: new RequestParser({ profile: this.model.profile, maxJobSize: this.model.maxJobSize }),
      held: [],
      heldBytes: 0,
      out: [],
      touched: false,
      queued: false,
      halfClosed: false,
      closing: false,
      gone: false,
    });
    return id;
  }

  receive(conn: ConnId, bytes: Uint8Array, nowUs: number): void {
    const state = this.live(conn);
    if (!state || bytes.length === 0) return;
    this.nowUs = nowUs;
    if (state.heldBytes > 0 || this.model.isWaiting(conn)) {
      state.held.push(bytes);
      state.heldBytes += bytes.length;
      return;
    }
    state.parser.push(bytes);
    this.run(state);
    this.finishCall();
  }

  hangup(conn: ConnId, nowUs: number): void {
    const state = this.live(conn);
    if (!state) return;
    this.nowUs = nowUs;
    state.halfClosed = true;
    this.run(state);
    this.finishCall();
  }

  close(conn: ConnId, nowUs: number): void {
    const state = this.live(conn);
    if (!state) return;
    this.nowUs = nowUs;
    // The peer is gone: nothing more can be written to it.
    state.out = [];
    this.retire(state);
    this.finishCall();
  }

  tick(nowUs: number): void {
    this.nowUs = nowUs;
    this.route(this.model.tick(nowUs));
    this.finishCall();
  }

  nextDeadline(): number | undefined {
    return this.model.nextDeadline();
  }

  /** Bytes received but not yet parsed because the connection waits in reserve. */
  heldInputBytes(conn: ConnId): number {
    return this.conns.get(conn)?.heldBytes ?? 0;
  }

  private live(conn: ConnId): ConnState | undefined {
    const state = this.conns.get(conn);
    return state && !state.gone ? state : undefined;
  }

  /** Applies the connection's buffered requests in order until it blocks, runs dry or closes. */
  private run(state: ConnState): void {
    this.running = state;
    try {
      this.applyBuffered(state);
    } catch (error) {
      this.options.onInternalError?.(state.id, error);
      if (!state.gone) {
        state.out.push(encodeReply({ kind: 'INTERNAL_ERROR' }));
        this.serverClose(state);
      }
    } finally {
      this.running = undefined;
    }
  }

  private applyBuffered(state: ConnState): void {
    const { id, parser } = state;
    while (!state.gone && !state.closing) {
      if (this.model.isWaiting(id)) {
        if (!state.halfClosed) return;
        // The client half-closed: its reserve is answered TIMED_OUT (a.3).
        this.route(this.model.hangup(id, this.nowUs));
        // A model that keeps the connection waiting must not make this loop spin.
        if (this.model.isWaiting(id)) return;
        continue;
      }
      const request = parser.next();
      if (request !== undefined) {
        this.route(this.model.apply(id, request, this.nowUs));
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

  private route(outputs: Output[]): void {
    for (const output of outputs) {
      const state = this.live(output.conn);
      if (!state || state.closing) continue;
      if ('close' in output) {
        // `quit`: the model has already closed the connection and returned its jobs.
        this.serverClose(state, { modelClosed: true });
        continue;
      }
      state.out.push(encodeReply(output.reply));
      this.touch(state);
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

  private finishCall(): void {
    // run() may queue further connections; the loop picks them up as the array grows.
    for (let i = 0; i < this.runnable.length; i++) {
      const state = this.runnable[i];
      state.queued = false;
      this.run(state);
    }
    this.runnable = [];
    const touched = this.touched;
    this.touched = [];
    for (const state of touched) {
      state.touched = false;
      const { out } = state;
      if (out.length > 0) {
        state.out = [];
        this.sink.write(state.id, out.length === 1 ? out[0] : Buffer.concat(out));
      }
      if (state.closing) this.sink.close(state.id);
    }
  }
}
