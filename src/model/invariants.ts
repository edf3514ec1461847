// Recounts the whole model from scratch and compares with the incremental state. Slow (O(n)),
// for tests and property runs only.
import { URGENT_PRIORITY_LIMIT } from '../protocol/types.js';
import type { ModelCore } from './core.js';
import { SAFETY_MARGIN_US } from './core.js';
import type { Conn, Job, JobList, Tube } from './entities.js';
import { BURIED, DELAYED, READY, RESERVED } from './entities.js';
import type { IndexedHeap, JobHeap } from './heap.js';

function check(condition: boolean, message: () => string): void {
  if (!condition) throw new Error(`model invariant broken: ${message()}`);
}

function checkJobHeap(heap: JobHeap, what: string): void {
  heap.items.forEach((job, i) => {
    check(job.heapIndex === i, () => `${what}: job ${job.id} at ${i} records heapIndex ${job.heapIndex}`);
    if (i > 0) {
      const parent = heap.items[(i - 1) >> 1];
      check(!heap.less(job, parent), () => `${what}: job ${job.id} is above its parent ${parent.id}`);
    }
  });
}

function checkIndexedHeap<T>(heap: IndexedHeap<T>, what: string): void {
  heap.items.forEach((item, i) => {
    check(heap.has(item) && heap.items.indexOf(item) === i, () => `${what}: position ${i} is stale`);
    if (i > 0) check(!heap.less(item, heap.items[(i - 1) >> 1]), () => `${what}: item at ${i} is above its parent`);
  });
}

function listJobs(list: JobList, what: string): Job[] {
  const jobs: Job[] = [];
  let prev: Job | null = null;
  for (let job = list.head; job !== null; job = job.next) {
    check(job.prev === prev, () => `${what}: broken prev link at job ${job.id}`);
    jobs.push(job);
    prev = job;
    check(jobs.length <= list.size, () => `${what}: longer than its size ${list.size}`);
  }
  check(list.tail === prev, () => `${what}: tail is not the last job`);
  check(jobs.length === list.size, () => `${what}: size ${list.size} but ${jobs.length} linked`);
  return jobs;
}

interface TubeRecount {
  urgent: number;
  reserved: number;
  jobs: number;
  using: number;
  watching: number;
  waiting: number;
}

