// The model behind the Engine, driven by a VIRTUAL clock: sending is processed at once and
// sleeping advances time and fires every due event in order. Replies are there without any
// waiting, so a corpus case that expects a timed reply must sleep past its deadline, and the
// same case then holds on a real server too.
import type { ConnId, ReferenceModel } from '../model/api.js';
import { createModel } from '../model/index.js';
import type { Profile } from '../protocol/types.js';
import { Engine } from '../server/engine.js';
import { QueuedConnection, type RawConnection } from './connection.js';
import type { ServerSettings, Session, TargetFactory } from './sessions.js';

/** Observations closer than this to a timed event are timing hazards (semantics h.5). */
export const TIMING_MARGIN_US = 250_000;
/** A model whose deadline never moves forward must not hang a sleep. */
const MAX_TICKS_PER_SLEEP = 100_000;

export interface VirtualServerOptions {
  profile: Profile;
  maxJobSize?: number;
}

export class VirtualServer {
  readonly model: ReferenceModel;
  private readonly engine: Engine;
  private readonly conns = new Map<ConnId, VirtualConnection>();
  private nowUs = 0;
  private readonly hazards: string[] = [];

  constructor(options: VirtualServerOptions) {
    this.model = createModel({ profile: options.profile, maxJobSize: options.maxJobSize, startUs: 0 });
    this.engine = new Engine(this.model, {
      write: (conn, bytes) => this.conns.get(conn)?.fromServer(bytes),
      close: (conn) => this.conns.get(conn)?.closedByServer(),
    });
  }

  get virtualNowUs(): number {
    return this.nowUs;
  }

  connect(): VirtualConnection {
    const id = this.engine.open(this.nowUs);
    const conn = new VirtualConnection(id, this.engine, () => this.nowUs);
    this.conns.set(id, conn);
    return conn;
  }

  /**
   * Advances virtual time by `durationUs`, firing each due event at its own instant. Records a
   * timing hazard when an event fires, or is due, within TIMING_MARGIN_US of the end: that is
   * where the next observation happens, and a real server's few ms of jitter could flip it.
   */
  sleep(durationUs: number): void {
    const startUs = this.nowUs;
    const endUs = startUs + durationUs;
    for (let ticks = 0; ; ticks++) {
      const due = this.engine.nextDeadline();
      if (due === undefined || due > endUs) break;
      if (ticks >= MAX_TICKS_PER_SLEEP) throw new Error(`model deadline stuck at ${due} us`);
      if (due > startUs && endUs - due < TIMING_MARGIN_US) {
        this.hazards.push(`an event fired at ${seconds(due)}, only ${ms(endUs - due)} before the observation at ${seconds(endUs)}`);
      }
      this.nowUs = Math.max(this.nowUs, due);
      this.engine.tick(this.nowUs);
    }
    this.nowUs = endUs;
    const next = this.engine.nextDeadline();
    if (durationUs > 0 && next !== undefined && next > endUs && next - endUs < TIMING_MARGIN_US) {
      this.hazards.push(`an event is due at ${seconds(next)}, only ${ms(next - endUs)} after the observation at ${seconds(endUs)}`);
    }
  }

  /** Timing hazards seen so far (see sleep). */
  timingHazards(): readonly string[] {
    return this.hazards;
  }

  enterDrainMode(): void {
    this.model.enterDrainMode();
  }
}

export class VirtualConnection extends QueuedConnection {
  /** After a half-close or close the client can send nothing more, as with a socket. */
  private sendClosed = false;

  constructor(
    readonly id: ConnId,
    private readonly engine: Engine,
    private readonly now: () => number,
  ) {
    super();
  }

  send(bytes: Uint8Array): void {
    if (!this.sendClosed) this.engine.receive(this.id, bytes, this.now());
  }

  halfClose(): void {
    this.sendClosed = true;
    this.engine.hangup(this.id, this.now());
  }

  close(): void {
    this.sendClosed = true;
    this.engine.close(this.id, this.now());
  }

  fromServer(bytes: Uint8Array): void {
    this.received(bytes);
  }

  closedByServer(): void {
    this.serverClosed();
  }
}

function seconds(us: number): string {
  return `t=${(us / 1e6).toFixed(3)}s`;
}

function ms(us: number): string {
  return `${Math.round(us / 1000)} ms`;
}

class VirtualSession implements Session {
  readonly realTime = false;
  private readonly server: VirtualServer;
  private readonly conns: RawConnection[] = [];

  constructor(settings: ServerSettings) {
    this.server = new VirtualServer(settings);
  }

  async connect(): Promise<RawConnection> {
    const conn = this.server.connect();
    this.conns.push(conn);
    return conn;
  }

  async sleep(durationMs: number): Promise<void> {
    this.server.sleep(Math.round(durationMs * 1000));
  }

  async signalDrain(): Promise<void> {
    this.server.enterDrainMode();
  }

  timingHazards(): readonly string[] {
    return this.server.timingHazards();
  }

  async close(): Promise<void> {
    this.conns.forEach((c) => c.close());
  }
}

/** The reference model through the engine on a virtual clock. */
export function virtualTarget(): TargetFactory {
  return {
    label: 'model (virtual clock)',
    freshPerCase: true,
    canSignal: true,
    canConfigure: true,
    open: async (settings) => new VirtualSession(settings),
  };
}

