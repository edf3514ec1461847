// One request from one connection, as prot.c's dispatch_cmd handles it (docs/semantics.md a.1-a.16).
// The parser has already applied every syntax rule; what is left is state and counters.
import type { Reply, Request } from '../protocol/types.js';
import type { RestoredJob } from './api.js';
import type { ModelCore } from './core.js';
import { DEADLINE_SOON, US_PER_SECOND } from './core.js';
import type { Conn, InFlightPut, Tube } from './entities.js';
import { BURIED, DELAYED, Job, RESERVED } from './entities.js';
import { jobStatsBody, statsBody, tubeListBody, tubeStatsBody } from './stats.js';

// Replies without data are shared; nothing downstream mutates a Reply.
const word = (kind: Reply['kind']): Reply => Object.freeze({ kind }) as Reply;
const NOT_FOUND = word('NOT_FOUND');
const DELETED = word('DELETED');
const RELEASED = word('RELEASED');
const BURIED_REPLY = word('BURIED');
const TOUCHED = word('TOUCHED');
const NOT_IGNORED = word('NOT_IGNORED');
const PAUSED = word('PAUSED');
const KICKED_JOB = word('KICKED');
const BAD_FORMAT = word('BAD_FORMAT');
const UNKNOWN_COMMAND = word('UNKNOWN_COMMAND');
const JOB_TOO_BIG = word('JOB_TOO_BIG');
const EXPECTED_CRLF = word('EXPECTED_CRLF');
const DRAINING = word('DRAINING');

