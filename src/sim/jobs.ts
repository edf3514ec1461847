// What the simulator knows about every job it put, indexed by the model's job id (ids are
// dense, starting at 1). Typed arrays, grown by doubling: a million-job run must not allocate a
// million objects.

/** The simulator's view of a job, which is not always the model's (a hung worker's job is still RESERVED there). */
export const Phase = {
  /** Put, waiting for its first worker (ready or delayed). */
  Queued: 1,
  Running: 2,
  /** Released after a failure, waiting out its backoff. */
  Retrying: 3,
  Buried: 4,
  Done: 5,
  /** Its worker crashed, or finished too late: it will run again once beanstalkd hands it out. */
  Abandoned: 6,
} as const;

export class JobTable {
  capacity = 0;
  phase = new Uint8Array(0);
  /** When the job was due: put time plus its delay. */
  dueUs = new Float64Array(0);
  pri = new Uint32Array(0);
  /** Index of the job's (tube, priority class) group for metrics. */
  group = new Uint16Array(0);
  /** 1 when the job was put after the warm-up and goes into the histograms. */
  measured = new Uint8Array(0);
  executions = new Uint32Array(0);
  retries = new Uint32Array(0);
  duplicated = new Uint8Array(0);
  /** Worker running the job now (meaningful while Running). */
  runner = new Int32Array(0);

  ensure(id: number): void {
    if (id < this.capacity) return;
    let capacity = Math.max(1024, this.capacity);
    while (capacity <= id) capacity *= 2;
    this.phase = grow(this.phase, new Uint8Array(capacity));
    this.dueUs = grow(this.dueUs, new Float64Array(capacity));
    this.pri = grow(this.pri, new Uint32Array(capacity));
    this.group = grow(this.group, new Uint16Array(capacity));
    this.measured = grow(this.measured, new Uint8Array(capacity));
    this.executions = grow(this.executions, new Uint32Array(capacity));
    this.retries = grow(this.retries, new Uint32Array(capacity));
    this.duplicated = grow(this.duplicated, new Uint8Array(capacity));
    this.runner = grow(this.runner, new Int32Array(capacity));
    this.capacity = capacity;
  }
}

function grow<T extends Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
