// Building the run's result once the simulation is over: the model's own counters and final job
// states, handed to the one result assembler (src/metrics/assemble.ts) with the per-group
// histograms, the queue series and the producing window. Runs once per simulation.
import type { Request } from '../protocol/types.js';
import { assembleRunResult, breakdowns, eventCounts } from '../metrics/assemble.js';
import type { RunResult } from '../metrics/result.js';
import { Phase } from './jobs.js';
import { replyTo } from './replies.js';
import { readCounter } from './server-stats.js';
import type { SimState } from './state.js';

const STATS: Request = Object.freeze({ kind: 'stats' });

export function buildResult(state: SimState): RunResult {
  const endUs = state.nowUs;
  state.countSinceLastSample();
  const statsReply = state.model.apply(state.observer, STATS, endUs);
  const ttrExpiries = readCounter(replyTo(statsReply, state.observer), 'job-timeouts');
  const seriesByTube: RunResult['queue']['byTube'] = {};
  state.tubes.forEach((tube, t) => {
    seriesByTube[tube] = state.tubeSeries[t].depths();
  });
  // Producers still going at the end (a run cut by maxDurationSeconds) produced all along.
  const producingUs = state.producingEndUs ?? endUs;
  return assembleRunResult({
    kind: 'sim',
    scenario: state.scenario,
    seed: state.seed,
    durationUs: endUs,
    drainUs: (state.drainedUs ?? endUs) - state.peakBacklogUs,
    breakdowns: breakdowns(state.groups, state.tubes, state.classNames, finalFates(state)),
    events: eventCounts(state, ttrExpiries),
    producingUs,
    completedWhileProducing: state.producingEndUs === undefined ? state.totalCompleted : state.completedWhileProducing,
    queue: { all: state.series.depths(), byTube: seriesByTube },
    rates: state.series.rates(),
  });
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
