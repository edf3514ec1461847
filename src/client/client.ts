// A pipelined beanstalkd client over one TCP connection. Replies come back in command order
// (semantics a.0/9), so requests are matched first in, first out. Built for load: thousands of
// requests may be outstanding, the commands of one event-loop turn go out in one write, one
// timer watches every request's deadline instead of a timer per request, the clock is read once
// per turn for those deadlines, and send() answers through a callback for callers that make
// hundreds of thousands of requests a second (a promise per request costs more than the reply).
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Command, JobId, Reply } from '../protocol/types.js';
import { encodeCommand } from '../protocol/encode.js';
import { parseStatsYaml, parseYamlList } from '../protocol/stats-yaml.js';
import { ReplyReader } from './reply-reader.js';
import { timeoutAfterIo } from './timeout.js';

export const DEFAULT_TIMEOUT_MS = 10_000;

export type ConnectOptions = (
  | { host?: string; port: number; path?: undefined }
  /** A UNIX-domain socket (beanstalkd -l unix:PATH). */
  | { path: string; host?: undefined; port?: undefined }
) & {
  /** Connect timeout, and the default timeout of every request. */
  timeoutMs?: number;
};

export interface RequestOptions {
  timeoutMs?: number;
}

export interface Job {
  id: JobId;
  body: Uint8Array;
}

export interface PutOptions {
  pri?: number;
  delaySeconds?: number;
  ttrSeconds?: number;
}

/** The server answered with a reply the convenience method does not expect. */
export class UnexpectedReplyError extends Error {
  override name = 'UnexpectedReplyError';
  constructor(
    readonly command: Command['kind'],
    readonly reply: Reply,
  ) {
    super(`${command}: unexpected reply ${reply.kind}`);
  }
}

/** The connection failed, timed out or was closed while requests were outstanding. */
export class ConnectionError extends Error {
  override name = 'ConnectionError';
}

/**
 * How send() answers: with the reply, whatever it is, or with the error that failed the
 * connection. Always called asynchronously, exactly once. It must not throw: it runs inside the
 * socket's data handler, between the replies of one read.
 */
export type ReplyCallback = (error: Error | null, reply?: Reply) => void;

interface Pending {
  kind: Command['kind'];
  deadlineMs: number;
  done: ReplyCallback;
}

const ANSWERED: Pending = { kind: 'quit', deadlineMs: Infinity, done() {} };

export class Client {
  /** Outstanding requests in send order; `head` skips answered ones without shifting the array. */
  private pending: Pending[] = [];
  private head = 0;
  private outgoing: Buffer[] = [];
  private flushScheduled = false;
  /** performance.now() when this turn's first request was queued: the base of its deadlines. */
  private turnStartMs = 0;
  private readonly flushLater = (): void => this.flush();
  private readonly reader = new ReplyReader();
  /** Cancels the armed reply-deadline timer. */
  private cancelTimer: (() => void) | undefined;
  private timerAtMs = Infinity;
  private failure: Error | undefined;
  private readonly closed: Promise<void>;