export function checkCore(core: ModelCore): void {
  const recount = new Map<Tube, TubeRecount>();
  const counts = (tube: Tube): TubeRecount => {
    check(core.tubesByName.get(tube.name) === tube, () => `tube ${tube.name} is referenced but deleted`);
    let entry = recount.get(tube);
    if (!entry) {
      entry = { urgent: 0, reserved: 0, jobs: 0, using: 0, watching: 0, waiting: 0 };
      recount.set(tube, entry);
    }
    return entry;
  };

  // Tubes: list and index agree; every tube is referenced.
  check(core.tubeList.length === core.tubesByName.size, () => 'tube list and tube index differ in size');
  core.tubeList.forEach((tube, i) => {
    check(tube.listIndex === i && core.tubesByName.get(tube.name) === tube, () => `tube ${tube.name} misplaced in the list`);
    counts(tube);
  });
  check(core.tubesByName.get('default') === core.defaultTube, () => 'default tube missing');

  // Jobs: each in exactly the structure of its state.
  let ready = 0, urgent = 0, reserved = 0, delayed = 0, buried = 0;
  const seen = new Set<Job>();
  const place = (job: Job, state: number, where: string): void => {
    check(!seen.has(job), () => `job ${job.id} is in two structures (second: ${where})`);
    seen.add(job);
    check(core.jobs.get(job.id) === job, () => `job ${job.id} in ${where} is not in the job index`);
    check(job.state === state, () => `job ${job.id} in ${where} has state ${job.state}`);
    check(job.id < core.nextJobId, () => `job ${job.id} beyond the next id`);
    check((job.owner !== null) === (state === RESERVED), () => `job ${job.id} owner does not match its state`);
    counts(job.tube).jobs++;
  };
  for (const tube of core.tubeList) {
    checkJobHeap(tube.ready, `${tube.name}.ready`);
    checkJobHeap(tube.delayed, `${tube.name}.delayed`);
    for (const job of tube.ready.items) {
      check(job.tube === tube, () => `job ${job.id} in the wrong tube's ready heap`);
      place(job, READY, `${tube.name}.ready`);
      ready++;
      if (job.pri < URGENT_PRIORITY_LIMIT) {
        urgent++;
        counts(tube).urgent++;
      }
    }
    for (const job of tube.delayed.items) {
      check(job.tube === tube, () => `job ${job.id} in the wrong tube's delay heap`);
      place(job, DELAYED, `${tube.name}.delayed`);
      delayed++;
    }
    for (const job of listJobs(tube.buried, `${tube.name}.buried`)) {
      check(job.tube === tube, () => `job ${job.id} in the wrong tube's buried list`);
      place(job, BURIED, `${tube.name}.buried`);
      buried++;
    }
    check(core.delayTubes.has(tube) === tube.delayed.size > 0, () => `tube ${tube.name} delay timer out of sync`);
    check(core.pausedTubes.has(tube) === tube.paused, () => `tube ${tube.name} pause timer out of sync`);
    if (!tube.paused) check(tube.pauseUs === 0, () => `unpaused tube ${tube.name} shows a pause`);
  }
  for (const conn of core.conns.values()) {
    checkJobHeap(conn.reservedByDeadline, `conn ${conn.id} reservations`);
    const inOrder = listJobs(conn.reservedInOrder, `conn ${conn.id} reservation list`);
    check(inOrder.length === conn.reservedByDeadline.size, () => `conn ${conn.id} reservation heap and list differ`);
    for (const job of inOrder) {
      check(conn.reservedByDeadline.items[job.heapIndex] === job, () => `job ${job.id} in conn ${conn.id}'s list but not its heap`);
      place(job, RESERVED, `conn ${conn.id} reservations`);
      check(job.owner === conn, () => `job ${job.id} owner is not conn ${conn.id}`);
      reserved++;
      counts(job.tube).reserved++;
    }
  }
  check(seen.size === core.jobs.size, () => `${core.jobs.size} jobs indexed but ${seen.size} placed`);

  // Puts in flight: one per sending connection, an id of their own, a reference to the used tube.
  for (const [id, put] of core.inFlight) {
    check(put.id === id, () => `in-flight put ${put.id} indexed as ${id}`);
    check(id < core.nextJobId && !core.jobs.has(id), () => `in-flight put ${id} shares its id or is beyond the next id`);
    check(core.conns.get(put.conn.id) === put.conn && put.conn.inFlight === put, () => `in-flight put ${id} is not its conn's`);
    check(put.tube === put.conn.use, () => `in-flight put ${id} is not in its conn's used tube`);
    check(put.conn.producer && !put.conn.tooBigPutCounted, () => `in-flight put ${id}'s conn is not a plain producer`);
    check(put.ttrSeconds >= 1, () => `in-flight put ${id} has ttr ${put.ttrSeconds}`);
    counts(put.tube).jobs++;
  }
  check(core.readyCount === ready, () => `ready ${core.readyCount} != ${ready}`);
  check(core.urgentCount === urgent, () => `urgent ${core.urgentCount} != ${urgent}`);
  check(core.reservedCount === reserved, () => `reserved ${core.reservedCount} != ${reserved}`);
  check(core.delayedCount === delayed, () => `delayed ${core.delayedCount} != ${delayed}`);
  check(core.buriedCount === buried, () => `buried ${core.buriedCount} != ${buried}`);

  // Connections: use/watch references, waiting sets, timers.
  let waiting = 0, producers = 0, workers = 0;
  for (const conn of core.conns.values()) {
    counts(conn.use).using++;
    check(new Set(conn.watch).size === conn.watch.length && conn.watch.length > 0, () => `conn ${conn.id} watch list invalid`);
    check(conn.waitPos.length === conn.watch.length, () => `conn ${conn.id} waitPos length`);
    conn.watch.forEach((tube, i) => {
      counts(tube).watching++;
      const at = tube.waiting.indexOf(conn);
      if (conn.waiting) {
        check(at === conn.waitPos[i], () => `conn ${conn.id} not at its waitPos in ${tube.name}`);
        counts(tube).waiting++;
      } else {
        check(at < 0, () => `idle conn ${conn.id} in ${tube.name}'s waiting set`);
      }
    });
    if (conn.waiting) waiting++;
    else check(conn.timeoutAtUs === -1, () => `idle conn ${conn.id} has a timeout`);
    if (conn.producer) producers++;
    if (conn.inFlight !== null) {
      check(core.inFlight.get(conn.inFlight.id) === conn.inFlight, () => `conn ${conn.id}'s in-flight put is not indexed`);
      check(!conn.waiting, () => `conn ${conn.id} waits while sending a put body`);
    }
    if (conn.worker) workers++;
    check(conn.tickAtUs === expectedTickAt(conn), () => `conn ${conn.id} timer ${conn.tickAtUs} != ${expectedTickAt(conn)}`);
    check(core.connTimers.has(conn) === (conn.tickAtUs !== Infinity), () => `conn ${conn.id} timer heap membership`);
  }
  check(core.waitingCount === waiting, () => `waiting ${core.waitingCount} != ${waiting}`);
  check(core.producers === producers && core.workers === workers, () => 'producer/worker counts');

  for (const [tube, expected] of recount) {
    const actual: TubeRecount = {
      urgent: tube.urgent,
      reserved: tube.reserved,
      jobs: tube.jobs,
      using: tube.using,
      watching: tube.watching,
      waiting: tube.waiting.length,
    };
    check(JSON.stringify(actual) === JSON.stringify(expected), () => `tube ${tube.name} counts ${JSON.stringify(actual)} != recount ${JSON.stringify(expected)}`);
    check(tube === core.defaultTube || tube.jobs + tube.using + tube.watching > 0, () => `tube ${tube.name} has no references but exists`);
    // After every step, process_queue has nothing left to do.
    check(tube.paused || tube.waiting.length === 0 || tube.ready.size === 0, () => `tube ${tube.name} has waiters and ready jobs`);
  }

  checkIndexedHeap(core.delayTubes, 'delay timers');
  checkIndexedHeap(core.pausedTubes, 'pause timers');
  checkIndexedHeap(core.connTimers, 'conn timers');
  check(core.nextEventUs() > core.clockUs, () => `an event due at ${core.nextEventUs()} was not run by ${core.clockUs}`);
}

function expectedTickAt(conn: Conn): number {
  let at = Infinity;
  const soonest = conn.reservedByDeadline.peek();
  if (soonest) at = soonest.deadlineUs - (conn.waiting ? SAFETY_MARGIN_US : 0);
  if (conn.waiting && conn.timeoutAtUs >= 0) at = Math.min(at, conn.timeoutAtUs);
  return at;
}
