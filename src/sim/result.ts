// Building the run's result once the simulation is over: the model's own counters and final job
// states, the per-group histograms summed into the whole run, per tube and per priority class, the
// queue series, and the SLO verdicts. Runs once per simulation, so it favours clarity over speed,
// except where summarising histograms is expensive.
import type { Request } from '../protocol/types.js';
import { LatencyHistogram } from '../metrics/histogram.js';
import type { Breakdown, RunResult } from '../metrics/result.js';
import { RESULT_VERSION, sumJobCounts } from '../metrics/result.js';
import { evaluateSlos } from '../metrics/slo.js';
import { Phase } from './jobs.js';
import { replyTo } from './replies.js';
import { readCounter } from './server-stats.js';
import { US } from './event-queue.js';
import type { Group, SimState } from './state.js';

const STATS: Request = Object.freeze({ kind: 'stats' });

export function buildResult(state: SimState): RunResult {
  const endUs = state.nowUs;
  state.countSinceLastSample();
  const statsReply = state.model.apply(state.observer, STATS, endUs);
  const ttrExpiries = readCounter(replyTo(statsReply, state.observer), 'job-timeouts');
  const fates = finalFates(state);

  // With one tube or one priority class, the per-tube and per-class breakdowns cover the same
  // groups as the whole run: summarising a histogram (rebuild, encode, compress) is the
  // expensive part, so each distinct set of groups is summarised once and copied.
  const summarised = new Map<string, Breakdown>();
  const breakdown = (members: Group[]): Breakdown => {
    const key = members.map((g) => state.groups.indexOf(g)).join(',');
    const known = summarised.get(key);
    if (known !== undefined) return structuredClone(known);
    const queueWaitUs = new LatencyHistogram();
    const serviceUs = new LatencyHistogram();
    const endToEndUs = new LatencyHistogram();
    for (const g of members) {
      queueWaitUs.add(g.queueWaitUs);
      serviceUs.add(g.serviceUs);
      endToEndUs.add(g.endToEndUs);
    }
    const computed: Breakdown = {
      jobs: sumJobCounts(members, state.groups, fates),
      latency: { queueWaitUs: queueWaitUs.summary(), serviceUs: serviceUs.summary(), endToEndUs: endToEndUs.summary() },
    };
    summarised.set(key, computed);
    return computed;
  };

  const all = breakdown(state.groups);
  const byTube: Record<string, Breakdown> = {};
  state.tubes.forEach((tube, t) => {
    byTube[tube] = breakdown(state.groups.filter((g) => g.tube === t));
  });
  const byPriority: Record<string, Breakdown> = {};
  state.classNames.forEach((name, c) => {
    byPriority[name] = breakdown(state.groups.filter((g) => g.priorityClass === c));
  });
  const seriesByTube: RunResult['queue']['byTube'] = {};
  state.tubes.forEach((tube, t) => {
    seriesByTube[tube] = state.tubeSeries[t].depths();
  });

  const measured: Omit<RunResult, 'slo' | 'pass'> = {
    kind: 'sim',
    version: RESULT_VERSION,
    scenario: state.scenario.name,
    seed: state.seed,
    clock: 'virtual',
    durationUs: endUs,
    drainUs: (state.drainedUs ?? endUs) - state.peakBacklogUs,
    jobs: all.jobs,
    events: {
      retries: state.retries,
      ttrExpiries,
      duplicateExecutions: state.duplicateExecutions,
      lateCompletions: state.lateCompletions,
      crashes: state.crashes,
      kicked: state.kicked,
    },
    throughput: { jobsPerSecond: endUs === 0 ? 0 : round3((all.jobs.completed * US) / endUs) },
    latency: all.latency,
    byTube,
    byPriority,
    queue: { all: state.series.depths(), byTube: seriesByTube },
    rates: state.series.rates(),
  };
  const slo = evaluateSlos(measured, state.scenario.slos);
  return { ...measured, slo, pass: slo.every((s) => s.pass) };
}

/** Where each unfinished job ended up, per group, as the model itself reports it. */
function finalFates(state: SimState): { buried: number[]; lost: number[]; remaining: number[] } {
  const buried = state.groups.map(() => 0);
  const lost = state.groups.map(() => 0);
  const remaining = state.groups.map(() => 0);
  const jobs = state.jobs;
  for (let id = 1; id < jobs.capacity; id++) {
    const phase = jobs.phase[id];
    if (phase === 0 || phase === Phase.Done) continue;
    const view = state.model.job(id);
    const group = jobs.group[id];
    if (view === undefined) lost[group]++;
    else if (view.state === 'buried') buried[group]++;
    else remaining[group]++;
  }
  return { buried, lost, remaining };
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
