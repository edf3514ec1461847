// What the corpus runner points at. A TargetFactory gives one Session per case: a fresh server
// (virtual, embedded, spawned) or the same shared server (host:port). The runner sees only
// Session and RawConnection, so a case runs the same way on every kind of target.
import type { Profile } from '../protocol/types.js';
import { formatAddress, type Address } from './address.js';
import type { RawConnection } from './connection.js';
import { MAX_JOB_SIZE_PLACEHOLDER, spawnBeanstalkd, spawnServer, type ServerExit, type SpawnedServer } from './spawn.js';
import { TcpConnection } from './tcp-connection.js';
import { makeBinlogDir, removeBinlogDir } from './temp-dir.js';

export interface ServerSettings {
  profile: Profile;
  maxJobSize?: number;
  /** Run with a binlog directory (beanstalkd -b), so that restart() keeps the jobs. */
  binlog?: boolean;
}

export interface Session {
  /** False for the virtual clock: replies are already there, sleeping costs nothing. */
  readonly realTime: boolean;
  /**
   * The server keeps a binlog (beanstalkd -b): `stats-job` reports the binlog file holding the
   * job (from 1) where a server without one reports `file: 0` (semantics b.7). Undefined: none.
   */
  readonly binlog?: boolean;
  connect(): Promise<RawConnection>;
  /** Lets time pass on the server's clock. */
  sleep(durationMs: number): Promise<void>;
  /** SIGUSR1 (drain mode); only when the factory's canSignal is true. */
  signalDrain(): Promise<void>;
  /** Timing hazards the virtual clock noticed (see virtual.ts); always empty in real time. */
  timingHazards(): readonly string[];
  /**
   * Stops the server as an init system would (SIGTERM) and starts it again on the same binlog;
   * every connection is closed. Only on sessions opened with `binlog` by a factory that canPersist.
   */
  restart?(): Promise<void>;
  /** Closes every connection and stops the server if this session started it. */
  close(): Promise<void>;
  /** How the server ended, if it did on its own (a server this session started; see SpawnedServer.exit). */
  serverExit?(): Promise<ServerExit | undefined>;
}

export interface TargetFactory {
  /** For reports: "virtual 1.12", "embedded", "beanstalkd", "127.0.0.1:11300". */
  readonly label: string;
  /** Each session is a server nobody else used (ids from 1, clean stats). */
  readonly freshPerCase: boolean;
  readonly canSignal: boolean;
  /** Whether `maxJobSize` other than the default can be honoured. */
  readonly canConfigure: boolean;
  /** Whether sessions can run with a binlog and be restarted on it (`binlog` settings). */
  readonly canPersist?: boolean;
  /** Every session runs with a binlog (a --spawn command with {binlog}), asked for or not. */
  readonly binlogAlways?: boolean;
  /**
   * Connections may pass through a proxy (a container's published port, a forwarder): a
   * client's close then reaches the server as a half-close, after which it goes on answering.
   */
  readonly mayBeProxied?: boolean;
  open(settings: ServerSettings): Promise<Session>;
}

const CONNECT_TIMEOUT_MS = 2000;
/** Signal delivery is asynchronous; give the server a moment before the next command. */
const SIGNAL_SETTLE_MS = 100;

/** What a TcpSession may do to the server besides talking to it. */
export interface ServerControl {
  /** Stops the server when the session closes (sessions that started it). */
  stop?(): Promise<void>;
  /** Drain mode, as beanstalkd's SIGUSR1. */
  drain?(): Promise<void>;
  /** Stops the server and starts it again on the same binlog; resolves with where it now listens. */
  restart?(): Promise<Address>;
  /** The server keeps a binlog (see Session.binlog). */
  binlog?: boolean;
  /** How the server ended on its own, if it did. */
  exit?(): Promise<ServerExit | undefined>;
}

/** Connections over TCP (or a UNIX-domain socket) to one server. */
export class TcpSession implements Session {
  readonly realTime = true;
  readonly binlog: boolean;
  private conns: RawConnection[] = [];

  constructor(
    private address: Address,
    private readonly control: ServerControl = {},
  ) {
    this.binlog = Boolean(control.binlog);
  }

  async restart(): Promise<void> {
    if (!this.control.restart) throw new Error('this target cannot be restarted');
    this.conns.forEach((c) => c.close());
    this.conns = [];
    this.address = await this.control.restart();
  }

