// The worker side, per job: a worker reserves, works for a sampled service time while touching a
// long job, then deletes it, or on failure releases it with backoff or buries it. Requests to the
// model go through here too, because any request may hand a job to a waiting worker: a RESERVED
// reply is routed to its worker. Connecting, crashing and restarting are in worker-lifecycle.ts.
import type { ConnId, Output } from '../model/api.js';
import type { Reply, Request } from '../protocol/types.js';
import type { Scenario } from '../scenario/schema.js';
import { backoffSeconds, type ServiceTimeSampler } from '../scenario/service.js';
import { Phase } from './jobs.js';
import { replyTo, unexpected } from './replies.js';
import { EV_CRASH, EV_SERVICE_END, EV_TOUCH, type SimState } from './state.js';

const RESERVE: Request = Object.freeze({ kind: 'reserve' });

export interface Pool {
  watch: readonly string[];
  /** Service time per tube index, for pools whose tubes take different work. */
  serviceByTube: ServiceTimeSampler[];
  failure: Scenario['workers'][number]['failure'];
  crash: Scenario['workers'][number]['crash'];
  touchUs: number;
}

export interface Worker {
  pool: Pool;
  conn: ConnId;
  /** The job being worked on, 0 when idle or crashed. */
  job: number;
  /** Bumped per job and per crash, so events of an earlier job are recognised as stale. */
  epoch: number;
  startUs: number;
  endUs: number;
  fails: boolean;
}

export function reserve(state: SimState, index: number): void {
  // RESERVED comes back now if a job is ready, or later from another request or a tick.
  dispatch(state, state.model.apply(state.workers[index].conn, RESERVE, state.nowUs));
}

function onReserved(state: SimState, index: number, id: number): void {
  const now = state.nowUs;
  const jobs = state.jobs;
  const worker = state.workers[index];
  const group = state.groups[jobs.group[id]];
  const phase = jobs.phase[id];
  if (phase === Phase.Running || phase === Phase.Abandoned) {
    // An earlier execution is still going, or died: this one repeats work.
    state.duplicateExecutions++;
    if (jobs.duplicated[id] === 0) {
      jobs.duplicated[id] = 1;
      group.duplicated++;
    }
  } else if (phase === Phase.Buried) {
    state.buriedJobs--;
    state.addLive();
  }
  if (jobs.executions[id] === 0 && jobs.measured[id] === 1) {
    // A kick can make a delayed job ready before it was due.
    group.queueWaitUs.record(Math.max(0, now - jobs.dueUs[id]));
  }
  jobs.executions[id]++;
  jobs.phase[id] = Phase.Running;
  jobs.runner[id] = index;

  const random = state.random;
  const pool = worker.pool;
  const serviceUs = pool.serviceByTube[group.tube](random);
  worker.job = id;
  worker.epoch++;
  worker.startUs = now;
  let stopUs: number;
  if (pool.crash !== undefined && random.uniform() < pool.crash.probability) {
    stopUs = now + Math.floor(random.uniform() * serviceUs);
    state.queue.push(stopUs, EV_CRASH, index, worker.epoch);
  } else {
    stopUs = now + serviceUs;
    worker.fails = pool.failure !== undefined && random.uniform() < pool.failure.probability;
    state.queue.push(stopUs, EV_SERVICE_END, index, worker.epoch);
  }
  worker.endUs = stopUs;
  if (pool.touchUs > 0 && now + pool.touchUs < stopUs) state.queue.push(now + pool.touchUs, EV_TOUCH, index, worker.epoch);
}

export function finishJob(state: SimState, index: number): void {
  const now = state.nowUs;
  const worker = state.workers[index];
  const id = worker.job;
  const jobs = state.jobs;
  const group = state.groups[jobs.group[id]];
  const measured = jobs.measured[id] === 1;
  if (measured) group.serviceUs.record(now - worker.startUs);
  worker.job = 0;
  if (!worker.fails) {
    const reply = request(state, worker.conn, { kind: 'delete', id }, 'DELETED', 'NOT_FOUND');
    if (reply.kind === 'DELETED') {
      jobs.phase[id] = Phase.Done;
      state.removeLive();
      group.completed++;
      if (measured) group.endToEndUs.record(Math.max(0, now - jobs.dueUs[id]));
    } else {
      finishedLate(state, id, index);
    }
  } else {
    fail(state, index, id);
  }
  reserve(state, index);
}

function fail(state: SimState, index: number, id: number): void {
  const failure = state.workers[index].pool.failure!;
  const jobs = state.jobs;
  if (failure.policy === 'retry' && jobs.retries[id] < failure.maxRetries) {
    const delaySeconds = backoffSeconds(jobs.retries[id], failure.backoffSeconds, failure.backoffFactor, failure.maxBackoffSeconds);
    const release: Request = { kind: 'release', id, pri: jobs.pri[id], delaySeconds };
    const reply = request(state, state.workers[index].conn, release, 'RELEASED', 'NOT_FOUND');
    if (reply.kind !== 'RELEASED') return finishedLate(state, id, index);
    jobs.retries[id]++;
    state.retries++;
    jobs.phase[id] = Phase.Retrying;
    return;
  }
  const reply = request(state, state.workers[index].conn, { kind: 'bury', id, pri: jobs.pri[id] }, 'BURIED', 'NOT_FOUND');
  if (reply.kind !== 'BURIED') return finishedLate(state, id, index);
  jobs.phase[id] = Phase.Buried;
  state.removeLive();
  state.buriedJobs++;
}

/** The worker finished after its TTR had expired: beanstalkd has taken the job back. */
function finishedLate(state: SimState, id: number, index: number): void {
  state.lateCompletions++;
  if (state.jobs.runner[id] === index && state.jobs.phase[id] === Phase.Running) state.jobs.phase[id] = Phase.Abandoned;
}

export function touch(state: SimState, index: number): void {
  const worker = state.workers[index];
  // NOT_FOUND: the TTR already ran out; the worker does not notice until it finishes.
  request(state, worker.conn, { kind: 'touch', id: worker.job }, 'TOUCHED', 'NOT_FOUND');
  const nextUs = state.nowUs + worker.pool.touchUs;
  if (nextUs < worker.endUs) state.queue.push(nextUs, EV_TOUCH, index, worker.epoch);
}

// ---- talking to the model ------------------------------------------------------------------

/** Applies a request and returns its own reply, which must be `expected` or `orElse`. */
export function request(state: SimState, conn: ConnId, req: Request, expected: Reply['kind'], orElse?: Reply['kind']): Reply {
  const outputs = state.model.apply(conn, req, state.nowUs);
  const reply = replyTo(outputs, conn);
  if (reply === undefined || (reply.kind !== expected && reply.kind !== orElse)) throw unexpected(req.kind, reply);
  dispatch(state, outputs);
  return reply;
}

/** Hands RESERVED replies to the workers that were waiting; everything else is the requester's. */
export function dispatch(state: SimState, outputs: Output[]): void {
  for (let i = 0; i < outputs.length; i++) {
    const output = outputs[i];
    // Producers' and the observer's replies are theirs alone: skip them before looking inside.
    const index = state.workerOfConn[output.conn];
    if (index === undefined || !('reply' in output)) continue;
    const reply = output.reply;
    if (reply.kind === 'RESERVED') onReserved(state, index, reply.id);
    else if (reply.kind === 'DEADLINE_SOON' || reply.kind === 'TIMED_OUT') throw unexpected('reserve', reply);
  }
}
