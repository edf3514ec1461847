// The simulator's one event queue: a binary min-heap on (timeUs, insertion sequence) held in
// parallel typed arrays. Ties at the same microsecond run in insertion order, so the order of
// events never depends on anything but the run's inputs. No objects are allocated per event,
// which matters at millions of events a second.

/**
 * Zero, for fields holding microsecond times. Runs pass 2^31 µs (36 virtual minutes) and leave
 * V8's small-integer range; a field that started as a small integer is then converted to a
 * double, which discards the optimised code of every function that touched it, mid-run. -0
 * equals 0 in every comparison and sum (and prints as 0), but is a double from the start.
 */
export const ZERO_US = -0;

/** Microseconds per second (src/units.ts): scenarios speak seconds, the virtual clock microseconds. */
export { US_PER_SECOND as US } from '../units.js';

export class EventQueue {
  private timeUs = new Float64Array(1024);
  private seq = new Float64Array(1024);
  private kind = new Uint8Array(1024);
  private target = new Int32Array(1024);
  private epoch = new Int32Array(1024);
  private nextSeq = 0;
  size = 0;

  /** Set by pop(): the popped event's fields. */
  poppedTimeUs = ZERO_US;
  poppedKind = 0;
  poppedTarget = 0;
  poppedEpoch = 0;

  push(timeUs: number, kind: number, target: number, epoch: number): void {
    if (this.size === this.timeUs.length) this.grow();
    const seq = this.nextSeq++;
    let i = this.size++;
    // Sift up: move parents down until the slot for the new event is found.
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = this.timeUs[parent];
      if (pt < timeUs || (pt === timeUs && this.seq[parent] < seq)) break;
      this.move(parent, i);
      i = parent;
    }
    this.timeUs[i] = timeUs;
    this.seq[i] = seq;
    this.kind[i] = kind;
    this.target[i] = target;
    this.epoch[i] = epoch;
  }

  /** The earliest event's time, or Infinity when empty. */
  peekTimeUs(): number {
    return this.size === 0 ? Infinity : this.timeUs[0];
  }

  /** Removes the earliest event into the popped* fields. The queue must not be empty. */
  pop(): void {
    this.poppedTimeUs = this.timeUs[0];
    this.poppedKind = this.kind[0];
    this.poppedTarget = this.target[0];
    this.poppedEpoch = this.epoch[0];
    const last = --this.size;
    if (last === 0) return;
    const t = this.timeUs[last];
    const s = this.seq[last];
    const k = this.kind[last];
    const g = this.target[last];
    const e = this.epoch[last];
    let i = 0;
    const half = last >> 1;
    // Sift down the former last event from the root.
    while (i < half) {
      let child = 2 * i + 1;
      const right = child + 1;
      if (
        right < last &&
        (this.timeUs[right] < this.timeUs[child] ||
          (this.timeUs[right] === this.timeUs[child] && this.seq[right] < this.seq[child]))
      ) {
        child = right;
      }
      const ct = this.timeUs[child];
      if (t < ct || (t === ct && s < this.seq[child])) break;
      this.move(child, i);
      i = child;
    }
    this.timeUs[i] = t;
    this.seq[i] = s;
    this.kind[i] = k;
    this.target[i] = g;
    this.epoch[i] = e;
  }

  private move(from: number, to: number): void {
    this.timeUs[to] = this.timeUs[from];
    this.seq[to] = this.seq[from];
    this.kind[to] = this.kind[from];
    this.target[to] = this.target[from];
    this.epoch[to] = this.epoch[from];
  }

  private grow(): void {
    const n = this.timeUs.length * 2;
    const grown = <T extends Float64Array | Uint8Array | Int32Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.timeUs = grown(this.timeUs, (k) => new Float64Array(k));
    this.seq = grown(this.seq, (k) => new Float64Array(k));
    this.kind = grown(this.kind, (k) => new Uint8Array(k));
    this.target = grown(this.target, (k) => new Int32Array(k));
    this.epoch = grown(this.epoch, (k) => new Int32Array(k));
  }
}
