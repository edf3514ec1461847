// The load generator watching itself: configured against measured worker service times, how late
// open-loop puts went out, and the event loop's lag (a timer every LAG_SAMPLE_MS, late by as much
// as the loop was busy). All HDR histograms, so they merge like the latencies.
import { LatencyHistogram } from '../metrics/histogram.js';
import { harnessWarnings } from '../metrics/load-harness.js';
import type { LoadDetails } from '../metrics/load-result.js';
import type { RunClock } from './clock.js';

const LAG_SAMPLE_MS = 10;

export class HarnessMonitor {
  readonly serviceConfiguredUs = new LatencyHistogram();
  readonly serviceMeasuredUs = new LatencyHistogram();
  readonly sendLagUs = new LatencyHistogram();
  readonly eventLoopLagUs = new LatencyHistogram();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly clock: RunClock) {}

  start(): void {
    const expectedUs = this.clock.nowUs() + LAG_SAMPLE_MS * 1000;
    this.timer = setTimeout(() => {
      this.eventLoopLagUs.record(Math.max(0, Math.round(this.clock.nowUs() - expectedUs)));
      this.start();
    }, LAG_SAMPLE_MS);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** A worker's job took measuredUs of work it was configured to take configuredUs for. */
  service(configuredUs: number, measuredUs: number): void {
    this.serviceConfiguredUs.record(Math.max(0, Math.round(configuredUs)));
    this.serviceMeasuredUs.record(Math.max(0, Math.round(measuredUs)));
  }

  summary(): NonNullable<LoadDetails['harness']> {
    const figures = {
      serviceConfiguredUs: this.serviceConfiguredUs.summary(),
      serviceMeasuredUs: this.serviceMeasuredUs.summary(),
      sendLagUs: this.sendLagUs.summary(),
      eventLoopLagUs: this.eventLoopLagUs.summary(),
    };
    return { ...figures, warnings: harnessWarnings(figures) };
  }
}
