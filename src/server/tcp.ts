// The embedded server: the Engine behind a loopback TCP listener and the real monotonic clock.
import net from 'node:net';
import type { ConnId, ReferenceModel, ServerInfo } from '../model/api.js';
import { createModel } from '../model/index.js';
import type { Profile } from '../protocol/types.js';
import { Engine, type EngineSink } from './engine.js';
import { monotonicNowUs } from './clock.js';
import { processServerInfo } from './server-info.js';

/** Stop reading a socket whose unsent replies exceed this: a client that never reads its
 * replies must not grow the server's memory without bound. */
export const OUTPUT_HIGH_WATER_BYTES = 1024 * 1024;
/** Stop reading a socket once this much input is held behind a blocking reserve. */
export const HELD_INPUT_LIMIT_BYTES = 1024 * 1024;
/** setTimeout's largest delay; a later deadline just re-arms when this fires. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

export interface ServerOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  profile?: Profile;
  maxJobSize?: number;
  info?: Partial<ServerInfo>;
  /** The fault-injection seam: wrap the model or the sink before the engine sees them. */
  intercept?: {
    model?(model: ReferenceModel): ReferenceModel;
    sink?(sink: EngineSink): EngineSink;
  };
  /** A connection's input made the model or parser throw; that connection was closed. */
  onInternalError?(error: unknown): void;
}

export interface ConnectionInfo {
  conn: ConnId;
  bytesRead: number;
  /** Reply bytes accepted by the socket but not yet handed to the kernel. */
  unsentBytes: number;
  readingPaused: boolean;
}

export interface RunningServer {
  host: string;
  port: number;
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
  pausedForOutput: boolean;
  pausedForInput: boolean;
}

export async function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const intercept = opts.intercept ?? {};
  const peers = new Map<ConnId, Peer>();
  /** Peers paused because input is held behind a reserve; re-checked after every event. */
  const heldPaused = new Set<ConnId>();
  let readPauses = 0;

  const baseModel = createModel({
    profile: opts.profile,
    maxJobSize: opts.maxJobSize,
    startUs: monotonicNowUs(),
    info: processServerInfo(opts.info),
  });
  const model = intercept.model ? intercept.model(baseModel) : baseModel;

  const socketSink: EngineSink = {
    write(conn, bytes) {
      const peer = peers.get(conn);
      if (!peer || peer.socket.destroyed) return;
      peer.socket.write(bytes);
      if (!peer.pausedForOutput && peer.socket.writableLength > OUTPUT_HIGH_WATER_BYTES) {
        peer.pausedForOutput = true;
        pauseReading(peer);
      }
    },
    close(conn) {
      const peer = peers.get(conn);
      if (!peer) return;
      peers.delete(conn);
      heldPaused.delete(conn);
      // Close the descriptor once the replies are flushed, as beanstalkd does, rather than
      // waiting for the peer's FIN.
      peer.socket.end(() => peer.socket.destroy());
    },
  };
  const sink = intercept.sink ? intercept.sink(socketSink) : socketSink;
  const engine = new Engine(model, sink, {
    onInternalError: (_conn, error) => opts.onInternalError?.(error),
  });

  function pauseReading(peer: Peer): void {
    readPauses += 1;
    peer.socket.pause();
  }

  function maybeResume(peer: Peer): void {
    if (!peer.pausedForOutput && !peer.pausedForInput && !peer.socket.destroyed) peer.socket.resume();
  }

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

  /** Runs one engine event, then re-arms the timer and re-checks held-input pauses. */
  function guarded(event: () => void): void {
    try {
      event();
    } catch (error) {
      // The engine confines per-connection failures itself; this is a model-wide one (tick).
      opts.onInternalError?.(error);
    }
    armTimer();
    for (const conn of heldPaused) {
      const peer = peers.get(conn);
      if (peer && engine.heldInputBytes(conn) < HELD_INPUT_LIMIT_BYTES) {
        heldPaused.delete(conn);
        peer.pausedForInput = false;
        maybeResume(peer);
      }
    }
  }

  function onConnection(socket: net.Socket): void {
    socket.setNoDelay(true);
    const peer: Peer = { socket, pausedForOutput: false, pausedForInput: false };
    let conn: ConnId | undefined;
    guarded(() => {
      conn = engine.open(monotonicNowUs());
      peers.set(conn, peer);
    });
    if (conn === undefined) {
      socket.destroy();
      return;
    }
    const id = conn;
    socket.on('data', (chunk: Buffer) => {
      guarded(() => engine.receive(id, chunk, monotonicNowUs()));
      if (!peer.pausedForInput && engine.heldInputBytes(id) >= HELD_INPUT_LIMIT_BYTES) {
        peer.pausedForInput = true;
        heldPaused.add(id);
        pauseReading(peer);
      }
    });
    socket.on('drain', () => {
      if (!peer.pausedForOutput) return;
      peer.pausedForOutput = false;
      maybeResume(peer);
    });
    socket.on('end', () => guarded(() => engine.hangup(id, monotonicNowUs())));
    socket.on('close', () => {
      peers.delete(id);
      heldPaused.delete(id);
      guarded(() => engine.close(id, monotonicNowUs()));
    });
    // A reset or write error ends in 'close', which does the cleanup.
    socket.on('error', () => {});
  }

  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as net.AddressInfo;

  return {
    host,
    port: address.port,
    connections: () =>
      [...peers].map(([conn, peer]) => ({
        conn,
        bytesRead: peer.socket.bytesRead,
        unsentBytes: peer.socket.writableLength,
        readingPaused: peer.socket.isPaused(),
      })),
    readPauseCount: () => readPauses,
    enterDrainMode: () => model.enterDrainMode(),
    close: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const peer of peers.values()) peer.socket.destroy();
      await closed;
    },
  };
}
