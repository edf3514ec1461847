// The producer side: one simulated client per scenario producer, putting the jobs its workload
// stream decides (src/workload: when, with which priority, delay and body) until the stream ends
// or the scenario's job count is reached. A put reaches the server the request leg of the round
// trip after its intended time, and waits there for its turn when the server is busy. Every put is
// recorded in the job table before its replies are dispatched, since a waiting worker may reserve
// the job at once.
import type { ConnId } from '../model/api.js';
import type { Request } from '../protocol/types.js';
import { producerStream, type ProducerStream, type PutDecision } from '../workload/index.js';
import { Phase } from './jobs.js';
import { replyTo, unexpected } from './replies.js';
import { US, ZERO_US } from './event-queue.js';
import { EV_ARRIVAL, type SimState } from './state.js';
import { dispatch, request } from './workers.js';

export interface Producer {
  conn: ConnId;
  stream: ProducerStream;
  /** The put whose arrival event is in the queue. */
  next: PutDecision | undefined;
  /** Two decision objects used in turn: the one being put and the next one drawn meanwhile. */
  spare: PutDecision;
  /** Puts that reached a busy server, in arrival order, waiting for their turn. */
  waiting: PutDecision[];
  active: boolean;
}

export function startProducers(state: SimState): void {
  state.scenario.producers.forEach((spec, index) => {
    const conn = state.model.connect(0);
    if (spec.tube !== 'default') request(state, conn, { kind: 'use', tube: spec.tube }, 'USING');
    const producer: Producer = {
      conn,
      stream: producerStream(state.workload, index, state.seed, { observer: state.decisionObserver }),
      next: undefined,
      spare: emptyDecision(),
      waiting: [],
      active: true,
    };
    state.producers.push(producer);
    state.producersActive++;
    scheduleArrival(state, producer, index);
  });
}

function emptyDecision(): PutDecision {
  // Times as doubles from the start (-0): see ZERO_US in event-queue.ts.
  return { index: 0, atUs: ZERO_US, pri: 0, classIndex: 0, group: 0, baseDelaySeconds: 0, delaySeconds: 0, bodyBytes: 0, ttrSeconds: 0 };
}

function scheduleArrival(state: SimState, producer: Producer, index: number): void {
  // The decision being put (producer.next, if any) stays intact: the next one goes into the spare.
  const into = producer.spare;
  const decision = producer.stream.next(into);
  if (decision !== undefined) producer.spare = producer.next ?? emptyDecision();
  producer.next = decision;
  if (decision === undefined) {
    stopProducer(state, producer);
    return;
  }
  state.queue.push(decision.atUs + state.requestLegUs, EV_ARRIVAL, index, 0);
}

function stopProducer(state: SimState, producer: Producer): void {
  if (!producer.active) return;
  producer.active = false;
  if (--state.producersActive === 0) {
    // The end of the producing window, over which the result's rates are (as a real run's).
    state.producingEndUs = state.nowUs;
    state.completedWhileProducing = state.totalCompleted;
  }
}

/** A put reaches the server (hasSlot false), or its turn at a busy server comes (true). */
export function arrive(state: SimState, index: number, hasSlot: boolean): void {
  const producer = state.producers[index];
  let decision: PutDecision;
  if (hasSlot) {
    decision = producer.waiting.shift()!;
    state.putsWaiting--;
  } else {
    if (!producer.active) return;
    decision = producer.next!;
    // The scenario's job count bounds what the producers send, as a real producer counts.
    const jobsBound = state.scenario.jobs;
    if (jobsBound !== undefined && ++state.putsSent >= jobsBound) {
      for (const p of state.producers) stopProducer(state, p);
    } else {
      // The producer sends its next put on its own schedule, whatever the server is doing.
      scheduleArrival(state, producer, index);
    }
    if (state.wire && !state.takeSlot(EV_ARRIVAL, index, 0, 1)) {
      // Queued behind a busy server while later decisions reuse the objects: keep a copy.
      producer.waiting.push({ ...decision });
      state.putsWaiting++;
      return;
    }
  }
  put(state, producer, decision);
}

function put(state: SimState, producer: Producer, decision: PutDecision): void {
  const now = state.nowUs;
  state.replyAtUs = now + state.commandCostUs;
  const request: Request = {
    kind: 'put',
    pri: decision.pri,
    delaySeconds: decision.delaySeconds,
    ttrSeconds: decision.ttrSeconds,
    body: state.bodies.body(decision.bodyBytes),
  };
  const outputs = state.model.apply(producer.conn, request, now);
  const inserted = replyTo(outputs, producer.conn);
  if (inserted?.kind !== 'INSERTED') throw unexpected('put', inserted);
  const id = inserted.id;
  const jobs = state.jobs;
  jobs.ensure(id);
  jobs.phase[id] = Phase.Queued;
  // Due from when the producer meant to send it, as a real producer's clock says (the open loop).
  const dueUs = decision.atUs + decision.delaySeconds * US;
  jobs.dueUs[id] = dueUs;
  jobs.pri[id] = decision.pri;
  jobs.group[id] = decision.group;
  jobs.measured[id] = decision.atUs >= state.warmupUs ? 1 : 0;
  state.groups[decision.group].put++;
  state.addLive();
  state.totalPut++;
  // Only now that the job is on record may a waiting worker's RESERVED for it be handled.
  dispatch(state, outputs);
}
