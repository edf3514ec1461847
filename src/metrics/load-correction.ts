// Coordinated-omission correction for latencies measured by a client that waits for each reply
// before sending the next request (autocannon's connections do). When one request takes longer
// than the interval at which the client meant to send, the requests it held back would have
// waited too; HdrHistogram's recordValueWithExpectedInterval records those as they would have
// been. autocannon applies it with the interval in the wrong unit when a rate is set (1/rate,
// seconds, against latencies in milliseconds), so beanlab turns it off there and does it here.
import type { LatencyHistogram } from './histogram.js';

/** Records valueUs and the samples the client's own waiting hid (valueUs minus each missed interval). */
export function recordCorrected(histogram: LatencyHistogram, valueUs: number, expectedIntervalUs: number): void {
  histogram.record(valueUs);
  if (!(expectedIntervalUs > 0) || valueUs <= expectedIntervalUs) return;
  for (let missedUs = valueUs - expectedIntervalUs; missedUs >= expectedIntervalUs; missedUs -= expectedIntervalUs) {
    histogram.record(Math.round(missedUs));
  }
}
