// What producers and workers need from a beanstalkd connection, so the same load runs through
// beanlab's pipelined client or through the jackd package (jackd-driver.ts).
import { Client, UnexpectedReplyError, type ReplyCallback } from '../client/client.js';
import type { Address } from '../target/address.js';
import type { Command, Reply } from '../protocol/types.js';

export interface ReservedJob {
  id: number;
  body: Uint8Array;
}

/**
 * How a queue operation answers: with its result, or with the error that ended it (the connection
 * failed, or the server answered something the operation does not expect). Called once, never
 * inside the call that started the operation, and it must not throw.
 */
export type Done<T> = (error: Error | null, result?: T) => void;

/**
 * The operations producers and workers make hundreds of thousands of times a second answer
 * through a callback (a promise per request costs more than the reply); setting up and closing
 * return promises.
 */
export interface QueueConnection {
  /** Whether several requests may be outstanding at once (closed-loop pipelining). */
  readonly pipelines: boolean;
  use(tube: string): Promise<void>;
  watch(tube: string): Promise<void>;
  ignore(tube: string): Promise<void>;
  put(body: Buffer, pri: number, delaySeconds: number, ttrSeconds: number, done: Done<number>): void;
  /** null when the timeout passed (TIMED_OUT) or the server warned DEADLINE_SOON. */
  reserveWithTimeout(timeoutSeconds: number, done: Done<ReservedJob | null>): void;
  /** false: NOT_FOUND (the reservation had expired). */
  delete(id: number, done: Done<boolean>): void;
  release(id: number, pri: number, delaySeconds: number, done: Done<boolean>): void;
  bury(id: number, pri: number, done: Done<boolean>): void;
  touch(id: number, done: Done<boolean>): void;
  kick(bound: number, done: Done<number>): void;
  /** How many times the job has been reserved (stats-job); null when the server no longer has it. */
  reserves(id: number, done: Done<number | null>): void;
  /** Closes now; outstanding requests fail. */
  close(): Promise<void>;
}

export interface Driver {
  readonly name: 'beanlab' | 'jackd';
  /**
   * A request with no reply after timeoutMs fails the connection with a ConnectionError (as does
   * a connection that fails or closes): the operations it leaves unanswered are counted so.
   */
  connect(address: Address, timeoutMs?: number): Promise<QueueConnection>;
}

/** A request that never gets its reply fails the connection after this long (--reply-timeout). */
export const REQUEST_TIMEOUT_MS = 10_000;

class BeanlabConnection implements QueueConnection {
  readonly pipelines = true;

  constructor(
    private readonly client: Client,
    private readonly timeoutMs: number,
  ) {}

  async use(tube: string): Promise<void> {
    await this.client.use(tube);
  }

  async watch(tube: string): Promise<void> {
    await this.client.watch(tube);
  }

  async ignore(tube: string): Promise<void> {
    await this.client.ignore(tube);
  }

  put(body: Buffer, pri: number, delaySeconds: number, ttrSeconds: number, done: Done<number>): void {
    this.client.send({ kind: 'put', pri, delaySeconds, ttrSeconds, body }, (error, reply) => {
      if (error) done(error);
      else if (reply!.kind === 'INSERTED') done(null, reply!.id);
      else done(new UnexpectedReplyError('put', reply!));
    });
  }

  reserveWithTimeout(timeoutSeconds: number, done: Done<ReservedJob | null>): void {
    // The server may legitimately take the whole reserve timeout to answer.
    const timeoutMs = timeoutSeconds * 1000 + this.timeoutMs;
    this.client.send(
      { kind: 'reserve-with-timeout', timeoutSeconds },
      (error, reply) => {
        if (error) done(error);
        else if (reply!.kind === 'RESERVED') done(null, { id: reply!.id, body: reply!.body });
        else if (reply!.kind === 'TIMED_OUT' || reply!.kind === 'DEADLINE_SOON') done(null, null);
        else done(new UnexpectedReplyError('reserve-with-timeout', reply!));
      },
      { timeoutMs },
    );
  }

  delete(id: number, done: Done<boolean>): void {
    this.client.send({ kind: 'delete', id }, found('delete', 'DELETED', done));
  }

  release(id: number, pri: number, delaySeconds: number, done: Done<boolean>): void {
    this.client.send({ kind: 'release', id, pri, delaySeconds }, found('release', 'RELEASED', done));
  }

  bury(id: number, pri: number, done: Done<boolean>): void {
    this.client.send({ kind: 'bury', id, pri }, found('bury', 'BURIED', done));
  }

  touch(id: number, done: Done<boolean>): void {
    this.client.send({ kind: 'touch', id }, found('touch', 'TOUCHED', done));
  }

  kick(bound: number, done: Done<number>): void {
    this.client.send({ kind: 'kick', bound }, (error, reply) => {
      if (error) done(error);
      else if (reply!.kind === 'KICKED' && reply!.count !== undefined) done(null, reply!.count);
      else done(new UnexpectedReplyError('kick', reply!));
    });
  }

  reserves(id: number, done: Done<number | null>): void {
    this.client.send({ kind: 'stats-job', id }, (error, reply) => {
      if (error) done(error);
      else if (reply!.kind === 'NOT_FOUND') done(null, null);
      else if (reply!.kind === 'OK') done(null, reservesOf(Buffer.from(reply!.body).toString('latin1')));
      else done(new UnexpectedReplyError('stats-job', reply!));
    });
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/** The `reserves:` count of a stats-job reply's YAML. */
export function reservesOf(yaml: string): number {
  const m = /^reserves: (\d+)$/m.exec(yaml);
  return m ? Number(m[1]) : 0;
}

/** The reply callback of a job command: true for its success word, false for NOT_FOUND. */
function found(command: Command['kind'], success: Reply['kind'], done: Done<boolean>): ReplyCallback {
  return (error, reply) => {
    if (error) done(error);
    else if (reply!.kind === success) done(null, true);
    else if (reply!.kind === 'NOT_FOUND') done(null, false);
    else done(new UnexpectedReplyError(command, reply!));
  };
}

export const beanlabDriver: Driver = {
  name: 'beanlab',
  connect: async (address, timeoutMs = REQUEST_TIMEOUT_MS) => new BeanlabConnection(await Client.connect({ ...address, timeoutMs }), timeoutMs),
};
