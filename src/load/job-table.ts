// Where the job tracker keeps what it knows about each job: typed arrays (one field per array,
// grown by doubling), because a closed-loop run puts hundreds of thousands of jobs a second and
// must not allocate an object per job. Job ids are the server's business: beanstalkd's grow by
// one from where `stats total-jobs` says, but a server restarted on a binlog, a proxy in front of
// several servers or a server with ids of its own may answer any id. So ids map to slots two
// ways: a dense table indexed by id minus an origin, for ids near the ones seen so far (the fast
// path, no hashing), and a sparse table behind a Map for any other id (an id below the origin, or
// far above everything seen, such as 4000000001). Every id is tracked either way.

export class JobTable {
  capacity = 0;
  flags = new Uint8Array(0);
  group = new Uint16Array(0);
  dueUs = new Float64Array(0);
  ttrUs = new Float64Array(0);
  /** Worker index + 1 holding the job now; 0 when nobody does. */
  holder = new Int32Array(0);
  heldSinceUs = new Float64Array(0);
  executions = new Uint16Array(0);
  /** Releases after a failure so far: the next backoff and when to bury instead. */
  retryCounts = new Uint16Array(0);

  /** Makes room for index i (and more: doubling keeps the total copying linear). */
  grow(i: number): void {
    let capacity = Math.max(4096, this.capacity);
    while (capacity <= i) capacity *= 2;
    const grown = <T extends Uint8Array | Uint16Array | Int32Array | Float64Array>(from: T, to: T): T => {
      to.set(from);
      return to;
    };
    this.flags = grown(this.flags, new Uint8Array(capacity));
    this.group = grown(this.group, new Uint16Array(capacity));
    this.dueUs = grown(this.dueUs, new Float64Array(capacity));
    this.ttrUs = grown(this.ttrUs, new Float64Array(capacity));
    this.holder = grown(this.holder, new Int32Array(capacity));
    this.heldSinceUs = grown(this.heldSinceUs, new Float64Array(capacity));
    this.executions = grown(this.executions, new Uint16Array(capacity));
    this.retryCounts = grown(this.retryCounts, new Uint16Array(capacity));
    this.capacity = capacity;
  }

  /** Forgets the job in slot i, for an id the server gave again to a new job. */
  clear(i: number): void {
    this.flags[i] = 0;
    this.holder[i] = 0;
    this.heldSinceUs[i] = 0;
    this.executions[i] = 0;
    this.retryCounts[i] = 0;
  }
}

/** The dense table never jumps further ahead than this many slots past what it holds, or 2x. */
const MIN_DENSE_REACH = 1 << 16;
/** Ids a little below the first one seen still go dense: replies on different connections interleave. */
const ORIGIN_SLACK = 1024;

/**
 * Id to (table, index). `locate` returns an index into `dense` (>= 0) or the complement (~k) of
 * an index into `sparse`; both tables have the same fields.
 */
export class JobIndex {
  readonly dense = new JobTable();
  readonly sparse = new JobTable();
  /** The id that dense slot 0 stands for; set from the first id seen, the hint until then. */
  private origin: number;
  private placed = false;
  /** The highest dense index in use; -1 while none is. */
  highest = -1;
  private readonly sparseSlots = new Map<number, number>();
  /** Ids of the sparse table, by slot. */
  readonly sparseIds: number[] = [];

  /** `expectedFirstId`: the id the server is expected to give first (beanstalkd: total-jobs + 1). */
  constructor(expectedFirstId: number) {
    this.origin = expectedFirstId;
  }

  locate(id: number): number {
    if (this.sparseSlots.size !== 0) {
      const k = this.sparseSlots.get(id);
      if (k !== undefined) return ~k;
    }
    let i = id - this.origin;
    if (!this.placed && (i < 0 || i >= MIN_DENSE_REACH)) {
      // The hint was wrong (the server numbers its jobs its own way): start where the ids are.
      this.origin = Math.max(0, id - ORIGIN_SLACK);
      i = id - this.origin;
    }
    this.placed = true;
    if (i >= 0 && i < this.dense.capacity) {
      if (i > this.highest) this.highest = i;
      return i;
    }
    if (i >= 0 && i < Math.max(MIN_DENSE_REACH, 2 * this.dense.capacity)) {
      this.dense.grow(i);
      if (i > this.highest) this.highest = i;
      return i;
    }
    const k = this.sparseIds.length;
    if (k >= this.sparse.capacity) this.sparse.grow(k);
    this.sparseSlots.set(id, k);
    this.sparseIds.push(id);
    return ~k;
  }

  /** The id of dense slot i. */
  denseId(i: number): number {
    return this.origin + i;
  }
}
