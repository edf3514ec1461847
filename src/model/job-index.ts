// Jobs by id: an open-addressing hash table (linear probing, backward-shift deletion, so no
// tombstones). A Map<number, Job> under a put/delete stream rehashes its whole backing store
// every few dozen operations, because deleted entries stay in the table until the next rehash;
// at a million puts a second that churn was a large share of the model's time and garbage.
// The key is the job's own id, so a slot holds only the Job.
import type { Job } from './entities.js';

/** 1 KiB: below a few hundred held jobs the table never resizes. */
const MIN_CAPACITY = 256;
/** Fibonacci hashing: consecutive ids (the usual case) land far apart, and so do ids with a common stride. */
const GOLDEN = 0x9e3779b1;

export class JobIndex {
  private slots: Array<Job | undefined> = new Array<Job | undefined>(MIN_CAPACITY).fill(undefined);
  /** 32 - log2(capacity): the hash keeps the top bits of the product. */
  private shift = 32 - Math.log2(MIN_CAPACITY);
  size = 0;

  get(id: number): Job | undefined {
    const slots = this.slots;
    const mask = slots.length - 1;
    for (let i = this.home(id); ; i = (i + 1) & mask) {
      const job = slots[i];
      if (job === undefined || job.id === id) return job;
    }
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  /** Adds a job whose id is not in the index yet. */
  add(job: Job): void {
    // At most half full, so probe runs stay short and a free slot always ends them.
    if (2 * (this.size + 1) > this.slots.length) this.resize(2 * this.slots.length);
    this.place(job);
    this.size++;
  }

  delete(id: number): boolean {
    const slots = this.slots;
    const mask = slots.length - 1;
    let i = this.home(id);
    for (;;) {
      const job = slots[i];
      if (job === undefined) return false;
      if (job.id === id) break;
      i = (i + 1) & mask;
    }
    // Backward shift: pull later members of the probe run into the hole when their home allows.
    let hole = i;
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const job = slots[j];
      if (job === undefined) break;
      const home = this.home(job.id);
      // The job may move to the hole only if the hole lies on its probe path (home .. j, cyclically).
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        slots[hole] = job;
        hole = j;
      }
    }
    slots[hole] = undefined;
    this.size--;
    // Shrink after a burst so a long-running server does not keep its peak table.
    if (this.slots.length > MIN_CAPACITY && 8 * this.size < this.slots.length) this.resize(this.slots.length / 2);
    return true;
  }

  private home(id: number): number {
    // ids beyond 2^32 wrap in imul; they still hash, only with a longer period.
    return Math.imul(id, GOLDEN) >>> this.shift;
  }

  private place(job: Job): void {
    const slots = this.slots;
    const mask = slots.length - 1;
    let i = this.home(job.id);
    while (slots[i] !== undefined) i = (i + 1) & mask;
    slots[i] = job;
  }

  private resize(capacity: number): void {
    const old = this.slots;
    this.slots = new Array<Job | undefined>(capacity).fill(undefined);
    this.shift = 32 - Math.log2(capacity);
    for (const job of old) if (job !== undefined) this.place(job);
  }
}
