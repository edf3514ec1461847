// `sim --paranoid`: the model's own invariant checks (src/model/invariants.ts, an O(n) recount of
// every structure) and the simulator's bookkeeping held against the model, every N events. Slow
// by design; it only reads, so a paranoid run gives the same result, byte for byte, as a plain one.
import { Phase } from './jobs.js';
import { SimulationError } from './replies.js';
import type { SimState } from './state.js';

export function checkSimulation(state: SimState): void {
  const fail = (message: string): never => {
    throw new SimulationError(`invariant broken at ${state.nowUs} µs: ${message}`);
  };
  try {
    state.model.checkInvariants();
  } catch (error) {
    fail((error as Error).message);
  }
  if (state.queue.peekTimeUs() < state.nowUs) fail(`an event is due at ${state.queue.peekTimeUs()} µs, in the past`);

  let completed = 0;
  for (const group of state.groups) completed += group.completed;
  if (state.liveJobs + state.buriedJobs + completed !== state.totalPut) {
    fail(`live ${state.liveJobs} + buried ${state.buriedJobs} + completed ${completed} jobs != ${state.totalPut} put`);
  }
  // Every job the simulator put is in the model until its delete; a done one is not.
  const jobs = state.jobs;
  let held = 0;
  for (let id = 1; id < jobs.capacity; id++) {
    const phase = jobs.phase[id];
    if (phase === 0) continue;
    const inModel = state.model.job(id) !== undefined;
    if (phase === Phase.Done) {
      if (inModel) fail(`job ${id} is done but still in the model`);
      continue;
    }
    if (!inModel) fail(`job ${id} (phase ${phase}) is gone from the model`);
    held++;
    if (phase === Phase.Running && state.workers[jobs.runner[id]].job !== id) {
      fail(`job ${id} runs on worker ${jobs.runner[id]}, which holds job ${state.workers[jobs.runner[id]].job}`);
    }
  }
  if (held !== state.model.jobCount()) fail(`the model holds ${state.model.jobCount()} jobs, the simulator knows of ${held}`);
}
