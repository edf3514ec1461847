// N pipelined clients to one server, handed out round robin, so load spreads over several
// connections (the server handles one ready socket per loop turn, semantics h.3).
import { Client, type ConnectOptions } from './client.js';

export type PoolOptions = ConnectOptions & {
  size: number;
};

export class Pool {
  private nextIndex = 0;

  private constructor(readonly clients: readonly Client[]) {}

  static async connect(opts: PoolOptions): Promise<Pool> {
    if (!Number.isInteger(opts.size) || opts.size < 1) {
      throw new RangeError(`pool size must be a positive integer, got ${opts.size}`);
    }
    const settled = await Promise.allSettled(Array.from({ length: opts.size }, () => Client.connect(opts)));
    const clients = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const failed = settled.find((result) => result.status === 'rejected');
    if (failed) {
      // Do not leak the connections that did open.
      await Promise.all(clients.map((client) => client.close()));
      throw failed.reason;
    }
    return new Pool(clients);
  }

  /** The next client in round-robin order. */
  next(): Client {
    const client = this.clients[this.nextIndex];
    this.nextIndex = (this.nextIndex + 1) % this.clients.length;
    return client;
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((client) => client.close()));
  }
}
