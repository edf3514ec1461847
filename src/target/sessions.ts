// What the corpus runner points at. A TargetFactory gives one Session per case: a fresh server
// (virtual, embedded, spawned) or the same shared server (host:port). The runner sees only
// Session and RawConnection, so a case runs the same way on every kind of target.
import type { Profile } from '../protocol/types.js';
import { formatAddress, LOOPBACK, type Address } from './address.js';
import type { RawConnection } from './connection.js';
import { spawnBeanstalkd, spawnServer, type SpawnedServer } from './spawn.js';
import { TcpConnection } from './tcp-connection.js';

export interface ServerSettings {
  profile: Profile;
  maxJobSize?: number;
}

export interface Session {
  /** False for the virtual clock: replies are already there, sleeping costs nothing. */
  readonly realTime: boolean;
  connect(): Promise<RawConnection>;
  /** Lets time pass on the server's clock. */
  sleep(durationMs: number): Promise<void>;
  /** SIGUSR1 (drain mode); only when the factory's canSignal is true. */
  signalDrain(): Promise<void>;
  /** Timing hazards the virtual clock noticed (see virtual.ts); always empty in real time. */
  timingHazards(): readonly string[];
  /** Closes every connection and stops the server if this session started it. */
  close(): Promise<void>;
}

export interface TargetFactory {
  /** For reports: "virtual 1.12", "embedded", "beanstalkd", "127.0.0.1:11300". */
  readonly label: string;
  /** Each session is a server nobody else used (ids from 1, clean stats). */
  readonly freshPerCase: boolean;
  readonly canSignal: boolean;
  /** Whether `maxJobSize` other than the default can be honoured. */
  readonly canConfigure: boolean;
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
}

/** Connections over TCP to one server. */
export class TcpSession implements Session {
  readonly realTime = true;
  private readonly conns: RawConnection[] = [];

  constructor(
    private readonly address: Address,
    private readonly control: ServerControl = {},
  ) {}

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

  async close(): Promise<void> {
    this.conns.forEach((c) => c.close());
    await this.control.stop?.();
  }
}

/** A real beanstalkd spawned per session on a free loopback port. */
export function beanstalkdTarget(binary?: string): TargetFactory {
  return {
    label: 'beanstalkd',
    freshPerCase: true,
    canSignal: true,
    canConfigure: true,
    open: async (settings) => spawnedSession(await spawnBeanstalkd({ binary, maxJobSize: settings.maxJobSize })),
  };
}

/** Any server started by a command with a {port} placeholder, one per session. */
export function spawnTarget(commandTemplate: string): TargetFactory {
  return {
    label: commandTemplate,
    freshPerCase: true,
    canSignal: true,
    // The command is the user's; beanlab cannot know how to pass a job size limit to it.
    canConfigure: false,
    open: async () => spawnedSession(await spawnServer(commandTemplate)),
  };
}

function spawnedSession(server: SpawnedServer): Session {
  return new TcpSession(server, {
    stop: () => server.stop(),
    drain: async () => {
      process.kill(server.pid, 'SIGUSR1');
      await new Promise((resolve) => setTimeout(resolve, SIGNAL_SETTLE_MS));
    },
  });
}

/** A server someone else runs: every session shares it, nothing is started or stopped. */
export function addressTarget(address: Address): TargetFactory {
  return {
    label: formatAddress(address),
    freshPerCase: false,
    canSignal: false,
    canConfigure: false,
    open: async () => new TcpSession(address),
  };
}
