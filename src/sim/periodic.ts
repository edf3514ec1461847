// The two clients that act on a fixed interval rather than per job: kickers, which put buried jobs
// back into their tube, and the observer, which samples every tube's depths into the queue series.
// Neither is on the per-job path; they only need the shared state and the request helper.
import { readDepths } from './server-stats.js';
import { US } from './event-queue.js';
import { EV_KICK, EV_SAMPLE, type SimState } from './state.js';
import { request } from './workers.js';

export function startKickers(state: SimState): void {
  state.scenario.kickers.forEach((spec, index) => {
    const conn = state.model.connect(0);
    if (spec.tube !== 'default') request(state, conn, { kind: 'use', tube: spec.tube }, 'USING');
    state.kickerConns.push(conn);
    state.queue.push(Math.round(spec.startSeconds * US), EV_KICK, index, 0);
  });
}

export function kick(state: SimState, index: number): void {
  const spec = state.scenario.kickers[index];
  const reply = request(state, state.kickerConns[index], { kind: 'kick', bound: spec.bound }, 'KICKED');
  state.kicked += reply.kind === 'KICKED' ? (reply.count ?? 0) : 0;
  state.queue.push(state.nowUs + Math.round(spec.everySeconds * US), EV_KICK, index, 0);
}

export function sample(state: SimState): void {
  const now = state.nowUs;
  state.countSinceLastSample();
  // Every job lives in one of the scenario's tubes, so the tubes' depths sum to the server's;
  // stats-tube is much cheaper for the model to format than the full stats document.
  const total = { ready: 0, reserved: 0, delayed: 0, buried: 0 };
  state.tubes.forEach((tube, i) => {
    // A tube nobody refers to has been garbage-collected: NOT_FOUND means all zeros.
    const depths = readDepths(request(state, state.observer, { kind: 'stats-tube', tube }, 'OK', 'NOT_FOUND'));
    state.tubeSeries[i].sample(now, depths);
    total.ready += depths.ready;
    total.reserved += depths.reserved;
    total.delayed += depths.delayed;
    total.buried += depths.buried;
  });
  state.series.sample(now, total);
  // The step widens when the buckets do, so the next sample lands on the new grid.
  const stepUs = state.sampleStepUs();
  state.queue.push((Math.floor(now / stepUs) + 1) * stepUs, EV_SAMPLE, 0, 0);
}
