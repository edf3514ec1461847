// The property harness's deadline arithmetic, as pure functions of the model's deadlines and
// "now" (microseconds since the run started). The driver (harness.ts) reads the clock and
// sleeps; these decide how long and what runs next. Every margin here was tuned against real
// races (git log -- src/conformance/properties/harness.ts): the real server has exactly one
// right answer only when no observation falls within TIMING_MARGIN_US of a deadline the model
// knows (semantics h.5) and no two deadlines whose order matters are closer than
// EVENT_SEPARATION_US.
import { US_PER_SECOND as US } from '../../units.js';
import type { Op } from './ops.js';

/** No observation within this distance of a model deadline (the 250 ms rule). */
export const TIMING_MARGIN_US = 250_000;
/** Where the harness sleeps to once a deadline is too close: past it by the margin and a bit. */
export const PAST_DEADLINE_US = 270_000;
/** `advance` never sleeps longer than this. */
export const MAX_ADVANCE_MS = 3500;
/** What `advance` waits when the model has no deadline at all. */
const ADVANCE_IDLE_US = 300_000;
/**
 * Two timed events whose order matters must be this far apart. Every duration is whole
 * seconds, so a step creates deadlines at now + k s: steps that can create one are sent at a
 * sub-second phase at least this far from every live deadline's (beanstalkd's jitter is < 5 ms, b.3).
 */
export const EVENT_SEPARATION_US = 120_000;
/** Deadlines further ahead than this cannot meet one a step creates now. */
export const PHASE_HORIZON_US = 7_000_000;
/** Steps that may create a deadline (directly, or by handing a job to a waiting reserver). */
const CREATES_DEADLINES = new Set<Op['op']>([
  'put', 'reserve', 'reserve-with-timeout', 'reserve-job', 'release', 'touch', 'pause-tube', 'kick', 'kick-job', 'close', 'quit',
]);

export function createsDeadlines(op: Op): boolean {
  return CREATES_DEADLINES.has(op.op);
}

/**
 * Deadlines a step creates that the model API does not show as a job's: a reserve timeout's
 * end and a pause's end, sent at `nowUs`.
 */
export function stepDeadlinesUs(op: Op, nowUs: number): number[] {
  if (op.op === 'reserve-with-timeout' && op.seconds > 0) return [nowUs + op.seconds * US];
  if (op.op === 'pause-tube') return [nowUs + op.delay * US];
  return [];
}

/** Where `advance` lets time pass to: just past the next model deadline, bounded by MAX_ADVANCE_MS. */
export function advanceUntilUs(nowUs: number, nextDeadlineUs: number | undefined): number {
  const untilUs = nextDeadlineUs === undefined ? nowUs + ADVANCE_IDLE_US : nextDeadlineUs + PAST_DEADLINE_US;
  return Math.min(untilUs, nowUs + MAX_ADVANCE_MS * 1000);
}

export interface TimeState {
  nowUs: number;
  /** Where passTime was asked to let time pass to. */
  untilUs: number;
  /** The model's next deadline (job deadlines and its own timers). */
  dueUs: number | undefined;
  /** The latest deadline the model ran inside a command rather than in passTime. */
  lastDeadlineRunUs: number;
  /** Whether a deadline is the TTR expiry of a job whose owner is not waiting (beanstalkd 1.12 is late on those). */
  idleTtrExpiry: (dueUs: number) => boolean;
}

/** What passTime does next: one move of its loop. */
export type TimeMove =
  /** Sleep this long and look again (a deadline is within the margin of now). */
  | { kind: 'sleep'; us: number }
  /** The sequence reached a deadline the real server does not answer deterministically. */
  | { kind: 'unpredictable' }
  /** The deadline is a margin in the past: the model runs it and its replies are checked. */
  | { kind: 'run-deadline'; dueUs: number }
  /** Sleep this long, then look for replies the model does not expect (a margin before a deadline, or the end). */
  | { kind: 'look'; us: number }
  /** `untilUs` is reached and no deadline is within the margin. */
  | { kind: 'done' };

/**
 * One move of passTime: lets time pass until `untilUs`, and at least until no model deadline is
 * within the margin of now. Model events run once their deadline is a margin in the past; just
 * before each deadline (a margin ahead of it) the driver looks for replies the model does not
 * expect yet, so a server that acts too early is caught too.
 */
export function nextTimeMove(s: TimeState): TimeMove {
  const { nowUs, untilUs, dueUs: due } = s;
  // A deadline the model ran inside a command (one sent while time ran on, opening a
  // connection) still needs its margin: the server may not have reached it yet.
  if (nowUs - s.lastDeadlineRunUs < TIMING_MARGIN_US) return { kind: 'sleep', us: s.lastDeadlineRunUs + PAST_DEADLINE_US - nowUs };
  if (due !== undefined && due <= nowUs + TIMING_MARGIN_US && s.idleTtrExpiry(due)) return { kind: 'unpredictable' };
  // Replies of later events may already be here (their deadline is past but not yet a margin
  // ago), so strays are only looked for at the 'look' stops.
  if (due !== undefined && due <= nowUs - TIMING_MARGIN_US) return { kind: 'run-deadline', dueUs: due };
  if (due !== undefined && Math.abs(nowUs - due) < TIMING_MARGIN_US) return { kind: 'sleep', us: due + PAST_DEADLINE_US - nowUs };
  if (nowUs >= untilUs) return { kind: 'done' };
  // Here due is undefined or at least a margin ahead.
  const stopUs = due === undefined ? untilUs : Math.min(untilUs, due - TIMING_MARGIN_US);
  return { kind: 'look', us: stopUs - nowUs };
}

/** A job deadline as the phase rule needs it. */
export interface JobDeadline {
  state: string;
  deadlineUs: number;
}

/** The deadlines a step sent now could meet: within PHASE_HORIZON_US (job deadlines: a second more). */
export function liveDeadlinesUs(nowUs: number, otherDeadlinesUs: readonly number[], jobs: readonly JobDeadline[]): number[] {
  const horizonUs = nowUs + PHASE_HORIZON_US;
  const deadlines = otherDeadlinesUs.filter((d) => d > nowUs && d < horizonUs);
  for (const job of jobs) {
    if ((job.state === 'reserved' || job.state === 'delayed') && job.deadlineUs > nowUs && job.deadlineUs < horizonUs + US) {
      deadlines.push(job.deadlineUs);
    }
  }
  return deadlines;
}

/**
 * How long to wait for a sub-second phase at least EVENT_SEPARATION_US from every live
 * deadline's: 0 when now is such a phase, undefined when no phase is (deadlines all around the
 * clock: no instant orders a new deadline unambiguously).
 */
export function phaseWaitUs(nowUs: number, liveUs: readonly number[]): number | undefined {
  const phases = liveUs.map((d) => d % US);
  const safe = (phase: number) => phases.every((p) => circularDistance(p, phase) >= EVENT_SEPARATION_US);
  if (safe(nowUs % US)) return 0;
  for (let offset = 10_000; offset < US; offset += 10_000) {
    if (safe((nowUs + offset + 5_000) % US) && safe((nowUs + offset + 15_000) % US)) return offset + 10_000;
  }
  return undefined;
}

function circularDistance(a: number, b: number): number {
  const d = Math.abs(a - b) % US;
  return Math.min(d, US - d);
}
