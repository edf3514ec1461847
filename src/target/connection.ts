// The raw connection the corpus runner drives: bytes out, whole replies in. Two
// implementations share this queue: TCP (tcp-connection.ts) and the virtual-clock engine
// (virtual.ts). Replies are framed by the protocol's ReplyParser so a reply split across TCP
// segments is still seen as one.
import { ReplyParser } from '../protocol/reply-parser.js';
import type { Reply } from '../protocol/types.js';

export type ConnEvent =
  /** `jobId`: the id as the server wrote it (ids are opaque tokens here: any server's ids are accepted). */
  | { kind: 'reply'; reply: Reply; raw: Buffer; jobId?: string }
  /** The server closed the connection (FIN or reset). Nothing follows it. */
  | { kind: 'closed' }
  /** Bytes that are not a beanstalkd reply; the connection is not read any further. */
  | { kind: 'garbage'; raw: Buffer; message: string };

export interface RawConnection {
  send(bytes: Uint8Array): void;
  /** The oldest event not yet taken, without taking it. */
  peek(): ConnEvent | undefined;
  take(): ConnEvent | undefined;
  /** Calls `listener` whenever an event arrives; returns the unsubscribe function. */
  onEvent(listener: () => void): () => void;
  /** Half-close: the client sends FIN and may still read. */
  halfClose(): void;
  close(): void;
}

/** Event queue and reply framing shared by both transports. */
export abstract class QueuedConnection implements RawConnection {
  private readonly events: ConnEvent[] = [];
  private readonly parser = new ReplyParser({ opaqueIds: true });
  private readonly listeners = new Set<() => void>();
  /** After a close or garbage nothing more is queued. */
  private finished = false;
  /** Bytes pushed to the parser and not yet consumed by a reply, for the garbage report. */
  private unparsed: Buffer[] = [];

  abstract send(bytes: Uint8Array): void;
  abstract halfClose(): void;
  abstract close(): void;

  peek(): ConnEvent | undefined {
    return this.events[0];
  }

  take(): ConnEvent | undefined {
    return this.events.shift();
  }

  onEvent(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  protected received(bytes: Uint8Array): void {
    if (this.finished || bytes.length === 0) return;
    this.unparsed.push(Buffer.from(bytes));
    try {
      this.parser.push(bytes);
      for (let next = this.parser.next(); next; next = this.parser.next()) {
        this.unparsed = consumed(this.unparsed, next.raw.length);
        this.queue(next.jobId === undefined ? { kind: 'reply', reply: next.reply, raw: next.raw } : { kind: 'reply', reply: next.reply, raw: next.raw, jobId: next.jobId });
      }
    } catch (error) {
      this.finished = true;
      this.queue({ kind: 'garbage', raw: Buffer.concat(this.unparsed), message: String(error) }, true);
    }
  }

  protected serverClosed(): void {
    if (this.finished) return;
    this.queue({ kind: 'closed' }, true);
  }

  private queue(event: ConnEvent, final = false): void {
    if (final) this.finished = true;
    this.events.push(event);
    for (const listener of [...this.listeners]) listener();
  }
}

/** Drops `count` bytes from the front of a list of chunks. */
function consumed(chunks: Buffer[], count: number): Buffer[] {
  const all = Buffer.concat(chunks);
  return all.length > count ? [all.subarray(count)] : [];
}

/**
 * Resolves once any of `conns` has an event queued, or after `timeoutMs` (0: check only).
 * Returns whether an event is there. Never leaves a timer or listener behind.
 */
export function waitForEvent(conns: readonly RawConnection[], timeoutMs: number): Promise<boolean> {
  const ready = () => conns.some((c) => c.peek() !== undefined);
  if (ready() || timeoutMs <= 0) return Promise.resolve(ready());
  return new Promise((resolve) => {
    const unsubscribes: Array<() => void> = [];
    const finish = () => {
      clearTimeout(timer);
      unsubscribes.forEach((u) => u());
      resolve(ready());
    };
    const timer = setTimeout(finish, timeoutMs);
    for (const conn of conns) unsubscribes.push(conn.onEvent(finish));
  });
}

/** Takes the next event, waiting up to `timeoutMs` for it; undefined on timeout. */
export async function nextEvent(conn: RawConnection, timeoutMs: number): Promise<ConnEvent | undefined> {
  await waitForEvent([conn], timeoutMs);
  return conn.take();
}
