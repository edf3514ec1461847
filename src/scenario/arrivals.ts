// Arrival processes: when a producer's next job arrives. Constant, Poisson and schedules are
// one walk over a piecewise-constant rate: each arrival needs one unit of "expected arrivals"
// (exactly 1 for constant spacing, Exp(1) for Poisson), consumed at the current step's rate, so
// a rate change in the middle of a gap is honoured exactly. Bursts are their own thing.
import type { ArrivalSpec } from './schema.js';
import type { Random } from './random.js';

export interface ArrivalProcess {
  /** The next arrival time in seconds, or undefined when no more arrivals can come. */
  next(): number | undefined;
}

interface RateStep {
  fromSeconds: number;
  ratePerSecond: number;
}

export function createArrivals(spec: ArrivalSpec, startSeconds: number, random: Random): ArrivalProcess {
  switch (spec.process) {
    case 'constant':
      return new RateWalk([{ fromSeconds: 0, ratePerSecond: spec.ratePerSecond }], false, startSeconds, random);
    case 'poisson':
      return new RateWalk([{ fromSeconds: 0, ratePerSecond: spec.ratePerSecond }], true, startSeconds, random);
    case 'schedule':
      return new RateWalk(spec.steps, spec.pattern === 'poisson', startSeconds, random);
    case 'bursts':
      return new Bursts(spec.firstAtSeconds, spec.everySeconds, spec.jobsPerBurst, spec.spreadSeconds, startSeconds);
  }
}

class RateWalk implements ArrivalProcess {
  private step: number;
  private nowSeconds: number;
  /** Constant spacing puts the first job at the start; Poisson starts with a random gap. */
  private firstGap: number | undefined;

  constructor(
    private readonly steps: readonly RateStep[],
    private readonly poisson: boolean,
    startSeconds: number,
    private readonly random: Random,
  ) {
    this.nowSeconds = startSeconds;
    // Before the first step the rate is zero: index -1 stands for that stretch.
    this.step = -1;
    while (this.step + 1 < steps.length && steps[this.step + 1].fromSeconds <= startSeconds) this.step++;
    this.firstGap = poisson ? undefined : 0;
  }

  next(): number | undefined {
    let gap = this.firstGap ?? (this.poisson ? this.random.exponential(1) : 1);
    this.firstGap = undefined;
    for (;;) {
      const rate = this.step < 0 ? 0 : this.steps[this.step].ratePerSecond;
      const endSeconds = this.step + 1 < this.steps.length ? this.steps[this.step + 1].fromSeconds : Infinity;
      if (rate > 0 && this.nowSeconds + gap / rate < endSeconds) {
        this.nowSeconds += gap / rate;
        return this.nowSeconds;
      }
      if (endSeconds === Infinity) return undefined;
      gap -= rate * (endSeconds - this.nowSeconds);
      this.nowSeconds = endSeconds;
      this.step++;
    }
  }
}

class Bursts implements ArrivalProcess {
  private burst = 0;
  private inBurst = 0;

  constructor(
    private readonly firstAtSeconds: number,
    private readonly everySeconds: number,
    private readonly jobsPerBurst: number,
    private readonly spreadSeconds: number,
    startSeconds: number,
  ) {
    // Bursts are on a fixed timetable; a producer that starts late joins at its next burst.
    while (this.burstStart() < startSeconds) this.burst++;
  }

  next(): number {
    const at = this.burstStart() + (this.spreadSeconds * this.inBurst) / this.jobsPerBurst;
    if (++this.inBurst === this.jobsPerBurst) {
      this.inBurst = 0;
      this.burst++;
    }
    return at;
  }

  private burstStart(): number {
    return this.firstAtSeconds + this.burst * this.everySeconds;
  }
}
