// The worker side, per job: a worker reserves, and for each job it gets takes its pool's next
// decision (src/workload): works that long while touching a long job, then deletes it, or on
// failure releases it with backoff or buries it, or dies part-way. With a round trip, what a
// worker sends reaches the server a request leg later and a RESERVED reaches the worker a reply
// leg after the server sent it. Requests to the model go through here too, because any request
// may hand a job to a waiting worker: a RESERVED reply is routed to its worker. Connecting,
// crashing and restarting are in worker-lifecycle.ts.
import type { ConnId, Output } from '../model/api.js';
import type { Reply, Request } from '../protocol/types.js';
import { failureAction, type WorkDecision } from '../workload/index.js';
import { Phase } from './jobs.js';
import { replyTo, unexpected } from './replies.js';
import { EV_CRASH, EV_DELIVER, EV_SERVICE_END, EV_TOUCH, type SimState } from './state.js';

const RESERVE: Request = Object.freeze({ kind: 'reserve' });

export interface Worker {
  /** Index of the worker's pool in the scenario (and of its decision stream). */
  pool: number;
  conn: ConnId;
  /** The job being worked on, 0 when idle or crashed. */
  job: number;
  /** Bumped per job and per crash, so events of an earlier job are recognised as stale. */
  epoch: number;
  /** When the job reached the worker, and when its work ends (the service time, or the crash). */
  startUs: number;
  endUs: number;
  /** When the worker sends its next touch. */
  touchAtUs: number;
  /** This job's decision from the pool's stream (one object per worker, reused). */
  decision: WorkDecision;
  /** A RESERVED on its way to the worker (with a round trip): the job's id. */
  inbound: number;
}

export function reserve(state: SimState, index: number): void {
  // RESERVED comes back now if a job is ready, or later from another request or a tick.
  dispatch(state, state.model.apply(state.workers[index].conn, RESERVE, state.nowUs));
}

/** A job reaches its worker: record its wait, draw the pool's next decision, schedule its end. */
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

  const decision = state.poolStreams[worker.pool].next(group.tube, worker.decision);
  worker.job = id;
  worker.epoch++;
  worker.startUs = now;
  // A real worker's timer fires late (serviceLateUs, when validate measured it); an instant job has no timer.
  const endUs = now + decision.workUs + (decision.workUs > 0 ? state.serviceLateUs : 0);
  worker.endUs = endUs;
  // What the worker sends at endUs (delete, release or bury, and the next reserve; or the close of
  // a dead process) reaches the server the request leg later.
  state.queue.push(endUs + state.requestLegUs, decision.crashes ? EV_CRASH : EV_SERVICE_END, index, worker.epoch);
  const touchUs = state.workload.pools[worker.pool].touchUs;
  if (touchUs > 0 && now + touchUs < endUs) {
    worker.touchAtUs = now + touchUs;
    state.queue.push(worker.touchAtUs + state.requestLegUs, EV_TOUCH, index, worker.epoch);
  }
}

/** The worker's outcome reaches the server (or gets its turn there): delete, release or bury, then reserve. */
export function finishJob(state: SimState, index: number, hasSlot: boolean): void {
  const worker = state.workers[index];
  if (state.wire && !hasSlot && !state.takeSlot(EV_SERVICE_END, index, worker.epoch, 2)) return;
  const now = state.nowUs;
  const id = worker.job;
  const jobs = state.jobs;
  const group = state.groups[jobs.group[id]];
  const measured = jobs.measured[id] === 1;
  state.replyAtUs = now + state.commandCostUs;
  // The worker reads the answer a reply leg after the server sends it: that ends the attempt.
  const answeredUs = state.replyAtUs + state.replyLegUs;
  if (measured) group.serviceUs.record(answeredUs - worker.startUs);
  worker.job = 0;
  if (!worker.decision.fails) {
    const reply = request(state, worker.conn, { kind: 'delete', id }, 'DELETED', 'NOT_FOUND');
    if (reply.kind === 'DELETED') {
      jobs.phase[id] = Phase.Done;
      state.removeLive();
      group.completed++;
      state.totalCompleted++;
      if (measured) group.endToEndUs.record(Math.max(0, answeredUs - jobs.dueUs[id]));
    } else {
      finishedLate(state, id, index);
    }
  } else {
    fail(state, index, id);
  }
  // The reserve went out with the outcome, right behind it.
  state.replyAtUs = now + 2 * state.commandCostUs;
  reserve(state, index);
}

function fail(state: SimState, index: number, id: number): void {
  const worker = state.workers[index];
  const jobs = state.jobs;
  const action = failureAction(state.workload.pools[worker.pool].spec.failure!, jobs.retries[id]);
  if (action.kind === 'release') {
    const release: Request = { kind: 'release', id, pri: jobs.pri[id], delaySeconds: action.delaySeconds };
    const reply = request(state, worker.conn, release, 'RELEASED', 'NOT_FOUND');
    if (reply.kind !== 'RELEASED') return finishedLate(state, id, index);
    jobs.retries[id]++;
    state.retries++;
    jobs.phase[id] = Phase.Retrying;
    return;
  }
  const reply = request(state, worker.conn, { kind: 'bury', id, pri: jobs.pri[id] }, 'BURIED', 'NOT_FOUND');
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

export function touch(state: SimState, index: number, hasSlot: boolean): void {
  const worker = state.workers[index];
  if (state.wire && !hasSlot && !state.takeSlot(EV_TOUCH, index, worker.epoch, 1)) return;
  // NOT_FOUND: the TTR already ran out; the worker does not notice until it finishes.
  request(state, worker.conn, { kind: 'touch', id: worker.job }, 'TOUCHED', 'NOT_FOUND');
  const nextUs = worker.touchAtUs + state.workload.pools[worker.pool].touchUs;
  if (nextUs < worker.endUs) {
    worker.touchAtUs = nextUs;
    state.queue.push(nextUs + state.requestLegUs, EV_TOUCH, index, worker.epoch);
  }
}

/** A RESERVED reaches its worker, a reply leg after the server sent it. */
export function deliver(state: SimState, index: number): void {
  onReserved(state, index, state.workers[index].inbound);
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
    if (reply.kind === 'RESERVED') {
      if (!state.wire) {
        onReserved(state, index, reply.id);
      } else {
        const worker = state.workers[index];
        worker.inbound = reply.id;
        state.queue.push(state.replyAtUs + state.replyLegUs, EV_DELIVER, index, worker.epoch);
      }
    } else if (reply.kind === 'DEADLINE_SOON' || reply.kind === 'TIMED_OUT') throw unexpected('reserve', reply);
  }
}