  private constructor(
    private readonly socket: net.Socket,
    private readonly defaultTimeoutMs: number,
    readonly address: string,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.fail(new ConnectionError(`${address}: ${error.message}`)));
    socket.on('end', () => this.fail(new ConnectionError(`${address}: server closed the connection`)));
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.once('close', () => this.fail(new ConnectionError(`${address}: connection closed`)));
  }

  static connect(opts: ConnectOptions): Promise<Client> {
    const host = opts.host ?? '127.0.0.1';
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const address = opts.path !== undefined ? `unix:${opts.path}` : `${host}:${opts.port}`;
    return new Promise((resolve, reject) => {
      const socket = opts.path !== undefined ? net.connect({ path: opts.path }) : net.connect({ host, port: opts.port });
      const cancelTimeout = timeoutAfterIo(timeoutMs, () => {
        socket.destroy();
        reject(new ConnectionError(`${address}: no connection after ${timeoutMs} ms`));
      });
      socket.once('error', (error) => {
        cancelTimeout();
        reject(new ConnectionError(`${address}: ${error.message}`));
      });
      socket.once('connect', () => {
        cancelTimeout();
        socket.removeAllListeners('error');
        resolve(new Client(socket, timeoutMs, address));
      });
    });
  }

  /** Requests sent and not yet answered. */
  get outstanding(): number {
    return this.pending.length - this.head;
  }

  /** Sends a command; resolves with its reply, whatever it is. */
  request(cmd: Command, opts: RequestOptions = {}): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => this.send(cmd, (error, reply) => (error ? reject(error) : resolve(reply!)), opts));
  }

  /** request() without a promise: `done` gets the reply, whatever it is, or the connection's error. */
  send(cmd: Command, done: ReplyCallback, opts?: RequestOptions): void {
    if (this.failure) {
      const failure = this.failure;
      process.nextTick(() => done(failure));
      return;
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.turnStartMs = performance.now();
      // After the current burst of synchronous code and promise continuations.
      process.nextTick(this.flushLater);
    }
    // Dated from the start of the turn: at most one turn early, never late.
    const deadlineMs = this.turnStartMs + (opts?.timeoutMs ?? this.defaultTimeoutMs);
    this.pending.push({ kind: cmd.kind, deadlineMs, done });
    this.outgoing.push(encodeCommand(cmd));
    if (deadlineMs < this.timerAtMs) this.armTimer(deadlineMs);
  }

  async put(body: Uint8Array | string, opts: PutOptions = {}): Promise<JobId> {
    const reply = await this.request({
      kind: 'put',
      pri: opts.pri ?? 0,
      delaySeconds: opts.delaySeconds ?? 0,
      ttrSeconds: opts.ttrSeconds ?? 60,
      body: typeof body === 'string' ? Buffer.from(body) : body,
    });
    if (reply.kind === 'INSERTED') return reply.id;
    throw new UnexpectedReplyError('put', reply);
  }

  /** Blocks until a job arrives; the request timeout still applies, so pass a long one. */
  async reserve(opts?: RequestOptions): Promise<Job | 'TIMED_OUT' | 'DEADLINE_SOON'> {
    return jobOrSignal('reserve', await this.request({ kind: 'reserve' }, opts));
  }

  async reserveWithTimeout(timeoutSeconds: number, opts?: RequestOptions): Promise<Job | 'TIMED_OUT' | 'DEADLINE_SOON'> {
    // The server may legitimately take the whole reserve timeout to answer.
    const timeoutMs = opts?.timeoutMs ?? Math.max(0, timeoutSeconds) * 1000 + this.defaultTimeoutMs;
    const reply = await this.request({ kind: 'reserve-with-timeout', timeoutSeconds }, { timeoutMs });
    return jobOrSignal('reserve-with-timeout', reply);
  }

  async reserveJob(id: JobId): Promise<Job | null> {
    return jobOrNull('reserve-job', await this.request({ kind: 'reserve-job', id }), 'RESERVED');
  }

  /** True if deleted, false on NOT_FOUND. */
  async delete(id: JobId): Promise<boolean> {
    return found('delete', await this.request({ kind: 'delete', id }), 'DELETED');
  }

  async release(id: JobId, opts: { pri?: number; delaySeconds?: number } = {}): Promise<boolean> {
    const cmd: Command = { kind: 'release', id, pri: opts.pri ?? 0, delaySeconds: opts.delaySeconds ?? 0 };
    return found('release', await this.request(cmd), 'RELEASED');
  }

  async bury(id: JobId, pri = 0): Promise<boolean> {
    return found('bury', await this.request({ kind: 'bury', id, pri }), 'BURIED');
  }

  async touch(id: JobId): Promise<boolean> {
    return found('touch', await this.request({ kind: 'touch', id }), 'TOUCHED');
  }

  async use(tube: string): Promise<string> {
    const reply = await this.request({ kind: 'use', tube });
    if (reply.kind === 'USING') return reply.tube;
    throw new UnexpectedReplyError('use', reply);
  }

  /** The number of watched tubes. */
  async watch(tube: string): Promise<number> {
    const reply = await this.request({ kind: 'watch', tube });
    if (reply.kind === 'WATCHING') return reply.count;
    throw new UnexpectedReplyError('watch', reply);
  }

  async ignore(tube: string): Promise<number | 'NOT_IGNORED'> {
    const reply = await this.request({ kind: 'ignore', tube });
    if (reply.kind === 'WATCHING') return reply.count;
    if (reply.kind === 'NOT_IGNORED') return 'NOT_IGNORED';
    throw new UnexpectedReplyError('ignore', reply);
  }

  async peek(id: JobId): Promise<Job | null> {
    return jobOrNull('peek', await this.request({ kind: 'peek', id }), 'FOUND');
  }

  async peekReady(): Promise<Job | null> {
    return jobOrNull('peek-ready', await this.request({ kind: 'peek-ready' }), 'FOUND');
  }

  async peekDelayed(): Promise<Job | null> {
    return jobOrNull('peek-delayed', await this.request({ kind: 'peek-delayed' }), 'FOUND');
  }

  async peekBuried(): Promise<Job | null> {
    return jobOrNull('peek-buried', await this.request({ kind: 'peek-buried' }), 'FOUND');
  }

  /** The number of jobs kicked. */
  async kick(bound: number): Promise<number> {
    const reply = await this.request({ kind: 'kick', bound });
    if (reply.kind === 'KICKED' && reply.count !== undefined) return reply.count;
    throw new UnexpectedReplyError('kick', reply);
  }

  async kickJob(id: JobId): Promise<boolean> {
    return found('kick-job', await this.request({ kind: 'kick-job', id }), 'KICKED');
  }

  async statsJob(id: JobId): Promise<Map<string, string> | null> {
    return yamlMap('stats-job', await this.request({ kind: 'stats-job', id }));
  }

  async statsTube(tube: string): Promise<Map<string, string> | null> {
    return yamlMap('stats-tube', await this.request({ kind: 'stats-tube', tube }));
  }

  async stats(): Promise<Map<string, string>> {
    const stats = yamlMap('stats', await this.request({ kind: 'stats' }));
    if (stats) return stats;
    throw new UnexpectedReplyError('stats', { kind: 'NOT_FOUND' });
  }

  async listTubes(): Promise<string[]> {
    return yamlList('list-tubes', await this.request({ kind: 'list-tubes' }));
  }

  async listTubesWatched(): Promise<string[]> {
    return yamlList('list-tubes-watched', await this.request({ kind: 'list-tubes-watched' }));
  }

  async listTubeUsed(): Promise<string> {
    const reply = await this.request({ kind: 'list-tube-used' });
    if (reply.kind === 'USING') return reply.tube;
    throw new UnexpectedReplyError('list-tube-used', reply);
  }

  /** True if paused, false if the tube does not exist. */
  async pauseTube(tube: string, delaySeconds: number): Promise<boolean> {
    return found('pause-tube', await this.request({ kind: 'pause-tube', tube, delaySeconds }), 'PAUSED');
  }

  /** Sends `quit` and waits until the server has closed the connection. */
  async quit(opts: RequestOptions = {}): Promise<void> {
    if (this.failure) return;
    this.outgoing.push(encodeCommand({ kind: 'quit' }));
    this.flush();
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.socket.destroy();
        resolve();
      }, timeoutMs);
    });
    await Promise.race([this.closed, timedOut]);
    clearTimeout(timer);
  }

  /** Closes the connection now; outstanding requests are rejected. */
  async close(): Promise<void> {
    this.fail(new ConnectionError(`${this.address}: client closed the connection`));
    this.socket.destroy();
    await this.closed;
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.outgoing.length === 0 || this.failure) return;
    const bytes = this.outgoing.length === 1 ? this.outgoing[0] : Buffer.concat(this.outgoing);
    this.outgoing = [];
    this.socket.write(bytes);
  }

  private onData(chunk: Buffer): void {
    this.reader.push(chunk);
    for (;;) {
      let reply: Reply | undefined;
      try {
        reply = this.reader.next();
      } catch (error) {
        // An unparseable reply desynchronises every later match.
        return this.desynchronised(`${this.address}: ${String(error)}`);
      }
      if (reply === undefined || this.failure) break;
      const request = this.pending[this.head];
      if (request === undefined) return this.desynchronised(`${this.address}: reply ${reply.kind} with no request outstanding`);
      // Clear the slot so the request's callback is not kept alive until compaction.
      this.pending[this.head++] = ANSWERED;
      request.done(null, reply);
    }
    this.compact();
  }

  private desynchronised(message: string): void {
    this.fail(new ConnectionError(message));
    this.socket.destroy();
  }

  /** Drops answered entries once they dominate the array, keeping pushes amortised O(1). */
  private compact(): void {
    if (this.head === this.pending.length) {
      this.pending = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.head);
      this.head = 0;
    }
  }

  private armTimer(atMs: number): void {
    this.cancelTimer?.();
    this.timerAtMs = atMs;
    // After the turn's I/O: replies that arrived while the loop was blocked are read before the sweep.
    this.cancelTimer = timeoutAfterIo(Math.max(0, Math.ceil(atMs - performance.now())), () => this.sweep());
  }

  /** Fails the connection if any request is past its deadline, else re-arms for the earliest. */
  private sweep(): void {
    this.cancelTimer = undefined;
    this.timerAtMs = Infinity;
    const nowMs = performance.now();
    let earliestMs = Infinity;
    for (let i = this.head; i < this.pending.length; i++) {
      const request = this.pending[i];
      if (request.deadlineMs <= nowMs) {
        // Later replies could no longer be matched to their requests, so the connection goes.
        this.fail(
          new ConnectionError(
            `${this.address}: no reply to ${request.kind} within its timeout` +
              ` (${this.outstanding} requests outstanding); connection closed`,
          ),
        );
        this.socket.destroy();
        return;
      }
      earliestMs = Math.min(earliestMs, request.deadlineMs);
    }
    if (earliestMs < Infinity) this.armTimer(earliestMs);
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    const pending = this.pending;
    const head = this.head;
    this.pending = [];
    this.head = 0;
    this.outgoing = [];
    // Later, as a rejected promise would: close() and send() callers never see a callback run inside their call.
    process.nextTick(() => {
      for (let i = head; i < pending.length; i++) pending[i].done(error);
    });
  }
}

