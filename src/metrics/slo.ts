// Service-level objectives checked against a finished result. The shapes mirror the scenario
// schema's `slos` entries (metrics imports nothing of ours, so they are restated here and the
// scenario's parsed values fit them structurally).
import type { HistogramSummary } from './histogram.js';
import type { Breakdown, RunResult, SloOutcome } from './result.js';

export type LatencyStat = 'mean' | 'p50' | 'p90' | 'p99' | 'p999' | 'max';

export type SloSpec =
  | {
      name?: string;
      metric: 'queueWait' | 'service' | 'endToEnd';
      stat: LatencyStat;
      tube?: string;
      priority?: string;
      maxSeconds: number;
    }
  | {
      name?: string;
      metric: 'buried' | 'lost' | 'duplicated' | 'remaining' | 'retries' | 'ttrExpiries';
      tube?: string;
      max: number;
    }
  | { name?: string; metric: 'jobsPerSecond'; min: number }
  | { name?: string; metric: 'drainSeconds'; maxSeconds: number };

type Measured = Omit<RunResult, 'slo' | 'pass'>;

const latencyKey = { queueWait: 'queueWaitUs', service: 'serviceUs', endToEnd: 'endToEndUs' } as const;

export function evaluateSlos(result: Measured, slos: readonly SloSpec[]): SloOutcome[] {
  return slos.map((slo) => evaluate(result, slo));
}

function evaluate(result: Measured, slo: SloSpec): SloOutcome {
  switch (slo.metric) {
    case 'queueWait':
    case 'service':
    case 'endToEnd': {
      const scope = scopeOf(result, slo.tube, slo.priority);
      const histogram: HistogramSummary | undefined = scope?.latency[latencyKey[slo.metric]];
      const actual = histogram && histogram.count > 0 ? histogram[slo.stat] / 1e6 : null;
      const where = describeScope(slo.tube, slo.priority);
      const name = slo.name ?? `${slo.stat} ${slo.metric}${where} <= ${slo.maxSeconds} s`;
      // Jobs that never finished have no latency to record; an undrained backlog must not
      // look fast just because only the lucky jobs were measured.
      if (scope && scope.jobs.remaining > 0) return { name, pass: false, actual, limit: slo.maxSeconds, unit: 'seconds' };
      return outcome(name, actual, slo.maxSeconds, 'seconds', 'max');
    }
    case 'buried':
    case 'lost':
    case 'duplicated':
    case 'remaining': {
      const jobs = slo.tube === undefined ? result.jobs : result.byTube[slo.tube]?.jobs;
      const actual = jobs ? jobs[slo.metric] : null;
      return outcome(slo.name ?? `${slo.metric} jobs${describeScope(slo.tube)} <= ${slo.max}`, actual, slo.max, 'jobs', 'max');
    }
    case 'retries':
    case 'ttrExpiries':
      return outcome(slo.name ?? `${slo.metric} <= ${slo.max}`, result.events[slo.metric], slo.max, 'jobs', 'max');
    case 'jobsPerSecond':
      return outcome(slo.name ?? `throughput >= ${slo.min} jobs/s`, result.throughput.jobsPerSecond, slo.min, 'jobs/s', 'min');
    case 'drainSeconds':
      return outcome(slo.name ?? `drain <= ${slo.maxSeconds} s`, result.drainUs / 1e6, slo.maxSeconds, 'seconds', 'max');
  }
}

function scopeOf(result: Measured, tube?: string, priority?: string): Breakdown | undefined {
  if (tube !== undefined) return result.byTube[tube];
  if (priority !== undefined) return result.byPriority[priority];
  return { jobs: result.jobs, latency: result.latency };
}

function describeScope(tube?: string, priority?: string): string {
  if (tube !== undefined) return ` on tube ${tube}`;
  if (priority !== undefined) return ` for ${priority} jobs`;
  return '';
}

/** Nothing measured passes: an SLO on a class that had no jobs constrains nothing. */
function outcome(name: string, actual: number | null, limit: number, unit: SloOutcome['unit'], bound: 'max' | 'min'): SloOutcome {
  const pass = actual === null || (bound === 'max' ? actual <= limit : actual >= limit);
  return { name, pass, actual, limit, unit };
}
