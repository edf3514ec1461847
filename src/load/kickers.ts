// Kickers, as an operator's cron job: every everySeconds, `kick BOUND` on a tube brings buried
// (or delayed) jobs back to ready.
import type { KickerSpec } from '../scenario/schema.js';
import type { Driver, QueueConnection } from './driver.js';
import { noAnswer, type OutstandingOps } from './outstanding.js';
import type { JobTracker } from './tracker.js';
import type { Address } from '../target/address.js';
import type { RunClock } from './clock.js';

export interface KickerContext {
  driver: Driver;
  address: Address;
  requestTimeoutMs: number;
  tracker: JobTracker;
  clock: RunClock;
  /** Kicks not yet answered. */
  pendingOps: OutstandingOps;
  fail(error: unknown): void;
}

export class Kickers {
  private readonly timers: NodeJS.Timeout[] = [];
  private stopped = false;
  /** Kicks sent and not yet answered: a stop waits for them, so none is cut off and miscounted. */
  private inFlight = 0;
  private settled: (() => void) | undefined;

  private constructor(
    private readonly conns: Array<{ conn: QueueConnection; spec: KickerSpec }>,
    private readonly ctx: KickerContext,
  ) {}

  static async connect(specs: readonly KickerSpec[], ctx: KickerContext): Promise<Kickers> {
    const conns = await Promise.all(
      specs.map(async (spec) => {
        const conn = await ctx.driver.connect(ctx.address, ctx.requestTimeoutMs);
        if (spec.tube !== 'default') await conn.use(spec.tube);
        return { conn, spec };
      }),
    );
    return new Kickers(conns, ctx);
  }

  start(): void {
    for (const { conn, spec } of this.conns) {
      const kick = (): void => {
        if (this.stopped) return;
        const pending = this.ctx.pendingOps;
        const seq = pending.begin(this.ctx.clock.nowUs(), 0);
        this.inFlight += 1;
        conn.kick(spec.bound, (error, count) => {
          this.inFlight -= 1;
          if (this.inFlight === 0) this.settled?.();
          if (error) {
            if (!noAnswer(error)) pending.end(seq);
            if (!this.stopped) this.ctx.fail(error);
          } else {
            pending.end(seq);
            this.ctx.tracker.kicked += count!;
          }
        });
        this.timers.push(setTimeout(kick, spec.everySeconds * 1000));
      };
      this.timers.push(setTimeout(kick, (spec.startSeconds + spec.everySeconds) * 1000));
    }
  }

  /** Stops kicking; waits for the kicks in flight (each answers or fails by its timeout), then closes. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.settled = resolve));
    await Promise.all(this.conns.map(({ conn }) => conn.close()));
  }
}