function jobOrSignal(command: Command['kind'], reply: Reply): Job | 'TIMED_OUT' | 'DEADLINE_SOON' {
  if (reply.kind === 'RESERVED') return { id: reply.id, body: reply.body };
  if (reply.kind === 'TIMED_OUT' || reply.kind === 'DEADLINE_SOON') return reply.kind;
  throw new UnexpectedReplyError(command, reply);
}

function jobOrNull(command: Command['kind'], reply: Reply, success: 'RESERVED' | 'FOUND'): Job | null {
  if (reply.kind === success) return { id: reply.id, body: reply.body };
  if (reply.kind === 'NOT_FOUND') return null;
  throw new UnexpectedReplyError(command, reply);
}

function found(command: Command['kind'], reply: Reply, success: Reply['kind']): boolean {
  if (reply.kind === success) return true;
  if (reply.kind === 'NOT_FOUND') return false;
  throw new UnexpectedReplyError(command, reply);
}

function yamlMap(command: Command['kind'], reply: Reply): Map<string, string> | null {
  if (reply.kind === 'OK') return parseStatsYaml(text(reply.body));
  if (reply.kind === 'NOT_FOUND') return null;
  throw new UnexpectedReplyError(command, reply);
}

function yamlList(command: Command['kind'], reply: Reply): string[] {
  if (reply.kind === 'OK') return parseYamlList(text(reply.body));
  throw new UnexpectedReplyError(command, reply);
}

function text(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}
