// The embedded server: the Engine behind a loopback TCP listener (or a UNIX-domain socket) and
// the real monotonic clock.
import { lstatSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import type { ConnId, ReferenceModel, ServerInfo } from '../model/api.js';
import { createModel } from '../model/index.js';
import type { Profile } from '../protocol/types.js';
import { openBinlog } from './binlog.js';
import { smallBodiesAsStrings } from './body-packing.js';
import { Engine, type EngineSink } from './engine.js';
import { monotonicNowUs } from './clock.js';
import { processServerInfo } from './server-info.js';

/**
 * Commands one connection may have applied in one go; then the others get their turn first
 * (setImmediate). 64 KiB of pipelined one-line commands is about 9,000 of them: without a turn
 * limit one such chunk would hold every other client up for milliseconds.
 */
export const COMMANDS_PER_TURN = 256;
/** setTimeout's largest delay; a later deadline just re-arms when this fires. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;
/** How long a leftover socket file gets to answer before it counts as stale. */
const STALE_PROBE_TIMEOUT_MS = 500;

export interface ServerOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Listen on this UNIX-domain socket instead of TCP, as beanstalkd -l unix:PATH does. */
  path?: string;
  profile?: Profile;
  maxJobSize?: number;
  info?: Partial<ServerInfo>;
  /** The fault-injection seam: wrap the model or the sink before the engine sees them. */
  intercept?: {
    model?(model: ReferenceModel): ReferenceModel;
    sink?(sink: EngineSink): EngineSink;
  };
  /**
   * Keep jobs in this directory across restarts, as beanstalkd -b does (semantics b.7): the
   * jobs there are restored first, then put, delete, bury, kick and delayed releases are written.
   * Throws BinlogLockedError when another server uses the directory.
   */
  binlog?: {
    dir: string;
    onWarning?(message: string): void;
    /** Start past damaged records (reported through onWarning) instead of refusing to. */
    skipCorrupt?: boolean;
    /** Segment size; the binlog's default otherwise. */
    segmentBytes?: number;
  };
  /** A connection's input made the model or parser throw; that connection was closed. */
  onInternalError?(error: unknown): void;
  /**
   * Called once the server has been idle (no socket event, no timer) for `afterMs` after being
   * busy: `beanlab serve` collects garbage there, so what a burst of traffic left behind is
   * returned while nothing else needs the CPU, rather than whenever the next burst forces it.
   */
  whenIdle?: { afterMs: number; run(): void };
}

export interface ConnectionInfo {
  conn: ConnId;
  bytesRead: number;
  /** Reply bytes accepted by the socket but not yet handed to the kernel. */
  unsentBytes: number;
  readingPaused: boolean;
  /** Input received and not applied yet (behind a reserve, or read after reading stopped). */
  heldBytes: number;
}

/** Where the server listens; the same shape as target's Address (server may not import target). */
export type TcpListenAddress = { host: string; port: number; path?: undefined };
export type UnixListenAddress = { path: string; host?: undefined; port?: undefined };
export type ListenAddress = TcpListenAddress | UnixListenAddress;

export type RunningServer = ListenAddress & ServerHandle;

interface ServerHandle {
  close(): Promise<void>;
  /** A snapshot of every open connection, for tests and diagnostics. */
  connections(): ConnectionInfo[];
  /** How many times a socket's reading was paused for backpressure since start. */
  readPauseCount(): number;
  /** What beanstalkd does on SIGUSR1: every later put answers DRAINING. */
  enterDrainMode(): void;
}

interface Peer {
  socket: net.Socket;
  /** The peer sent FIN: each reply must be taken by the kernel before the next command runs. */
  ended: boolean;
  /** The engine was told the output is unsent; onWritten resumes it. */
  awaitingWrite: boolean;
  /** The callback of every write on this socket (one closure per connection, not per write). */
  onWritten: (error?: Error | null) => void;
}

