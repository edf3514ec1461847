// What producers and workers need from a beanstalkd connection, so the same load runs through
// beanlab's pipelined client or through the jackd package (jackd-driver.ts).
import { Client } from '../client/client.js';

export interface ReservedJob {
  id: number;
  body: Uint8Array;
}

export interface QueueConnection {
  /** Whether several requests may be outstanding at once (closed-loop pipelining). */
  readonly pipelines: boolean;
  use(tube: string): Promise<void>;
  watch(tube: string): Promise<void>;
  ignore(tube: string): Promise<void>;
  put(body: Buffer, pri: number, delaySeconds: number, ttrSeconds: number): Promise<number>;
  /** null when the timeout passed (TIMED_OUT) or the server warned DEADLINE_SOON. */
  reserveWithTimeout(timeoutSeconds: number): Promise<ReservedJob | null>;
  /** false: NOT_FOUND (the reservation had expired). */
  delete(id: number): Promise<boolean>;
  release(id: number, pri: number, delaySeconds: number): Promise<boolean>;
  bury(id: number, pri: number): Promise<boolean>;
  touch(id: number): Promise<boolean>;
  kick(bound: number): Promise<number>;
  /** Closes now; outstanding requests fail. */
  close(): Promise<void>;
}

export interface Driver {
  readonly name: 'beanlab' | 'jackd';
  connect(host: string, port: number): Promise<QueueConnection>;
}

/** A request that never gets its reply fails the connection after this long. */
export const REQUEST_TIMEOUT_MS = 10_000;

class BeanlabConnection implements QueueConnection {
  readonly pipelines = true;

  constructor(private readonly client: Client) {}

  async use(tube: string): Promise<void> {
    await this.client.use(tube);
  }

  async watch(tube: string): Promise<void> {
    await this.client.watch(tube);
  }

  async ignore(tube: string): Promise<void> {
    await this.client.ignore(tube);
  }

  put(body: Buffer, pri: number, delaySeconds: number, ttrSeconds: number): Promise<number> {
    return this.client.put(body, { pri, delaySeconds, ttrSeconds });
  }

  async reserveWithTimeout(timeoutSeconds: number): Promise<ReservedJob | null> {
    const reply = await this.client.reserveWithTimeout(timeoutSeconds);
    return typeof reply === 'string' ? null : reply;
  }

  delete(id: number): Promise<boolean> {
    return this.client.delete(id);
  }

  release(id: number, pri: number, delaySeconds: number): Promise<boolean> {
    return this.client.release(id, { pri, delaySeconds });
  }

  bury(id: number, pri: number): Promise<boolean> {
    return this.client.bury(id, pri);
  }

  touch(id: number): Promise<boolean> {
    return this.client.touch(id);
  }

  kick(bound: number): Promise<number> {
    return this.client.kick(bound);
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

export const beanlabDriver: Driver = {
  name: 'beanlab',
  connect: async (host, port) => new BeanlabConnection(await Client.connect({ host, port, timeoutMs: REQUEST_TIMEOUT_MS })),
};
