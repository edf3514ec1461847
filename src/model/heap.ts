// Indexed binary min-heaps. Every item records its own position so it can be removed or
// re-keyed in O(log n) (beanstalkd's heap.c does the same with `heap_index`).
//
// JobHeap is specialised (no comparator callback) because it sits on the put/reserve/delete
// path; IndexedHeap is the generic one for the few tube and connection timers.
import type { Conn, Job, Tube } from './entities.js';

/** Ready queues order by (pri, id); delay queues and reservations by (deadlineUs, id). */
export class JobHeap {
  readonly items: Job[] = [];

  constructor(readonly byPriority: boolean) {}

  get size(): number {
    return this.items.length;
  }

  peek(): Job | undefined {
    return this.items[0];
  }

  push(job: Job): void {
    const i = this.items.length;
    this.items.push(job);
    job.heapIndex = i;
    this.siftUp(i);
  }

  pop(): Job | undefined {
    const items = this.items;
    if (items.length === 0) return undefined;
    const top = items[0];
    this.removeAt(0);
    return top;
  }

  remove(job: Job): void {
    const i = job.heapIndex;
    if (this.items[i] !== job) throw new Error(`job ${job.id} is not in this heap`);
    this.removeAt(i);
  }

  /** Restores order after the job's key (pri or deadlineUs) changed in place. */
  update(job: Job): void {
    const i = job.heapIndex;
    if (!this.siftUp(i)) this.siftDown(i);
  }

  less(a: Job, b: Job): boolean {
    if (this.byPriority) return a.pri < b.pri || (a.pri === b.pri && a.id < b.id);
    return a.deadlineUs < b.deadlineUs || (a.deadlineUs === b.deadlineUs && a.id < b.id);
  }

  private removeAt(i: number): void {
    const items = this.items;
    const removed = items[i];
    const last = items.pop() as Job;
    removed.heapIndex = -1;
    if (i === items.length) return;
    items[i] = last;
    last.heapIndex = i;
    if (!this.siftUp(i)) this.siftDown(i);
  }

  /** Returns whether the item moved. */
  private siftUp(i: number): boolean {
    const items = this.items;
    const job = items[i];
    const start = i;
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = items[parentIndex];
      if (!this.less(job, parent)) break;
      items[i] = parent;
      parent.heapIndex = i;
      i = parentIndex;
    }
    items[i] = job;
    job.heapIndex = i;
    return i !== start;
  }

  private siftDown(i: number): void {
    const items = this.items;
    const n = items.length;
    const job = items[i];
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && this.less(items[right], items[left]) ? right : left;
      if (!this.less(items[child], job)) break;
      items[i] = items[child];
      items[i].heapIndex = i;
      i = child;
    }
    items[i] = job;
    job.heapIndex = i;
  }
}

/**
 * A min-heap over items that record their own position (tube and connection timers). The order
 * and the position field are methods of a subclass rather than callbacks: each subclass's calls
 * stay monomorphic, so V8 inlines them (the connection timer is touched by every reserve and delete).
 */
export abstract class IndexedHeap<T> {
  readonly items: T[] = [];

  abstract less(a: T, b: T): boolean;
  protected abstract getPos(item: T): number;
  protected abstract setPos(item: T, pos: number): void;

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  has(item: T): boolean {
    const i = this.getPos(item);
    return i >= 0 && this.items[i] === item;
  }

  /** Inserts the item, or restores order if it is already in the heap and its key changed. */
  upsert(item: T): void {
    if (this.has(item)) {
      const i = this.getPos(item);
      if (!this.siftUp(i)) this.siftDown(i);
      return;
    }
    this.items.push(item);
    this.siftUp(this.items.length - 1);
  }

  remove(item: T): void {
    if (!this.has(item)) return;
    const items = this.items;
    const i = this.getPos(item);
    const last = items.pop() as T;
    this.setPos(item, -1);
    if (i === items.length) return;
    items[i] = last;
    this.setPos(last, i);
    if (!this.siftUp(i)) this.siftDown(i);
  }

  private siftUp(i: number): boolean {
    const items = this.items;
    const item = items[i];
    const start = i;
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = items[parentIndex];
      if (!this.less(item, parent)) break;
      items[i] = parent;
      this.setPos(parent, i);
      i = parentIndex;
    }
    items[i] = item;
    this.setPos(item, i);
    return i !== start;
  }

  private siftDown(i: number): void {
    const items = this.items;
    const n = items.length;
    const item = items[i];
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && this.less(items[right], items[left]) ? right : left;
      if (!this.less(items[child], item)) break;
      items[i] = items[child];
      this.setPos(items[i], i);
      i = child;
    }
    items[i] = item;
    this.setPos(item, i);
  }
}

/** Tubes with delayed jobs, by their earliest (ready time, id). */
export class DelayTubeHeap extends IndexedHeap<Tube> {
  less(a: Tube, b: Tube): boolean {
    const x = a.delayed.peek() as Job;
    const y = b.delayed.peek() as Job;
    return x.deadlineUs < y.deadlineUs || (x.deadlineUs === y.deadlineUs && x.id < y.id);
  }

  protected getPos(tube: Tube): number {
    return tube.delayPos;
  }

  protected setPos(tube: Tube, pos: number): void {
    tube.delayPos = pos;
  }
}

/** Paused tubes by (unpause time, creation order). */
export class PausedTubeHeap extends IndexedHeap<Tube> {
  less(a: Tube, b: Tube): boolean {
    return a.unpauseAtUs < b.unpauseAtUs || (a.unpauseAtUs === b.unpauseAtUs && a.seq < b.seq);
  }

  protected getPos(tube: Tube): number {
    return tube.pausePos;
  }

  protected setPos(tube: Tube, pos: number): void {
    tube.pausePos = pos;
  }
}

/** Connections with a pending timer, by (tick time, id). */
export class ConnTimerHeap extends IndexedHeap<Conn> {
  less(a: Conn, b: Conn): boolean {
    return a.tickAtUs < b.tickAtUs || (a.tickAtUs === b.tickAtUs && a.id < b.id);
  }

  protected getPos(conn: Conn): number {
    return conn.timerPos;
  }

  protected setPos(conn: Conn, pos: number): void {
    conn.timerPos = pos;
  }
}
