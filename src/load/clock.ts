// The load runner's one time source: monotonic microseconds since the run began. Every latency
// is a difference of two readings of it, and job bodies carry it, so producers, workers and the
// HTTP front end of one run share a time base.
import { performance } from 'node:perf_hooks';

export class RunClock {
  private originMs = performance.now();

  /** Time zero is when the load starts, not when the connections were being opened. */
  restart(): void {
    this.originMs = performance.now();
  }

  /** Fractional microseconds: latencies are rounded once, when recorded. */
  nowUs(): number {
    return (performance.now() - this.originMs) * 1000;
  }
}

export function sleepMs(delayMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, delayMs)));
}
