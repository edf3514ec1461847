// Queue depths over time (ready, reserved, delayed, buried), sampled at a fixed interval that
// doubles whenever the series grows past its point budget. A run's length is not known in
// advance (draining takes as long as it takes), and this keeps any run's series small enough to
// chart while staying a pure function of the samples offered.

export interface QueueDepths {
  ready: number;
  reserved: number;
  delayed: number;
  buried: number;
}

export interface QueueSeries {
  intervalUs: number;
  tUs: number[];
  ready: number[];
  reserved: number[];
  delayed: number[];
  buried: number[];
}

export const DEFAULT_MAX_POINTS = 600;

export class QueueSeriesRecorder {
  private readonly series: QueueSeries;

  constructor(
    intervalUs: number,
    private readonly maxPoints = DEFAULT_MAX_POINTS,
  ) {
    this.series = { intervalUs, tUs: [], ready: [], reserved: [], delayed: [], buried: [] };
  }

  get intervalUs(): number {
    return this.series.intervalUs;
  }

  /** Records one sample; the caller samples at multiples of intervalUs. */
  push(tUs: number, depths: QueueDepths): void {
    const s = this.series;
    s.tUs.push(tUs);
    s.ready.push(depths.ready);
    s.reserved.push(depths.reserved);
    s.delayed.push(depths.delayed);
    s.buried.push(depths.buried);
    if (s.tUs.length > this.maxPoints) this.halve();
  }

  snapshot(): QueueSeries {
    const s = this.series;
    return {
      intervalUs: s.intervalUs,
      tUs: [...s.tUs],
      ready: [...s.ready],
      reserved: [...s.reserved],
      delayed: [...s.delayed],
      buried: [...s.buried],
    };
  }

  /** Keeps the samples at even multiples of the new, doubled interval. */
  private halve(): void {
    const s = this.series;
    s.intervalUs *= 2;
    const keep = (values: number[]) => values.filter((_, i) => s.tUs[i] % s.intervalUs === 0);
    const tUs = keep(s.tUs);
    s.ready = keep(s.ready);
    s.reserved = keep(s.reserved);
    s.delayed = keep(s.delayed);
    s.buried = keep(s.buried);
    s.tUs = tUs;
  }
}
