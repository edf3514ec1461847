// The worker side, per worker: building the pools from the scenario, connecting (watch, ignore,
// first reserve), and crashing, hung or disconnected, then restarting on a fresh connection. Apart
// from workers.ts because none of it runs per job, only at start and on the rare crash.
import { US, ZERO_US } from './event-queue.js';
import { Phase } from './jobs.js';
import { EV_RESTART, EV_WORKER_START, type SimState } from './state.js';
import { dispatch, request, reserve, type Worker } from './workers.js';

export function startWorkers(state: SimState): void {
  state.scenario.workers.forEach((spec, pool) => {
    for (let i = 0; i < spec.count; i++) {
      const index = state.workers.length;
      state.workers.push({
        pool,
        conn: -1,
        job: 0,
        epoch: 0,
        startUs: ZERO_US,
        endUs: ZERO_US,
        touchAtUs: ZERO_US,
        decision: { index: 0, serviceUs: ZERO_US, crashes: false, workUs: ZERO_US, fails: false },
        inbound: 0,
      });
      state.queue.push(Math.round(spec.startSeconds * US), EV_WORKER_START, index, 0);
    }
  });
}

export function connectWorker(state: SimState, index: number): void {
  const worker = state.workers[index];
  const conn = state.model.connect(state.nowUs);
  worker.conn = conn;
  state.workerOfConn[conn] = index;
  const watch = state.scenario.workers[worker.pool].watch;
  for (const tube of watch) request(state, conn, { kind: 'watch', tube }, 'WATCHING');
  if (!watch.includes('default')) request(state, conn, { kind: 'ignore', tube: 'default' }, 'WATCHING');
  reserve(state, index);
}

export function crash(state: SimState, index: number): void {
  const worker = state.workers[index];
  const crashSpec = state.scenario.workers[worker.pool].crash!;
  const id = worker.job;
  state.crashes++;
  worker.job = 0;
  worker.epoch++;
  if (state.jobs.runner[id] === index && state.jobs.phase[id] === Phase.Running) state.jobs.phase[id] = Phase.Abandoned;
  // A dead process's socket closes at once; a hung one holds its job until the TTR or a restart.
  if (crashSpec.mode === 'disconnect') closeWorkerConnection(state, worker);
  state.queue.push(state.nowUs + Math.round(crashSpec.restartSeconds * US), EV_RESTART, index, 0);
}

export function restart(state: SimState, index: number): void {
  const worker = state.workers[index];
  if (worker.conn >= 0) closeWorkerConnection(state, worker);
  connectWorker(state, index);
}

function closeWorkerConnection(state: SimState, worker: Worker): void {
  const conn = worker.conn;
  state.workerOfConn[conn] = undefined;
  worker.conn = -1;
  dispatch(state, state.model.disconnect(conn, state.nowUs));
}
