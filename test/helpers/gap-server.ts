// Test servers with a gap: a TCP proxy in front of any target's sessions (usually the embedded
// server, with or without --fault mutations) that makes it look like a beanstalkd-compatible
// server written by someone else: job ids that are UUIDs, commands it does not implement, a
// `stats` reply cached for 500 ms, an extra `stats` field. The conformance suite must hold such a
// server to every rule it can still check, so each gap combines with each fault.
//
// The proxy frames the client's bytes exactly as beanstalkd does (the protocol's RequestParser,
// as a shadow of the backend's own parser) to know which command each backend reply answers,
// and rewrites replies only. Commands it "lacks" still reach the backend (they are read-only:
// peek*, list-*, stats) and their reply is replaced by UNKNOWN_COMMAND; only the UUID gap
// rewrites client bytes (ids in the command lines that take one).
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { encodeReply } from '../../src/protocol/encode.js';
import { RequestParser } from '../../src/protocol/parser.js';
import { DEFAULT_MAX_JOB_SIZE, type CommandKind, type Profile, type Reply, type Request } from '../../src/protocol/types.js';
import type { ConnEvent, RawConnection } from '../../src/target/connection.js';
import { TcpSession, type Session, type TargetFactory } from '../../src/target/sessions.js';

export const GAPS = {
  'uuid-ids': 'job ids are UUIDs (any other id is NOT_FOUND)',
  'no-peek': 'peek, peek-ready, peek-delayed and peek-buried answer UNKNOWN_COMMAND',
  'no-list': 'list-tubes, list-tube-used and list-tubes-watched answer UNKNOWN_COMMAND',
  'no-stats': 'stats answers UNKNOWN_COMMAND (stats-job and stats-tube work)',
  'stats-cache': 'stats answers from a copy up to 500 ms old',
  'extra-stats-field': 'stats has one more field, cmd-truncate',
} as const;
export type Gap = keyof typeof GAPS;

const MISSING: Partial<Record<Gap, readonly CommandKind[]>> = {
  'no-peek': ['peek', 'peek-ready', 'peek-delayed', 'peek-buried'],
  'no-list': ['list-tubes', 'list-tube-used', 'list-tubes-watched'],
  'no-stats': ['stats'],
};
export const STATS_CACHE_MS = 500;

/** `inner`'s servers behind a proxy with `gaps`; everything else (signals, restarts) as `inner`. */
export function gapTarget(inner: TargetFactory, gaps: readonly Gap[]): TargetFactory {
  return {
    label: `${inner.label} with gap ${gaps.join(',')}`,
    freshPerCase: inner.freshPerCase,
    canSignal: inner.canSignal,
    canConfigure: inner.canConfigure,
    canPersist: inner.canPersist,
    binlogAlways: inner.binlogAlways,
    // The gap proxy half-closes its backend when a client closes, as any forwarder does.
    mayBeProxied: true,
    open: async (settings) => {
      const session = await inner.open(settings);
      const proxy = await startGapProxy(session, gaps, settings.profile, settings.maxJobSize ?? DEFAULT_MAX_JOB_SIZE);
      return new TcpSession(proxy.address, {
        stop: async () => {
          await proxy.close();
          await session.close();
        },
        drain: () => session.signalDrain(),
        ...(session.restart ? { restart: async () => (await session.restart!(), proxy.address) } : {}),
      });
    },
  };
}

export interface GapProxy {
  address: { host: string; port: number };
  close(): Promise<void>;
}

/** Shared by every connection of one proxy: the server's id table and its stats cache. */
class ServerState {
  private readonly salt = randomBytes(4).toString('hex');
  private readonly toUuid = new Map<string, string>();
  private readonly fromUuid = new Map<string, string>();
  statsCache: { body: Uint8Array; atMs: number } | undefined;

  constructor(readonly gaps: ReadonlySet<Gap>) {}

  uuid(id: string): string {
    let uuid = this.toUuid.get(id);
    if (!uuid) {
      // Two mixes of the backend id: the last group alone is unique (n ↦ n·odd mod 2^48 is one-to-one).
      const n = BigInt(id);
      const last = ((n * 2654435761n) & (2n ** 48n - 1n)).toString(16).padStart(12, '0');
      const mid = ((n * 40503n + 7n) & (2n ** 40n - 1n)).toString(16).padStart(10, '0');
      uuid = `${this.salt}-${mid.slice(0, 4)}-4${mid.slice(4, 7)}-a${mid.slice(7, 10)}-${last}`;
      this.toUuid.set(id, uuid);
      this.fromUuid.set(uuid, id);
    }
    return uuid;
  }

  /** The backend id of a client token; a token the server never issued names no job. */
  backendId(token: string): string {
    return this.fromUuid.get(token) ?? '18446744073709551615';
  }

  lacks(kind: Request['kind']): boolean {
    for (const gap of this.gaps) if ((MISSING[gap] as readonly string[] | undefined)?.includes(kind)) return true;
    return false;
  }
}

