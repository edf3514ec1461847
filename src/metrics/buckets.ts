// Time series aggregated into at most `maxPoints` buckets, for runs of any length: queue depths
// sampled at a fixed step become per-bucket means and maxima, and event counts (puts, completed
// jobs) per-bucket rates. The bucket width doubles, merging neighbours, whenever the series
// outgrows its budget, so an hour sampled every second is 450 eight-second buckets whose means
// are smooth and whose maxima keep every spike, where point samples at the same spacing are noise.
// Pure: the caller offers samples in time order.
import type { QueueDepths } from './timeseries.js';

export const DEFAULT_MAX_BUCKETS = 600;

const STATES = ['ready', 'reserved', 'delayed', 'buried'] as const;

/** What the result holds: bucket i covers [tUs[i], tUs[i] + intervalUs). */
export interface BucketedQueueSeries {
  intervalUs: number;
  tUs: number[];
  ready: number[];
  reserved: number[];
  delayed: number[];
  buried: number[];
  /** The mean is over the samples in the bucket; these are their largest. */
  max: { ready: number[]; reserved: number[]; delayed: number[]; buried: number[] };
}

export interface BucketedRates {
  intervalUs: number;
  tUs: number[];
  putsPerSecond: number[];
  completedPerSecond: number[];
}

interface Bucket {
  samples: number;
  sum: QueueDepths;
  max: QueueDepths;
  puts: number;
  completed: number;
  /** How much of the bucket the counts cover (the last one may be cut short by the run's end). */
  spanUs: number;
}

const zero = (): QueueDepths => ({ ready: 0, reserved: 0, delayed: 0, buried: 0 });

export class BucketSeriesRecorder {
  private bucketUs: number;
  private readonly buckets: Bucket[] = [];

  constructor(
    sampleUs: number,
    private readonly maxBuckets = DEFAULT_MAX_BUCKETS,
  ) {
    if (!(sampleUs > 0) || !(maxBuckets >= 2)) throw new RangeError('a bucket series needs a positive step and at least 2 buckets');
    this.bucketUs = sampleUs;
  }

  get intervalUs(): number {
    return this.bucketUs;
  }

  /** Queue depths as sampled at tUs. */
  sample(tUs: number, depths: QueueDepths): void {
    const bucket = this.at(tUs);
    bucket.samples++;
    for (const state of STATES) {
      bucket.sum[state] += depths[state];
      if (depths[state] > bucket.max[state]) bucket.max[state] = depths[state];
    }
  }

  /** `puts` and `completed` happened during [fromUs, toUs), a stretch within one sampling step. */
  count(fromUs: number, toUs: number, puts: number, completed: number): void {
    const bucket = this.at(fromUs);
    bucket.puts += puts;
    bucket.completed += completed;
    bucket.spanUs += toUs - fromUs;
  }

  depths(): BucketedQueueSeries {
    const mean = (b: Bucket, state: (typeof STATES)[number]) => (b.samples === 0 ? 0 : round3(b.sum[state] / b.samples));
    const used = this.buckets.map((b, i) => [b, i] as const).filter(([b]) => b !== undefined);
    const pick = (f: (b: Bucket) => number) => used.map(([b]) => f(b));
    return {
      intervalUs: this.bucketUs,
      tUs: used.map(([, i]) => i * this.bucketUs),
      ready: pick((b) => mean(b, 'ready')),
      reserved: pick((b) => mean(b, 'reserved')),
      delayed: pick((b) => mean(b, 'delayed')),
      buried: pick((b) => mean(b, 'buried')),
      max: {
        ready: pick((b) => b.max.ready),
        reserved: pick((b) => b.max.reserved),
        delayed: pick((b) => b.max.delayed),
        buried: pick((b) => b.max.buried),
      },
    };
  }

  rates(): BucketedRates {
    const used = this.buckets.map((b, i) => [b, i] as const).filter(([b]) => b !== undefined && b.spanUs > 0);
    const perSecond = (n: number, spanUs: number) => round3((n * 1e6) / spanUs);
    return {
      intervalUs: this.bucketUs,
      tUs: used.map(([, i]) => i * this.bucketUs),
      putsPerSecond: used.map(([b]) => perSecond(b.puts, b.spanUs)),
      completedPerSecond: used.map(([b]) => perSecond(b.completed, b.spanUs)),
    };
  }

  private at(tUs: number): Bucket {
    let index = Math.floor(tUs / this.bucketUs);
    while (index >= this.maxBuckets) {
      this.widen();
      index = Math.floor(tUs / this.bucketUs);
    }
    let bucket = this.buckets[index];
    if (bucket === undefined) {
      bucket = { samples: 0, sum: zero(), max: zero(), puts: 0, completed: 0, spanUs: 0 };
      this.buckets[index] = bucket;
    }
    return bucket;
  }

  /** Doubles the width: buckets 2i and 2i+1 become bucket i. */
  private widen(): void {
    this.bucketUs *= 2;
    const merged: Bucket[] = [];
    this.buckets.forEach((b, i) => {
      if (b === undefined) return;
      const into = merged[i >> 1];
      if (into === undefined) {
        merged[i >> 1] = b;
        return;
      }
      into.samples += b.samples;
      into.puts += b.puts;
      into.completed += b.completed;
      into.spanUs += b.spanUs;
      for (const state of STATES) {
        into.sum[state] += b.sum[state];
        into.max[state] = Math.max(into.max[state], b.max[state]);
      }
    });
    this.buckets.length = 0;
    merged.forEach((b, i) => (this.buckets[i] = b));
  }
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
