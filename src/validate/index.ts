// `beanlab validate`: does a real server do what the simulator predicts for the same scenario?
//
// THE BAND. The simulator runs the scenario for the real run's duration over `--seeds` groups of
// consecutive seeds (default 20 groups of 1). Each group gives one value per metric (with
// `--repeat R`, the median of its R runs, as the real side reports the median of its R runs). The
// band of a metric is [min, max] of those values, widened on each side by the range's own width
// times `spread` (default 1), by `tolerance` of the edge's value (default 5%), and for latencies
// by `slack` (default 2 ms) absolute, or by what the real run's path and load generator were
// measured to add (pathSlack) where that is more.
//   Why min..max: were the real run just one more seed, its value would be exchangeable with the
// simulated ones and would fall outside their range with probability 2/(N+1) whatever the
// metric's distribution (the rank of an exchangeable draw is uniform): 9.5% per metric at N = 20,
// far too often when some 40 metrics are judged at once. Widening by the range's own width scales
// with how much the metric scatters from seed to seed (a steady mean gets a narrow band, a
// queue-wait p90 that swings with every burst a wide one); on a two-tube, two-class scenario (38
// metrics, as in test/validate/check.test.ts) 0 of 300 held-out seeds disagreed with the
// defaults, against 2 of 100 with half the widening and 8 of 100 with none (a 10% tolerance
// only), while a service 25% slower put 23 metrics above their bands (those figures with a 1 ms
// slack). The tolerance and the slack stand for what the simulator knows it leaves out
// (scheduling, the event loop); a rank (how many seeds lie below the measurement) is reported
// with every metric, for judging the ones near an edge.
//
// THE CALIBRATION (CalibrationFacts). The simulator is given the round trip of the path (network
// and the load generator's own request/reply handling, src/load/calibrate.ts), never the server's
// own cost per command, so that a slow server disagrees instead of being calibrated into
// agreement; and service times longer by the real workers' mean timer lateness (serviceLateUs),
// the workload the load generator really applied. Latency bands widen by the send lag and reply
// delays the real run measured on its own path (pathSlack), none of which a server can inflate.
//   Unchecked: a latency statistic with too few jobs behind it to mean anything (20 for mean and
// p50, 100 for p90, 1000 for p99: ten jobs beyond the percentile), and a metric the real run
// lacks. They are shown, not judged.
//
// THE VERDICT. Agree when every checked metric lies in its band and the real runs completed
// without errors or interruption; exit 0 agree, 1 disagree, 2 bad input.
//
// The real side (src/cli/validate.ts, measure()) runs the load runner; this module is pure.
export {
  DEFAULT_BAND_OPTIONS,
  VALIDATION_VERSION,
  checkMeasurement,
  jobsNeeded,
  pathSlack,
  serviceLateUs,
  median,
  predictionBands,
  validation,
  type Band,
  type BandOptions,
  type CalibrationFacts,
  type LatencySlack,
  type PathFigures,
  type StatSummary,
  type ServiceTimers,
  type Status,
  type Validation,
  type ValidationFacts,
  type Verdict,
} from './check.js';
export { metricLabel, metricRefs, readMetric, type MetricRef, type Reading } from './metrics.js';
export { simulateGroups, simulatedRuns, withDuration, type PredictionPlan } from './predict.js';
