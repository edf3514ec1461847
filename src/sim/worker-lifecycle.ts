// The worker side, per worker: building the pools from the scenario, connecting (watch, ignore,
// first reserve), and crashing, hung or disconnected, then restarting on a fresh connection. Apart
// from workers.ts because none of it runs per job, only at start and on the rare crash.
import { createServiceTime } from '../scenario/service.js';
import { US, ZERO_US } from './event-queue.js';
import { Phase } from './jobs.js';
import { EV_RESTART, EV_WORKER_START, type SimState } from './state.js';
import { dispatch, request, reserve, type Pool, type Worker } from './workers.js';

export function startWorkers(state: SimState): void {
  for (const spec of state.scenario.workers) {
    const defaultService = createServiceTime(spec.service);
    const pool: Pool = {
      watch: spec.watch,
      serviceByTube: state.tubes.map((tube) => {
        const byTube = spec.serviceByTube?.[tube];
        return byTube ? createServiceTime(byTube) : defaultService;
      }),
      failure: spec.failure,
      crash: spec.crash,
      touchUs: spec.touchEverySeconds === undefined ? 0 : Math.round(spec.touchEverySeconds * US),
    };
    for (let i = 0; i < spec.count; i++) {
      const index = state.workers.length;
      state.workers.push({ pool, conn: -1, job: 0, epoch: 0, startUs: ZERO_US, endUs: ZERO_US, fails: false });
      state.queue.push(Math.round(spec.startSeconds * US), EV_WORKER_START, index, 0);
    }
  }
}

export function connectWorker(state: SimState, index: number): void {
  const worker = state.workers[index];
  const conn = state.model.connect(state.nowUs);
  worker.conn = conn;
  state.workerOfConn[conn] = index;
  for (const tube of worker.pool.watch) request(state, conn, { kind: 'watch', tube }, 'WATCHING');
  if (!worker.pool.watch.includes('default')) request(state, conn, { kind: 'ignore', tube: 'default' }, 'WATCHING');
  reserve(state, index);
}

export function crash(state: SimState, index: number): void {
  const worker = state.workers[index];
  const crashSpec = worker.pool.crash!;
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
