// Operations sent and not yet answered, so that a server that stops answering shows in the
// result: at the end of the run each one still open is counted `unanswered` and its latency is
// recorded at its age then (it took at least that long), so percentiles show the outage instead
// of leaving those operations out. A ring of typed arrays indexed by sequence number: replies on
// different connections come back in any order, and the hot path must not allocate.
import { ConnectionError } from '../client/client.js';

export class OutstandingOps {
  private capacity = 1024;
  private startUs = new Float64Array(this.capacity);
  private group = new Uint16Array(this.capacity);
  private open = new Uint8Array(this.capacity);
  /** The oldest sequence number that may still be open. */
  private head = 0;
  /** The next sequence number. */
  private tail = 0;
  /** Begun and not ended. */
  count = 0;

  /** An operation meant to start at startUs (its intended send time) is on its way; returns its number. */
  begin(startUs: number, group: number): number {
    if (this.tail - this.head === this.capacity) this.grow();
    const k = this.tail & (this.capacity - 1);
    this.startUs[k] = startUs;
    this.group[k] = group;
    this.open[k] = 1;
    this.count += 1;
    return this.tail++;
  }

  /** The operation was answered (whatever the answer). */
  end(seq: number): void {
    const mask = this.capacity - 1;
    if (this.open[seq & mask] === 0) return;
    this.open[seq & mask] = 0;
    this.count -= 1;
    while (this.head < this.tail && this.open[this.head & mask] === 0) this.head += 1;
  }

  /** Every operation still open: when it was meant to start, and its group. */
  forEachOpen(visit: (startUs: number, group: number) => void): void {
    const mask = this.capacity - 1;
    for (let seq = this.head; seq < this.tail; seq++) {
      const k = seq & mask;
      if (this.open[k] === 1) visit(this.startUs[k], this.group[k]);
    }
  }

  /** When the oldest open operation was meant to start; undefined when none is open. */
  oldestOpenUs(): number | undefined {
    let oldest: number | undefined;
    this.forEachOpen((startUs) => {
      if (oldest === undefined || startUs < oldest) oldest = startUs;
    });
    return oldest;
  }

  private grow(): void {
    const old = { startUs: this.startUs, group: this.group, open: this.open, mask: this.capacity - 1 };
    this.capacity *= 2;
    const mask = this.capacity - 1;
    this.startUs = new Float64Array(this.capacity);
    this.group = new Uint16Array(this.capacity);
    this.open = new Uint8Array(this.capacity);
    for (let seq = this.head; seq < this.tail; seq++) {
      this.startUs[seq & mask] = old.startUs[seq & old.mask];
      this.group[seq & mask] = old.group[seq & old.mask];
      this.open[seq & mask] = old.open[seq & old.mask];
    }
  }
}

/**
 * Whether an operation's error means the server never answered it (the connection failed, was
 * closed, or the reply did not come in time), as opposed to an answer the caller did not expect.
 */
export function noAnswer(error: Error): boolean {
  return error instanceof ConnectionError;
}