/** Returns true when the connection is to be closed (quit). */
export function dispatch(core: ModelCore, conn: Conn, request: Request): boolean {
  const cmd = core.cmd;
  switch (request.kind) {
    case 'put': {
      // After a put-begin, cmd-put, the producer and the id were done at the line; the age counts from it.
      const begun = conn.inFlight;
      if (begun === null) {
        cmd.put++;
        core.setProducer(conn);
      } else {
        core.endInFlight(begun);
      }
      const id = begun === null ? core.nextJobId++ : begun.id;
      if (core.draining) {
        core.reply(conn, DRAINING);
        break;
      }
      const tube = conn.use;
      const job = new Job(
        id,
        tube,
        request.pri,
        request.delaySeconds,
        request.ttrSeconds === 0 ? 1 : request.ttrSeconds,
        begun === null ? core.clockUs : begun.createdUs,
        core.storeBody(request.body),
      );
      core.jobs.add(job);
      tube.jobs++;
      tube.totalJobs++;
      core.totalJobs++;
      core.reply(conn, { kind: 'INSERTED', id });
      core.enqueue(job, request.delaySeconds);
      break;
    }
    case 'reserve':
      cmd.reserve++;
      reserve(core, conn, -1);
      break;
    case 'reserve-with-timeout':
      cmd['reserve-with-timeout']++;
      reserve(core, conn, request.timeoutSeconds);
      break;
    case 'reserve-job': {
      // Not counted; ignores watch list and pause; never DEADLINE_SOON (a.4).
      const job = core.jobs.get(request.id);
      if (job === undefined || job.state === RESERVED) return notFound(core, conn);
      core.detach(job);
      core.setWorker(conn);
      core.reserve(conn, job);
      break;
    }
    case 'delete': {
      cmd.delete++;
      const job = core.jobs.get(request.id);
      if (job === undefined || (job.state === RESERVED && job.owner !== conn)) return notFound(core, conn);
      core.detach(job);
      core.jobs.delete(job.id);
      job.retire();
      const tube = job.tube;
      tube.jobs--;
      tube.cmdDelete++;
      core.reply(conn, DELETED);
      core.maybeDropTube(tube);
      break;
    }
    case 'release': {
      cmd.release++;
      const job = ownReservation(core, conn, request.id);
      if (job === undefined) return notFound(core, conn);
      core.unreserve(job);
      job.pri = request.pri;
      job.delaySeconds = request.delaySeconds;
      job.counters.releases++;
      core.reply(conn, RELEASED);
      core.enqueue(job, request.delaySeconds);
      break;
    }
    case 'bury': {
      cmd.bury++;
      const job = ownReservation(core, conn, request.id);
      if (job === undefined) return notFound(core, conn);
      core.unreserve(job);
      job.pri = request.pri;
      job.counters.buries++;
      core.addBuried(job);
      core.reply(conn, BURIED_REPLY);
      break;
    }
    case 'touch': {
      cmd.touch++;
      const job = ownReservation(core, conn, request.id);
      if (job === undefined) return notFound(core, conn);
      job.deadlineUs = core.clockUs + job.ttrSeconds * US_PER_SECOND;
      conn.reservedByDeadline.update(job);
      core.syncConnTimer(conn);
      core.reply(conn, TOUCHED);
      break;
    }
    case 'use': {
      cmd.use++;
      const tube = core.findOrMakeTube(request.tube);
      const previous = conn.use;
      if (tube !== previous) {
        previous.using--;
        conn.use = tube;
        tube.using++;
        core.maybeDropTube(previous);
      }
      core.reply(conn, { kind: 'USING', tube: tube.name });
      break;
    }
    case 'watch': {
      cmd.watch++;
      const tube = core.findOrMakeTube(request.tube);
      if (!conn.watch.includes(tube)) {
        conn.watch.push(tube);
        conn.waitPos.push(-1);
        tube.watching++;
      }
      core.reply(conn, { kind: 'WATCHING', count: conn.watch.length });
      break;
    }
    case 'ignore':
      cmd.ignore++;
      ignore(core, conn, request.tube);
      break;
    case 'peek': {
      cmd.peek++;
      const job = core.jobs.get(request.id);
      if (job !== undefined) found(core, conn, job);
      else peekInFlight(core, conn, core.inFlight.get(request.id));
      break;
    }
    case 'peek-ready':
      cmd['peek-ready']++;
      found(core, conn, conn.use.ready.peek());
      break;
    case 'peek-delayed':
      cmd['peek-delayed']++;
      found(core, conn, conn.use.delayed.peek());
      break;
    case 'peek-buried':
      cmd['peek-buried']++;
      found(core, conn, conn.use.buried.head ?? undefined);
      break;
    case 'kick':
      cmd.kick++;
      kick(core, conn, request.bound);
      break;
    case 'kick-job': {
      // Not counted in cmd-kick (a.12).
      const job = core.jobs.get(request.id);
      if (job === undefined || (job.state !== BURIED && job.state !== DELAYED)) return notFound(core, conn);
      core.reply(conn, KICKED_JOB);
      core.detach(job);
      job.counters.kicks++;
      core.makeReady(job);
      break;
    }
    case 'stats-job': {
      cmd['stats-job']++;
      const job = core.jobs.get(request.id) ?? core.inFlight.get(request.id);
      if (job === undefined) return notFound(core, conn);
      core.reply(conn, { kind: 'OK', body: jobStatsBody(core, job) });
      break;
    }
    case 'stats-tube': {
      cmd['stats-tube']++;
      const tube = core.tubesByName.get(request.tube);
      if (tube === undefined) return notFound(core, conn);
      core.reply(conn, { kind: 'OK', body: tubeStatsBody(core, tube) });
      break;
    }
    case 'stats':
      cmd.stats++;
      core.reply(conn, { kind: 'OK', body: statsBody(core) });
      break;
    case 'list-tubes':
      cmd['list-tubes']++;
      core.reply(conn, { kind: 'OK', body: tubeListBody(core.tubeList) });
      break;
    case 'list-tube-used':
      cmd['list-tube-used']++;
      core.reply(conn, { kind: 'USING', tube: conn.use.name });
      break;
    case 'list-tubes-watched':
      cmd['list-tubes-watched']++;
      core.reply(conn, { kind: 'OK', body: tubeListBody(conn.watch) });
      break;
    case 'pause-tube': {
      // Counted globally even when the tube does not exist; per tube only on success (a.15).
      cmd['pause-tube']++;
      const tube = core.tubesByName.get(request.tube);
      if (tube === undefined) return notFound(core, conn);
      tube.cmdPauseTube++;
      // A zero delay ends at once (beanstalkd stores 1 ns): the caller's due-event pass unpauses it.
      core.pause(tube, request.delaySeconds);
      core.reply(conn, PAUSED);
      break;
    }
    case 'quit':
      return true;
    case 'error':
      if (request.counts !== undefined) cmd[request.counts]++;
      core.reply(conn, request.reply === 'BAD_FORMAT' ? BAD_FORMAT : UNKNOWN_COMMAND);
      break;
    case 'put-begin':
      cmd.put++;
      core.setProducer(conn);
      core.beginInFlight(conn, request.pri, request.delaySeconds, request.ttrSeconds, request.body, request.trailer);
      break;
    case 'put-too-big-begin':
      cmd.put++;
      conn.tooBigPutCounted = true;
      break;
    case 'put-too-big':
      if (conn.tooBigPutCounted) conn.tooBigPutCounted = false;
      else cmd.put++;
      core.reply(conn, JOB_TOO_BIG);
      break;
    case 'put-expected-crlf':
      if (conn.inFlight !== null) {
        core.endInFlight(conn.inFlight); // its id stays used
      } else {
        cmd.put++;
        core.setProducer(conn);
        core.nextJobId++;
      }
      core.reply(conn, EXPECTED_CRLF);
      break;
    default: {
      const unknown: never = request;
      throw new Error(`unknown request ${JSON.stringify(unknown)}`);
    }
  }
  return false;
}

