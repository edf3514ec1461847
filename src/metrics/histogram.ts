// Latency histograms in integer microseconds. Recording goes into counts laid out exactly like an
// HdrHistogram with 3 significant digits (values below 2048 exact, then 1024 sub-buckets per power
// of two), because hdr-histogram-js's recordValue costs 100+ ns and the simulator records
// millions of values a second. The summary rebuilds a real HdrHistogram from those counts, bucket
// by bucket, so the encoded `hdr` is the same histogram hdr-histogram-js would have recorded.
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64 } from 'hdr-histogram-js';

/** What results carry for every latency: exact count, mean and max; percentiles from the HDR buckets. */
export interface HistogramSummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  /** HdrHistogram V2 compressed, base64: merges exactly across runs and processes. */
  hdr: string;
}

const SUB_BUCKET_HALF_COUNT = 1024;
const SUB_BUCKET_COUNT = 2 * SUB_BUCKET_HALF_COUNT;
const TWO_POW_32 = 4294967296;
/** Room for values up to 2^26 µs (about 67 s) before the counts array has to grow. */
const INITIAL_SLOTS = 17 * SUB_BUCKET_HALF_COUNT;

function floorLog2(value: number): number {
  return value < TWO_POW_32 ? 31 - Math.clz32(value) : 63 - Math.clz32(Math.floor(value / TWO_POW_32));
}

/** The counts index of an integer value >= 0, matching HdrHistogram's countsArrayIndex. */
export function slotOf(value: number): number {
  if (value < SUB_BUCKET_COUNT) return value;
  const shift = floorLog2(value) - 10;
  const subBucket = value < TWO_POW_32 ? value >>> shift : Math.floor(value / 2 ** shift);
  return shift * SUB_BUCKET_HALF_COUNT + subBucket;
}

/** The smallest value that lands in a slot. */
export function slotLowestValue(slot: number): number {
  if (slot < SUB_BUCKET_COUNT) return slot;
  const shift = Math.floor(slot / SUB_BUCKET_HALF_COUNT) - 1;
  const subBucket = slot - shift * SUB_BUCKET_HALF_COUNT;
  return subBucket * 2 ** shift;
}

export class LatencyHistogram {
  private counts = new Float64Array(INITIAL_SLOTS);
  count = 0;
  // -0, not 0: V8 then keeps the field a double from the start; a small-integer field that
  // outgrows 2^31 mid-run throws away the compiled code of every function that touched it.
  sumUs = -0;
  maxUs = 0;

  /** valueUs must be a non-negative integer. */
  record(valueUs: number): void {
    const slot = slotOf(valueUs);
    if (slot >= this.counts.length) this.grow(slot);
    this.counts[slot] += 1;
    this.count += 1;
    this.sumUs += valueUs;
    if (valueUs > this.maxUs) this.maxUs = valueUs;
  }

  add(other: LatencyHistogram): void {
    if (other.counts.length > this.counts.length) this.grow(other.counts.length - 1);
    const counts = this.counts;
    const theirs = other.counts;
    for (let slot = 0; slot < theirs.length; slot++) counts[slot] += theirs[slot];
    this.count += other.count;
    this.sumUs += other.sumUs;
    if (other.maxUs > this.maxUs) this.maxUs = other.maxUs;
  }

  summary(): HistogramSummary {
    const hdr = build({ numberOfSignificantValueDigits: 3 });
    const counts = this.counts;
    for (let slot = 0; slot < counts.length; slot++) {
      if (counts[slot] > 0) hdr.recordValueWithCount(slotLowestValue(slot), counts[slot]);
    }
    const empty = this.count === 0;
    const summary: HistogramSummary = {
      count: this.count,
      mean: empty ? 0 : Math.round((this.sumUs / this.count) * 1000) / 1000,
      p50: empty ? 0 : hdr.getValueAtPercentile(50),
      p90: empty ? 0 : hdr.getValueAtPercentile(90),
      p99: empty ? 0 : hdr.getValueAtPercentile(99),
      p999: empty ? 0 : hdr.getValueAtPercentile(99.9),
      max: this.maxUs,
      hdr: encodeIntoCompressedBase64(hdr),
    };
    hdr.destroy();
    return summary;
  }

  private grow(slot: number): void {
    let length = this.counts.length;
    while (length <= slot) length += 4 * SUB_BUCKET_HALF_COUNT;
    const counts = new Float64Array(length);
    counts.set(this.counts);
    this.counts = counts;
  }
}

/** Percentile curve of an encoded histogram, for charts: [percentile, valueUs] pairs. */
export function percentileCurve(hdrBase64: string, percentiles: readonly number[]): Array<[number, number]> {
  const hdr = decodeFromCompressedBase64(hdrBase64);
  const points = percentiles.map((p): [number, number] => [p, hdr.totalCount === 0 ? 0 : hdr.getValueAtPercentile(p)]);
  hdr.destroy();
  return points;
}
