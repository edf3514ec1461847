// The same producers and workers through the jackd package (2.2), to show what a Node
// application using jackd experiences. jackd's known defects, and how this driver avoids them:
//  - put() JSON-encodes every payload that is not a string, Buffers included (the job body
//    becomes {"type":"Buffer","data":[...]}): bodies go in as strings. beanlab's bodies are
//    ASCII, so the string's UTF-8 bytes are the body's bytes.
//  - concurrent commands on one connection corrupt each other: its reply reader keeps one
//    shared body length and id across overlapping peeks/reserves, and its data handler is
//    async and not serialised; the execution is also only queued after the socket write
//    completes, so a fast reply can arrive first and sit unread. So this driver sends one
//    command at a time per connection (no pipelining: closed-loop depth is connections).
//  - pauseTube() writes no CR LF, so the server never answers and the promise never
//    resolves: this driver never pauses tubes.
//  - errors arrive as `Error('NOT_FOUND')`, `Error('TIMED_OUT')` ...: mapped back to results.
//  - no request has a timeout: every call here races one, and a timeout closes the connection
//    (a ConnectionError, like beanlab's client gives, so unanswered operations count alike).
//  - its types describe an ES module while the package sets `module.exports = JackdClient`:
//    the default import is the class itself at run time.
import type { Socket } from 'node:net';
import jackdModule from 'jackd';
import { ConnectionError } from '../client/client.js';
import type { Done, Driver, QueueConnection, ReservedJob } from './driver.js';
import { REQUEST_TIMEOUT_MS, reservesOf } from './driver.js';

const JackdClient = jackdModule as unknown as typeof jackdModule.JackdClient;
type JackdClient = InstanceType<typeof JackdClient>;

class JackdConnection implements QueueConnection {
  readonly pipelines = false;
  /** The tail of this connection's command chain: each command starts when the previous settled. */
  private chain: Promise<unknown> = Promise.resolve();
  private failure: Error | undefined;

  constructor(
    private readonly jackd: JackdClient,
    private readonly address: string,
    private readonly timeoutMs: number,
  ) {
    jackd.socket.on('close', () => this.fail(new ConnectionError(`${address}: connection closed`)));
    jackd.socket.on('error', (error: Error) => this.fail(new ConnectionError(`${address}: ${error.message}`)));
  }

  use(tube: string): Promise<void> {
    return this.run('use', async () => void (await this.jackd.use(tube)));
  }

  watch(tube: string): Promise<void> {
    return this.run('watch', async () => void (await this.jackd.watch(tube)));
  }

  ignore(tube: string): Promise<void> {
    return this.run('ignore', async () => void (await this.jackd.ignore(tube)));
  }

  put(body: Buffer, pri: number, delaySeconds: number, ttrSeconds: number, done: Done<number>): void {
    answer(this.run('put', async () => Number(await this.jackd.put(body.toString('latin1'), { priority: pri, delay: delaySeconds, ttr: ttrSeconds }))), done);
  }

  reserveWithTimeout(timeoutSeconds: number, done: Done<ReservedJob | null>): void {
    const reserved = this.run(
      'reserve-with-timeout',
      async () => {
        try {
          const job = await this.jackd.reserveWithTimeout(timeoutSeconds);
          const payload = job.payload as Buffer | string;
          return { id: Number(job.id), body: typeof payload === 'string' ? Buffer.from(payload) : payload };
        } catch (error) {
          if (replyIs(error, 'TIMED_OUT') || replyIs(error, 'DEADLINE_SOON')) return null;
          throw error;
        }
      },
      timeoutSeconds * 1000 + this.timeoutMs,
    );
    answer(reserved, done);
  }

  delete(id: number, done: Done<boolean>): void {
    answer(this.run('delete', () => found(this.jackd.delete(String(id)))), done);
  }

  release(id: number, pri: number, delaySeconds: number, done: Done<boolean>): void {
    answer(this.run('release', () => found(this.jackd.release(String(id), { priority: pri, delay: delaySeconds }))), done);
  }

  bury(id: number, pri: number, done: Done<boolean>): void {
    answer(this.run('bury', () => found(this.jackd.bury(String(id), pri))), done);
  }

  touch(id: number, done: Done<boolean>): void {
    answer(this.run('touch', () => found(this.jackd.touch(String(id)))), done);
  }

  kick(bound: number, done: Done<number>): void {
    answer(this.run('kick', () => this.jackd.kick(bound)), done);
  }

  reserves(id: number, done: Done<number | null>): void {
    const stats = async (): Promise<number | null> => {
      try {
        return reservesOf(String(await this.jackd.statsJob(String(id))));
      } catch (error) {
        if (replyIs(error, 'NOT_FOUND')) return null;
        throw error;
      }
    };
    answer(this.run('stats-job', stats), done);
  }

  async close(): Promise<void> {
    this.fail(new ConnectionError(`${this.address}: client closed the connection`));
    const socket: Socket = this.jackd.socket;
    if (socket.destroyed) return;
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.destroy();
    await closed;
  }

  private run<T>(command: string, call: () => Promise<T>, timeoutMs = this.timeoutMs): Promise<T> {
    const next = this.chain.then(() => {
      if (this.failure) throw this.failure;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const error = new ConnectionError(`${this.address}: no reply to ${command} within ${timeoutMs} ms (jackd)`);
          this.fail(error);
          this.jackd.socket.destroy();
          reject(error);
        }, timeoutMs);
      });
      const failed = new Promise<never>((_, reject) => (this.abortCurrent = reject));
      return Promise.race([call(), timedOut, failed]).finally(() => {
        clearTimeout(timer);
        this.abortCurrent = undefined;
      });
    });
    // The chain must go on after a failed command; the caller still sees the failure.
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Fails the command in flight (there is at most one) when the connection goes. */
  private abortCurrent: ((error: Error) => void) | undefined;

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.abortCurrent?.(error);
  }
}

/** jackd speaks promises; the load runner's connections answer through callbacks. */
function answer<T>(result: Promise<T>, done: Done<T>): void {
  result.then(
    (value) => done(null, value),
    (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
  );
}

function replyIs(error: unknown, reply: string): boolean {
  return error instanceof Error && error.message.startsWith(reply);
}

async function found(call: Promise<void>): Promise<boolean> {
  try {
    await call;
    return true;
  } catch (error) {
    if (replyIs(error, 'NOT_FOUND')) return false;
    throw error;
  }
}

export const jackdDriver: Driver = {
  name: 'jackd',
  connect: async (address, timeoutMs = REQUEST_TIMEOUT_MS) => {
    // jackd 2.2 dials host and port only.
    if (address.path !== undefined) throw new Error(`unix:${address.path}: the jackd driver connects over TCP only (jackd 2.2 has no UNIX-socket option)`);
    const { host, port } = address;
    const jackd = new JackdClient();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        jackd.socket.destroy();
        reject(new ConnectionError(`${host}:${port}: no connection after ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      await Promise.race([jackd.connect({ host, port }), timedOut]);
    } finally {
      clearTimeout(timer);
    }
    jackd.socket.setNoDelay(true);
    return new JackdConnection(jackd, `${host}:${port}`, timeoutMs);
  },
};
