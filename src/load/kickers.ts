// Kickers, as an operator's cron job: every everySeconds, `kick BOUND` on a tube brings buried
// (or delayed) jobs back to ready.
import type { KickerSpec } from '../scenario/schema.js';
import type { Driver, QueueConnection } from './driver.js';
import type { JobTracker } from './tracker.js';
import type { Address } from '../target/address.js';

export class Kickers {
  private readonly timers: NodeJS.Timeout[] = [];
  private stopped = false;

  private constructor(
    private readonly conns: Array<{ conn: QueueConnection; spec: KickerSpec }>,
    private readonly tracker: JobTracker,
    private readonly fail: (error: unknown) => void,
  ) {}

  static async connect(specs: readonly KickerSpec[], driver: Driver, address: Address, tracker: JobTracker, fail: (error: unknown) => void): Promise<Kickers> {
    const conns = await Promise.all(
      specs.map(async (spec) => {
        const conn = await driver.connect(address);
        if (spec.tube !== 'default') await conn.use(spec.tube);
        return { conn, spec };
      }),
    );
    return new Kickers(conns, tracker, fail);
  }

  start(): void {
    for (const { conn, spec } of this.conns) {
      const kick = (): void => {
        if (this.stopped) return;
        conn.kick(spec.bound, (error, count) => {
          if (error) {
            if (!this.stopped) this.fail(error);
          } else {
            this.tracker.kicked += count!;
          }
        });
        this.timers.push(setTimeout(kick, spec.everySeconds * 1000));
      };
      this.timers.push(setTimeout(kick, (spec.startSeconds + spec.everySeconds) * 1000));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    await Promise.all(this.conns.map(({ conn }) => conn.close()));
  }
}
