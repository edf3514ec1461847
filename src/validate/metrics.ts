// Which numbers of a run `validate` holds a real run to, and how to read them from a result. The
// same reader serves the simulator's results and the load runner's (one schema), so a metric
// means the same thing on both sides.
import type { Breakdown, RunResult } from '../metrics/result.js';

export type LatencyName = 'queueWait' | 'endToEnd';
export type LatencyStat = 'mean' | 'p50' | 'p90' | 'p99';

export const LATENCY_NAMES: readonly LatencyName[] = ['queueWait', 'endToEnd'];
export const LATENCY_STATS: readonly LatencyStat[] = ['mean', 'p50', 'p90', 'p99'];

export type MetricRef =
  | {
      id: string;
      kind: 'latency';
      /** The whole run, one tube, or one priority class. */
      scope: 'all' | 'tube' | 'priority';
      group?: string;
      name: LatencyName;
      stat: LatencyStat;
      unit: 'us';
    }
  | { id: string; kind: 'throughput'; scope: 'all'; unit: 'jobs/s' }
  | { id: string; kind: 'completed'; scope: 'all'; unit: 'jobs' };

/** A metric's value in one run, and how many jobs stand behind it (latencies; 0 for the others). */
export interface Reading {
  value: number;
  jobs: number;
}

const histogramKey = { queueWait: 'queueWaitUs', endToEnd: 'endToEndUs' } as const;

/**
 * The metrics of a scenario's runs: queue wait and end to end (mean, p50, p90, p99) for the whole
 * run, per tube and per priority class (only when there are several: one tube's numbers are the
 * run's), then throughput and completed jobs. Read off one result of the scenario.
 */
export function metricRefs(result: RunResult): MetricRef[] {
  const refs: MetricRef[] = [];
  const latencies = (scope: 'all' | 'tube' | 'priority', group?: string) => {
    for (const name of LATENCY_NAMES) {
      for (const stat of LATENCY_STATS) {
        const id = `${scope === 'all' ? '' : `${scope}:${group}:`}${name}.${stat}`;
        refs.push({ id, kind: 'latency', scope, ...(group === undefined ? {} : { group }), name, stat, unit: 'us' });
      }
    }
  };
  latencies('all');
  const tubes = Object.keys(result.byTube);
  if (tubes.length > 1) for (const tube of tubes) latencies('tube', tube);
  const classes = Object.keys(result.byPriority);
  if (classes.length > 1) for (const name of classes) latencies('priority', name);
  refs.push({ id: 'throughput', kind: 'throughput', scope: 'all', unit: 'jobs/s' });
  refs.push({ id: 'completed', kind: 'completed', scope: 'all', unit: 'jobs' });
  return refs;
}

/** The metric's reading in a result; undefined when the result has no such tube or class. */
export function readMetric(result: RunResult, ref: MetricRef): Reading | undefined {
  switch (ref.kind) {
    case 'throughput':
      return { value: result.throughput.jobsPerSecond, jobs: 0 };
    case 'completed':
      return { value: result.jobs.completed, jobs: 0 };
    case 'latency': {
      const breakdown: Breakdown | undefined =
        ref.scope === 'all'
          ? { jobs: result.jobs, latency: result.latency }
          : ref.scope === 'tube'
            ? result.byTube[ref.group!]
            : result.byPriority[ref.group!];
      if (breakdown === undefined) return undefined;
      const h = breakdown.latency[histogramKey[ref.name]];
      return { value: h[ref.stat], jobs: h.count };
    }
  }
}

/** `queue wait p99`, `end to end mean (tube emails)`, `throughput`: for tables. */
export function metricLabel(ref: MetricRef): string {
  if (ref.kind === 'throughput') return 'throughput';
  if (ref.kind === 'completed') return 'completed jobs';
  const name = ref.name === 'queueWait' ? 'queue wait' : 'end to end';
  return `${name} ${ref.stat}${ref.scope === 'all' ? '' : ` (${ref.scope} ${ref.group})`}`;
}
