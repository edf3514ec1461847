// Timers that never fire early. Node dates a new timer from the event loop's cached time, taken
// when the loop last woke: on a busy loop that is already in the past, so `setTimeout(f, 1)`
// armed late in a turn can fire after 0.3 ms of real time (a 1 ms service was measured at
// 0.69 ms). A Deadline checks the run clock when the timer fires and waits again for what is left,
// so it fires at or after its time, never before; how late it is depends on the timer's
// millisecond granularity and on how busy the loop is, which the run measures and reports
// (harness.ts) instead of hiding.
import type { RunClock } from './clock.js';

/** setTimeout's largest delay; a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class Deadline {
  private timer: NodeJS.Timeout | undefined;
  private cancelled = false;

  constructor(
    private readonly clock: RunClock,
    readonly atUs: number,
    private readonly fire: () => void,
  ) {
    this.arm();
  }

  cancel(): void {
    this.cancelled = true;
    clearTimeout(this.timer);
  }

  private arm(): void {
    const leftUs = this.atUs - this.clock.nowUs();
    if (leftUs <= 0) {
      // Already due: still asynchronously, as a timer would.
      this.timer = setTimeout(() => this.check(), 0);
      return;
    }
    this.timer = setTimeout(() => this.check(), Math.min(MAX_TIMER_MS, Math.ceil(leftUs / 1000)));
  }

  private check(): void {
    if (this.cancelled) return;
    if (this.clock.nowUs() < this.atUs) this.arm();
    else this.fire();
  }
}
