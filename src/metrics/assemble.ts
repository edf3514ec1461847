// The one result assembler: what the simulator (virtual clock) and the load runner (real clock)
// collected, laid out as the run's result. Both keep per-group histograms and counts, the same
// event counters and the same notion of the producing window; only where the figures come from
// differs (the model's counters and final states, or the final audit). Pure.
import { LatencyHistogram } from './histogram.js';
import {
  RESULT_VERSION,
  sumJobCounts,
  type Breakdown,
  type EventCounts,
  type GroupFates,
  type JobGroup,
  type RunResult,
} from './result.js';
import { evaluateSlos, type SloSpec } from './slo.js';

/** The counters both interpreters keep while a run goes (the server's TTR expiries come apart). */
export interface EventTallies {
  retries: number;
  duplicateExecutions: number;
  lateCompletions: number;
  crashes: number;
  kicked: number;
}

export function eventCounts(tallies: EventTallies, ttrExpiries: number): EventCounts {
  return {
    retries: tallies.retries,
    ttrExpiries,
    duplicateExecutions: tallies.duplicateExecutions,
    lateCompletions: tallies.lateCompletions,
    crashes: tallies.crashes,
    kicked: tallies.kicked,
  };
}

/** A group as either side collects it: the load runner's also have the put round trip. */
export type CollectedGroup = JobGroup & { putUs?: LatencyHistogram };

export interface Breakdowns {
  all: Breakdown;
  byTube: Record<string, Breakdown>;
  byPriority: Record<string, Breakdown>;
}

/**
 * The whole run, per tube and per priority class. With one tube or one priority class those cover
 * the same groups as the whole run: summarising a histogram (rebuild, encode, compress) is the
 * expensive part, so each distinct set of groups is summarised once and copied.
 */
export function breakdowns<G extends CollectedGroup>(groups: readonly G[], tubes: readonly string[], classNames: readonly string[], fates: GroupFates): Breakdowns {
  const withPut = groups.some((g) => g.putUs !== undefined);
  const summarised = new Map<string, Breakdown>();
  const breakdown = (members: G[]): Breakdown => {
    const key = members.map((g) => groups.indexOf(g)).join(',');
    const known = summarised.get(key);
    if (known !== undefined) return structuredClone(known);
    const queueWaitUs = new LatencyHistogram();
    const serviceUs = new LatencyHistogram();
    const endToEndUs = new LatencyHistogram();
    const putUs = new LatencyHistogram();
    for (const g of members) {
      queueWaitUs.add(g.queueWaitUs);
      serviceUs.add(g.serviceUs);
      endToEndUs.add(g.endToEndUs);
      if (g.putUs) putUs.add(g.putUs);
    }
    const computed: Breakdown = {
      jobs: sumJobCounts(members, groups, fates),
      latency: {
        queueWaitUs: queueWaitUs.summary(),
        serviceUs: serviceUs.summary(),
        endToEndUs: endToEndUs.summary(),
        ...(withPut ? { putUs: putUs.summary() } : {}),
      },
    };
    summarised.set(key, computed);
    return computed;
  };
  const all = breakdown([...groups]);
  const byTube: Record<string, Breakdown> = {};
  tubes.forEach((tube, t) => (byTube[tube] = breakdown(groups.filter((g) => g.tube === t))));
  const byPriority: Record<string, Breakdown> = {};
  classNames.forEach((name, c) => (byPriority[name] = breakdown(groups.filter((g) => g.priorityClass === c))));
  return { all, byTube, byPriority };
}

/** Per second over a span of microseconds, to three decimals; 0 over an empty span. */
export function perSecond(count: number, spanUs: number): number {
  return spanUs <= 0 ? 0 : round3((count * 1e6) / spanUs);
}

export function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

export interface RunParts {
  kind: RunResult['kind'];
  scenario: { name: string; slos: readonly SloSpec[] };
  seed: number;
  durationUs: number;
  drainUs: number;
  breakdowns: Breakdowns;
  events: EventCounts;
  /**
   * The producing window: from the start until the producers finished (their streams ended, or
   * the scenario's job count), and the jobs completed by then. Both rates are over it, on both
   * clocks: the drain after it swings with retry backoff and hung workers' TTRs.
   */
  producingUs: number;
  completedWhileProducing: number;
  queue: RunResult['queue'];
  rates?: RunResult['rates'];
}

/** The result, its SLOs evaluated; `sound` (the load runner's audit) must hold too for a pass. */
export function assembleRunResult(parts: RunParts, sound = true): RunResult {
  const { all, byTube, byPriority } = parts.breakdowns;
  const measured: Omit<RunResult, 'slo' | 'pass'> = {
    kind: parts.kind,
    version: RESULT_VERSION,
    scenario: parts.scenario.name,
    seed: parts.seed,
    clock: parts.kind === 'sim' ? 'virtual' : 'real',
    durationUs: Math.round(parts.durationUs),
    drainUs: Math.round(Math.max(0, parts.drainUs)),
    jobs: all.jobs,
    events: parts.events,
    throughput: {
      jobsPerSecond: perSecond(parts.completedWhileProducing, parts.producingUs),
      putsPerSecond: perSecond(all.jobs.put, parts.producingUs),
    },
    latency: all.latency,
    byTube,
    byPriority,
    queue: parts.queue,
    ...(parts.rates ? { rates: parts.rates } : {}),
  };
  const slo = evaluateSlos(measured, parts.scenario.slos);
  return { ...measured, slo, pass: sound && slo.every((s) => s.pass) };
}
