// The producer side: one simulated client per scenario producer, putting jobs into its tube at the
// times its arrival process draws, each with a sampled priority, delay and body, until its stop
// time, its own job count or the scenario's job count. Every put is recorded in the job table
// before its replies are dispatched, since a waiting worker may reserve the job at once.
import type { ConnId } from '../model/api.js';
import type { Request } from '../protocol/types.js';
import { createArrivals, type ArrivalProcess } from '../scenario/arrivals.js';
import type { PriorityPicker } from '../scenario/priorities.js';
import type { Random } from '../scenario/random.js';
import { Phase } from './jobs.js';
import { bodySizeSampler, delaySampler } from './put-samplers.js';
import { replyTo, unexpected } from './replies.js';
import { US } from './event-queue.js';
import { EV_ARRIVAL, type SimState } from './state.js';
import { dispatch, request } from './workers.js';

export interface Producer {
  conn: ConnId;
  tube: number;
  arrivals: ArrivalProcess;
  stopUs: number;
  limit: number;
  put: number;
  active: boolean;
  priority: PriorityPicker;
  bodyBytes: (random: Random) => number;
  delaySeconds: (random: Random, nowUs: number) => number;
  ttrSeconds: number;
}

export function startProducers(state: SimState, pickers: PriorityPicker[]): void {
  const scenario = state.scenario;
  const durationUs = scenario.durationSeconds === undefined ? Infinity : scenario.durationSeconds * US;
  scenario.producers.forEach((spec, index) => {
    const conn = state.model.connect(0);
    if (spec.tube !== 'default') request(state, conn, { kind: 'use', tube: spec.tube }, 'USING');
    const producer: Producer = {
      conn,
      tube: state.tubes.indexOf(spec.tube),
      arrivals: createArrivals(spec.arrival, spec.startSeconds, state.random),
      stopUs: Math.min(durationUs, spec.stopSeconds === undefined ? Infinity : spec.stopSeconds * US),
      limit: spec.jobs ?? Infinity,
      put: 0,
      active: true,
      priority: pickers[index],
      bodyBytes: bodySizeSampler(spec.bodyBytes),
      delaySeconds: delaySampler(spec.delaySeconds, spec.runAt),
      ttrSeconds: spec.ttrSeconds,
    };
    state.producers.push(producer);
    state.producersActive++;
    scheduleArrival(state, producer, index);
  });
}

function scheduleArrival(state: SimState, producer: Producer, index: number): void {
  const atSeconds = producer.put < producer.limit ? producer.arrivals.next() : undefined;
  const atUs = atSeconds === undefined ? Infinity : Math.round(atSeconds * US);
  if (atUs >= producer.stopUs) {
    stopProducer(state, producer);
    return;
  }
  state.queue.push(atUs, EV_ARRIVAL, index, 0);
}

function stopProducer(state: SimState, producer: Producer): void {
  if (!producer.active) return;
  producer.active = false;
  state.producersActive--;
}

export function arrive(state: SimState, index: number): void {
  const producer = state.producers[index];
  if (!producer.active) return;
  const now = state.nowUs;
  const random = state.random;
  const choice = producer.priority(random);
  const delaySeconds = producer.delaySeconds(random, now);
  const put: Request = {
    kind: 'put',
    pri: choice.pri,
    delaySeconds,
    ttrSeconds: producer.ttrSeconds,
    body: state.bodies.body(producer.bodyBytes(random)),
  };
  const outputs = state.model.apply(producer.conn, put, now);
  const inserted = replyTo(outputs, producer.conn);
  if (inserted?.kind !== 'INSERTED') throw unexpected('put', inserted);
  const id = inserted.id;
  const jobs = state.jobs;
  jobs.ensure(id);
  jobs.phase[id] = Phase.Queued;
  jobs.dueUs[id] = now + delaySeconds * US;
  jobs.pri[id] = choice.pri;
  const group = producer.tube * state.classNames.length + choice.classIndex;
  jobs.group[id] = group;
  jobs.measured[id] = now >= state.warmupUs ? 1 : 0;
  state.groups[group].put++;
  state.addLive();
  state.totalPut++;
  producer.put++;
  // Only now that the job is on record may a waiting worker's RESERVED for it be handled.
  dispatch(state, outputs);
  if (state.scenario.jobs !== undefined && state.totalPut >= state.scenario.jobs) {
    for (const p of state.producers) stopProducer(state, p);
    return;
  }
  scheduleArrival(state, producer, index);
}