/** A proxy on a free loopback port whose every connection is one of `session`'s, behind `gaps`. */
export async function startGapProxy(session: Session, gaps: readonly Gap[], profile: Profile, maxJobSize: number): Promise<GapProxy> {
  const state = new ServerState(new Set(gaps));
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    new ProxiedConnection(client, session, state, profile, maxJobSize);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    address: { host: '127.0.0.1', port },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const ID_COMMAND = /^(peek|delete|kick-job|stats-job|reserve-job|touch|bury|release) (\S+)(.*)$/s;
const PUT_LINE = /^put \d+ \d+ \d+ (\d+)$/;
/** A client line longer than this is passed on as it comes (beanstalkd rejects it anyway). */
const MAX_HELD_BYTES = 4096;

class ProxiedConnection {
  private backend: RawConnection | undefined;
  private readonly early: Buffer[] = [];
  /** The requests the backend will answer, oldest first (the shadow parser's view). */
  private readonly pending: Array<Request['kind']> = [];
  private readonly shadow: RequestParser;
  /** UUID gap: client bytes not yet forwarded (an incomplete line) and put-body bytes still to pass. */
  private held = Buffer.alloc(0);
  private bodyLeft = 0;

  constructor(
    private readonly client: net.Socket,
    session: Session,
    private readonly state: ServerState,
    profile: Profile,
    maxJobSize: number,
  ) {
    this.shadow = new RequestParser({ profile, maxJobSize });
    client.on('data', (chunk: Buffer) => this.fromClient(chunk));
    client.on('end', () => this.backend?.halfClose());
    client.on('error', () => undefined);
    client.on('close', () => this.backend?.close());
    session.connect().then(
      (backend) => {
        this.backend = backend;
        backend.onEvent(() => this.drainBackend());
        for (const chunk of this.early.splice(0)) this.forward(chunk);
        if (client.readableEnded) backend.halfClose();
        if (client.destroyed) backend.close();
      },
      () => client.destroy(),
    );
  }

  private fromClient(chunk: Buffer): void {
    const bytes = this.state.gaps.has('uuid-ids') ? this.rewriteIds(chunk) : chunk;
    if (bytes.length === 0) return;
    if (this.backend) this.forward(bytes);
    else this.early.push(bytes);
  }

  private forward(bytes: Buffer): void {
    this.shadow.push(Buffer.from(bytes));
    for (let r = this.shadow.next(); r !== undefined; r = this.shadow.next()) {
      if (r.kind !== 'put-begin' && r.kind !== 'put-too-big-begin') this.pending.push(r.kind);
    }
    this.backend!.send(bytes);
  }

  /** Client ids (UUIDs) to backend ids, in the command lines that name a job; put bodies untouched. */
  private rewriteIds(chunk: Buffer): Buffer {
    let data = Buffer.concat([this.held, chunk]);
    this.held = Buffer.alloc(0);
    const out: Buffer[] = [];
    while (data.length > 0) {
      if (this.bodyLeft > 0) {
        const n = Math.min(this.bodyLeft, data.length);
        out.push(data.subarray(0, n));
        this.bodyLeft -= n;
        data = data.subarray(n);
        continue;
      }
      const end = data.indexOf('\r\n');
      if (end < 0) {
        if (data.length > MAX_HELD_BYTES) out.push(data);
        else this.held = Buffer.from(data);
        break;
      }
      const line = data.toString('latin1', 0, end);
      const id = ID_COMMAND.exec(line);
      out.push(id ? Buffer.from(`${id[1]} ${this.state.backendId(id[2])}${id[3]}`, 'latin1') : data.subarray(0, end), CRLF);
      const put = PUT_LINE.exec(line);
      if (put) this.bodyLeft = Number(put[1]) + 2;
      data = data.subarray(end + 2);
    }
    return Buffer.concat(out);
  }

  private drainBackend(): void {
    const backend = this.backend!;
    for (let event = backend.take(); event; event = backend.take()) this.toClient(event);
  }

  private toClient(event: ConnEvent): void {
    if (event.kind === 'closed') {
      this.client.end();
      return;
    }
    if (event.kind === 'garbage') {
      this.client.destroy();
      return;
    }
    const answers = this.pending.shift();
    this.client.write(this.transform(answers, event.reply, event.raw));
  }

  private transform(answers: Request['kind'] | undefined, reply: Reply, raw: Buffer): Uint8Array {
    const state = this.state;
    if (answers && state.lacks(answers)) return encodeReply({ kind: 'UNKNOWN_COMMAND' });
    if (reply.kind === 'OK' && answers === 'stats') {
      let body = reply.body;
      if (state.gaps.has('stats-cache')) {
        const nowMs = performance.now();
        if (state.statsCache && nowMs - state.statsCache.atMs < STATS_CACHE_MS) body = state.statsCache.body;
        else state.statsCache = { body: new Uint8Array(body), atMs: nowMs };
      }
      if (state.gaps.has('extra-stats-field')) body = Buffer.concat([body, Buffer.from('cmd-truncate: 0\n')]);
      return encodeReply({ kind: 'OK', body });
    }
    if (!state.gaps.has('uuid-ids')) return raw;
    switch (reply.kind) {
      case 'INSERTED':
      case 'RESERVED':
      case 'FOUND': {
        const text = raw.toString('latin1');
        const space = text.indexOf(' ');
        const idEnd = text.indexOf(reply.kind === 'INSERTED' ? '\r' : ' ', space + 1);
        return Buffer.concat([
          Buffer.from(`${text.slice(0, space + 1)}${state.uuid(text.slice(space + 1, idEnd))}`, 'latin1'),
          raw.subarray(idEnd),
        ]);
      }
      case 'OK':
        if (answers !== 'stats-job') return raw;
        return encodeReply({
          kind: 'OK',
          body: Buffer.from(Buffer.from(reply.body).toString('latin1').replace(/^id: (\d+)$/m, (_, id: string) => `id: ${state.uuid(id)}`), 'latin1'),
        });
      default:
        return raw;
    }
  }
}

const CRLF = Buffer.from('\r\n');