  async connect(): Promise<RawConnection> {
    const conn = await TcpConnection.connect(this.address, CONNECT_TIMEOUT_MS);
    this.conns.push(conn);
    return conn;
  }

  sleep(durationMs: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, durationMs));
  }

  async signalDrain(): Promise<void> {
    if (!this.control.drain) throw new Error('this target cannot be put in drain mode');
    await this.control.drain();
  }

  timingHazards(): readonly string[] {
    return [];
  }

  async serverExit(): Promise<ServerExit | undefined> {
    return this.control.exit?.();
  }

  async close(): Promise<void> {
    this.conns.forEach((c) => c.close());
    await this.control.stop?.();
  }
}

/** A real beanstalkd spawned per session on a free loopback port; with `binlog`, on a fresh -b directory. */
export function beanstalkdTarget(binary?: string): TargetFactory {
  return {
    label: 'beanstalkd',
    freshPerCase: true,
    canSignal: true,
    canConfigure: true,
    canPersist: true,
    open: async (settings) => {
      if (!settings.binlog) return spawnedSession(await spawnBeanstalkd({ binary, maxJobSize: settings.maxJobSize }));
      return binlogSession((dir) => spawnBeanstalkd({ binary, maxJobSize: settings.maxJobSize, extraArgs: ['-b', dir] }), drainSpawned);
    },
  };
}

/**
 * Any server started by a command with a {port} (or {socket}) placeholder, one per session. A
 * {binlog} placeholder gets a fresh directory per session, which makes the binlog cases runnable:
 * their `restart` stops the server and starts the same command again on that directory. A
 * {max_job_size} placeholder (beanstalkd -z) takes the limit a case asks for (default 65535), so
 * the cases that need a small one run too.
 */
export function spawnTarget(commandTemplate: string): TargetFactory {
  const persists = commandTemplate.includes('{binlog}');
  return {
    label: commandTemplate,
    freshPerCase: true,
    canSignal: true,
    // Without the placeholder the command is the user's: beanlab cannot know how to pass a limit.
    canConfigure: commandTemplate.includes(MAX_JOB_SIZE_PLACEHOLDER),
    canPersist: persists,
    binlogAlways: persists,
    open: async (settings) => {
      const maxJobSize = settings.maxJobSize;
      if (!persists) return spawnedSession(await spawnServer(commandTemplate, { maxJobSize }));
      return binlogSession((dir) => spawnServer(commandTemplate, { binlogDir: dir, maxJobSize }), drainSpawned);
    },
  };
}

/**
 * A session on a server started on a fresh binlog directory: `restart` stops it and starts it
 * again on the same directory, and the end of the session removes the directory. Every target
 * that canPersist (spawned beanstalkd, a {binlog} command, the embedded server) opens these.
 */
export async function binlogSession<S extends Address & { stop(): Promise<void>; exit?(): Promise<ServerExit | undefined> }>(
  start: (binlogDir: string) => Promise<S>,
  drain: (server: S) => Promise<void>,
): Promise<Session> {
  const dir = makeBinlogDir();
  let server = await start(dir).catch((error: unknown) => {
    removeBinlogDir(dir);
    throw error;
  });
  return new TcpSession(server, {
    binlog: true,
    stop: async () => {
      await server.stop();
      removeBinlogDir(dir);
    },
    drain: () => drain(server),
    exit: async () => server.exit?.(),
    restart: async () => {
      await server.stop();
      server = await start(dir);
      return server;
    },
  });
}

function spawnedSession(server: SpawnedServer): Session {
  return new TcpSession(server, { stop: () => server.stop(), drain: () => drainSpawned(server), exit: () => server.exit() });
}

/** beanstalkd's SIGUSR1, to a server beanlab started. */
async function drainSpawned(server: SpawnedServer): Promise<void> {
  process.kill(server.pid, 'SIGUSR1');
  await new Promise((resolve) => setTimeout(resolve, SIGNAL_SETTLE_MS));
}

/**
 * A server someone else runs: every session shares it, nothing is started or stopped. `binlog`:
 * it runs with one (its `stats` said so), which cases that check a server without one must know.
 */
export function addressTarget(address: Address, opts: { binlog?: boolean } = {}): TargetFactory {
  return {
    label: formatAddress(address),
    freshPerCase: false,
    canSignal: false,
    canConfigure: false,
    binlogAlways: Boolean(opts.binlog),
    // beanlab did not start it, so it cannot know what is between them.
    mayBeProxied: true,
    open: async () => new TcpSession(address, { binlog: opts.binlog }),
  };
}