export async function startServer(opts: ServerOptions & { path: string }): Promise<UnixListenAddress & ServerHandle>;
export async function startServer(opts?: ServerOptions & { path?: undefined }): Promise<TcpListenAddress & ServerHandle>;
export async function startServer(opts?: ServerOptions): Promise<RunningServer>;
export async function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const intercept = opts.intercept ?? {};
  const peers = new Map<ConnId, Peer>();
  let readPauses = 0;

  const baseModel = createModel({
    profile: opts.profile,
    maxJobSize: opts.maxJobSize,
    startUs: monotonicNowUs(),
    info: processServerInfo(opts.info),
    bodyPacking: smallBodiesAsStrings,
  });
  // The journal sits next to the model, inside any fault wrapper, so it records what the model did.
  const binlog = opts.binlog
    ? openBinlog(baseModel, { ...opts.binlog, nowUs: monotonicNowUs(), wallNowUs: Date.now() * 1000 })
    : undefined;
  const served = binlog?.model ?? baseModel;
  const model = intercept.model ? intercept.model(served) : served;

  const socketSink: EngineSink = {
    write(conn, bytes) {
      const peer = peers.get(conn);
      if (!peer || peer.socket.destroyed) return;
      peer.socket.write(bytes, peer.onWritten);
      return afterWrite(peer);
    },
    writev(conn, chunks) {
      const peer = peers.get(conn);
      if (!peer || peer.socket.destroyed) return;
      // Corked, the chunks leave in one writev(2); the last one's callback covers them all.
      peer.socket.cork();
      const last = chunks.length - 1;
      for (let i = 0; i < last; i++) peer.socket.write(chunks[i]);
      peer.socket.write(chunks[last], peer.onWritten);
      peer.socket.uncork();
      return afterWrite(peer);
    },
    close(conn) {
      const peer = peers.get(conn);
      if (!peer) return;
      peers.delete(conn);
      // Close the descriptor once the replies are flushed, as beanstalkd does, rather than
      // waiting for the peer's FIN.
      peer.socket.end(() => peer.socket.destroy());
    },
  };
  /**
   * Like beanstalkd, apply no more of a connection's commands while a reply is unsent; after a
   * FIN, not before the kernel took it (a write to a closed peer then fails, and the commands
   * after it are never run).
   */
  function afterWrite(peer: Peer): boolean {
    if (peer.ended || peer.socket.writableLength > 0) {
      peer.awaitingWrite = true;
      return false;
    }
    return true;
  }
  const sink = intercept.sink ? intercept.sink(socketSink) : socketSink;
  const engine = new Engine(model, sink, {
    onInternalError: (_conn, error) => opts.onInternalError?.(error),
    clock: monotonicNowUs,
    commandsPerTurn: COMMANDS_PER_TURN,
    onYield: (conn) => setImmediate(() => guarded(() => engine.resume(conn, monotonicNowUs()))),
    onReadingChange: (conn, reading) => {
      const peer = peers.get(conn);
      if (!peer || peer.socket.destroyed) return;
      if (reading) {
        peer.socket.resume();
      } else {
        readPauses += 1;
        peer.socket.pause();
      }
    },
  });

  // One timer, armed for the model's earliest deadline. It is only re-armed when a deadline
  // earlier than the armed one appears; a timer that fires early (its deadline went away)
  // just ticks harmlessly and re-arms, which saves a clearTimeout per command.
  let timer: NodeJS.Timeout | undefined;
  let armedForUs: number | undefined;
  let stopped = false;
  function armTimer(): void {
    if (stopped) return;
    const deadlineUs = engine.nextDeadline();
    if (deadlineUs === undefined) return;
    if (armedForUs !== undefined && armedForUs <= deadlineUs) return;
    if (timer) clearTimeout(timer);
    armedForUs = deadlineUs;
    const delayMs = Math.ceil((deadlineUs - monotonicNowUs()) / 1000);
    timer = setTimeout(onTimer, Math.min(MAX_TIMER_DELAY_MS, Math.max(0, delayMs)));
    timer.unref();
  }
  function onTimer(): void {
    timer = undefined;
    armedForUs = undefined;
    guarded(() => engine.tick(monotonicNowUs()));
  }

  // The idle timer restarts with every event; it fires once after a quiet spell. The start
  // counts as busy: replaying a binlog leaves its segments' bytes behind.
  let busySinceIdle = true;
  const idleTimer = opts.whenIdle
    ? setTimeout(function onIdle() {
        if (!busySinceIdle || stopped) return;
        busySinceIdle = false;
        opts.whenIdle!.run();
      }, opts.whenIdle.afterMs).unref()
    : undefined;

  /** Runs one engine event, then re-arms the timer. */
  function guarded(event: () => void): void {
    try {
      event();
    } catch (error) {
      // The engine confines per-connection failures itself; this is a model-wide one (tick).
      opts.onInternalError?.(error);
    }
    armTimer();
    if (idleTimer) {
      busySinceIdle = true;
      idleTimer.refresh();
    }
  }

  function onConnection(socket: net.Socket): void {
    socket.setNoDelay(true);
    let conn: ConnId | undefined;
    guarded(() => {
      conn = engine.open(monotonicNowUs());
    });
    if (conn === undefined) {
      socket.destroy();
      return;
    }
    const id = conn;
    const peer: Peer = {
      socket,
      ended: false,
      awaitingWrite: false,
      onWritten: (error) => {
        // A failed write destroys the socket; its 'close' retires the connection.
        if (error || !peer.awaitingWrite || socket.writableLength > 0) return;
        peer.awaitingWrite = false;
        guarded(() => engine.resume(id, monotonicNowUs()));
      },
    };
    peers.set(id, peer);
    socket.on('data', (chunk: Buffer) => guarded(() => engine.receive(id, chunk, monotonicNowUs())));
    socket.on('end', () => {
      peer.ended = true;
      guarded(() => engine.hangup(id, monotonicNowUs()));
    });
    socket.on('close', () => {
      peers.delete(id);
      guarded(() => engine.close(id, monotonicNowUs()));
    });
    // A reset or write error ends in 'close', which does the cleanup.
    socket.on('error', () => {});
  }

  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, onConnection);
  try {
    if (opts.path !== undefined) await clearStaleSocket(opts.path);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const listening = () => {
        server.off('error', reject);
        resolve();
      };
      if (opts.path !== undefined) server.listen(opts.path, listening);
      else server.listen(opts.port ?? 0, host, listening);
    });
  } catch (error) {
    binlog?.close(); // the directory must not stay locked by a server that never started
    throw error;
  }
  const address: ListenAddress = opts.path !== undefined ? { path: opts.path } : { host, port: (server.address() as net.AddressInfo).port };

  return {
    ...address,
    connections: () =>
      [...peers].map(([conn, peer]) => ({
        conn,
        bytesRead: peer.socket.bytesRead,
        unsentBytes: peer.socket.writableLength,
        readingPaused: peer.socket.isPaused(),
        heldBytes: engine.heldInputBytes(conn),
      })),
    readPauseCount: () => readPauses,
    enterDrainMode: () => model.enterDrainMode(),
    close: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (idleTimer) clearTimeout(idleTimer);
      timer = undefined;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const peer of peers.values()) peer.socket.destroy();
      await closed;
      binlog?.close();
    },
  };
}

/**
 * Like beanstalkd (testserv.c unix_auto_removal), a socket file left by a server that is gone is
 * replaced. Unlike it, one a live server still answers on is refused rather than taken over,
 * and any other kind of file is refused, as beanstalkd does ("another file already exists").
 */
async function clearStaleSocket(path: string): Promise<void> {
  let stat;
  try {
    stat = lstatSync(path);
  } catch {
    return; // nothing there
  }
  if (!stat.isSocket()) throw Object.assign(new Error(`another file already exists at ${path}`), { code: 'EEXIST' });
  if (await answers(path)) throw Object.assign(new Error(`a server is listening on ${path}`), { code: 'EADDRINUSE' });
  unlinkSync(path);
}

/** Whether something accepts a connection on the socket (a stale file refuses at once). */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ path });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), STALE_PROBE_TIMEOUT_MS);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
