// The load runner's one time source: monotonic microseconds since the run began. Every latency
// is a difference of two readings of it. Job bodies carry due times on the epoch (epochUs), so
// that shards of one run, each with its own clock, time each other's jobs from the same instant.
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

  /** The epoch time (microseconds since 1970, from the wall clock at process start) of run time runUs. */
  epochUs(runUs: number): number {
    return (performance.timeOrigin + this.originMs) * 1000 + runUs;
  }

  /** The run time of an epoch time: epochUs's inverse. */
  runUs(epochUs: number): number {
    return epochUs - (performance.timeOrigin + this.originMs) * 1000;
  }

  /** When the run began (or will begin), in epoch milliseconds. */
  originEpochMs(): number {
    return performance.timeOrigin + this.originMs;
  }
}

export function sleepMs(delayMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, delayMs)));
}