function notFound(core: ModelCore, conn: Conn): false {
  core.reply(conn, NOT_FOUND);
  return false;
}

function ownReservation(core: ModelCore, conn: Conn, id: number): Job | undefined {
  const job = core.jobs.get(id);
  return job !== undefined && job.state === RESERVED && job.owner === conn ? job : undefined;
}

function found(core: ModelCore, conn: Conn, job: Job | undefined): void {
  if (job === undefined) notFound(core, conn);
  else core.reply(conn, { kind: 'FOUND', id: job.id, body: core.bodyBytes(job) });
}

/**
 * peek of a put still in flight: beanstalkd sends the job's stored body + 2 bytes as they are
 * now, received bytes and zeros (probe 93), so the CR LF slot goes out as received too.
 * Copies, because the parser keeps filling those buffers.
 */
function peekInFlight(core: ModelCore, conn: Conn, put: InFlightPut | undefined): void {
  if (put === undefined) notFound(core, conn);
  else core.reply(conn, { kind: 'FOUND', id: put.id, body: new Uint8Array(put.body), trailer: new Uint8Array(put.trailer) });
}

/** reserve / reserve-with-timeout (a.3); timeoutSeconds < 0 waits forever. */
function reserve(core: ModelCore, conn: Conn, timeoutSeconds: number): void {
  core.setWorker(conn);
  // Paused tubes' ready jobs count as "ready" here even though they cannot be reserved.
  if (core.deadlineSoon(conn) && !core.watchesReadyJob(conn)) {
    core.reply(conn, DEADLINE_SOON);
    return;
  }
  core.startWaiting(conn, timeoutSeconds >= 0 ? core.clockUs + timeoutSeconds * US_PER_SECOND : -1);
  core.processTubes(conn.watch);
  // Still waiting with a timeout of 0, or inside the margin because the only ready jobs are in
  // paused tubes: the caller's due-event pass answers TIMED_OUT / DEADLINE_SOON at this instant.
}

function ignore(core: ModelCore, conn: Conn, name: string): void {
  const watch = conn.watch;
  const index = watch.findIndex((t: Tube) => t.name === name);
  if (index >= 0) {
    if (watch.length < 2) {
      core.reply(conn, NOT_IGNORED);
      return;
    }
    const tube = watch[index];
    // ms_remove: the last watched tube takes the removed one's slot.
    const last = watch.pop() as Tube;
    conn.waitPos.pop();
    if (index < watch.length) watch[index] = last;
    tube.watching--;
    core.maybeDropTube(tube);
  }
  core.reply(conn, { kind: 'WATCHING', count: watch.length });
}

/** kick <bound> on the used tube: buried jobs only if there are any, else delayed ones (a.11). */
function kick(core: ModelCore, conn: Conn, bound: number): void {
  const tube = conn.use;
  const output = { conn: conn.id, reply: { kind: 'KICKED', count: 0 } as Reply };
  // The KICKED reply goes first even though waiters served by the kicked jobs are answered meanwhile.
  core.out.push(output);
  let kicked = 0;
  if (tube.buried.size > 0) {
    for (; kicked < bound && tube.buried.head !== null; kicked++) {
      const job = tube.buried.head;
      core.removeBuried(job);
      job.counters.kicks++;
      core.makeReady(job);
    }
  } else {
    for (; kicked < bound && tube.delayed.size > 0; kicked++) {
      const job = tube.delayed.peek() as Job;
      core.removeDelayed(job);
      job.counters.kicks++;
      core.makeReady(job);
    }
  }
  output.reply = { kind: 'KICKED', count: kicked };
}

/**
 * Places a job replayed from a binlog (times already on the core's axis) the way put, bury or
 * a delayed release placed it, minus what a restart resets: no total-jobs, no cmd-* counts.
 */
export function restore(core: ModelCore, restored: RestoredJob): void {
  const tube = core.findOrMakeTube(restored.tube);
  const job = new Job(restored.id, tube, restored.pri, restored.delaySeconds, restored.ttrSeconds, restored.createdUs, core.storeBody(restored.body));
  const { reserves, timeouts, releases, buries, kicks } = restored.counters;
  job.reserves = reserves;
  // Only touch the lazily allocated counters when there is something to keep.
  if (timeouts + releases + buries + kicks > 0) Object.assign(job.counters, { timeouts, releases, buries, kicks });
  core.jobs.add(job);
  tube.jobs++;
  if (restored.id >= core.nextJobId) core.nextJobId = restored.id + 1;
  if (restored.state === 'buried') core.addBuried(job);
  else if (restored.state === 'delayed' && restored.readyAtUs > core.clockUs) core.addDelayedUntil(job, restored.readyAtUs);
  else core.makeReady(job);
}
