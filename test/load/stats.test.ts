// The pure parts under the load runner: job bodies, coordinated-omission correction, exact
// merging of encoded histograms, and the job tracker's integrity rules.
import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../src/metrics/histogram.js';
import { recordCorrected } from '../../src/metrics/load-correction.js';
import { mergeHistograms } from '../../src/metrics/load-merge.js';
import { decodeBody, encodeBody, RunBodies } from '../../src/load/body.js';
import { RunClock } from '../../src/load/clock.js';
import { JobTracker } from '../../src/load/tracker.js';

describe('job bodies', () => {
  it('carry the due time (on the epoch), group, priority and TTR, padded to the asked size', () => {
    const body = encodeBody({ run: 77, dueEpochUs: 1767225600123456.25, group: 3, pri: 1024, ttrSeconds: 60 }, 100);
    expect(body.length).toBe(100);
    expect(body.toString('latin1')).toMatch(/^beanlab 77 1767225600123456 3 1024 60\n\.+$/);
    expect(decodeBody(body)).toEqual({ run: 77, dueEpochUs: 1767225600123456, group: 3, pri: 1024, ttrSeconds: 60 });
  });

  it('grow past a size smaller than the header, and refuse bodies they did not write', () => {
    expect(encodeBody({ run: 5, dueEpochUs: 0, group: 0, pri: 0, ttrSeconds: 1 }, 0).toString()).toBe('beanlab 5 0 0 0 1\n');
    expect(decodeBody(Buffer.from('hello world'))).toBeUndefined();
    expect(decodeBody(Buffer.from('beanlab 5 12 x 3 1\n'))).toBeUndefined();
    expect(decodeBody(Buffer.from('beanlab 5 12 3 4\n'))).toBeUndefined();
    expect(decodeBody(Buffer.from('beanlab 5 12 3 4 5 6\n'))).toBeUndefined();
    // jackd's JSON-encoded Buffer, the defect the jackd driver works around:
    expect(decodeBody(Buffer.from(JSON.stringify(Buffer.from('beanlab 1 1 0 0 1\n'))))).toBeUndefined();
  });

  it('time a job from the same instant in two processes whose run clocks began at different times', () => {
    const early = new RunClock();
    const late = new RunClock();
    // late's run began 2.5 s after early's.
    (late as unknown as { originMs: number }).originMs = (early as unknown as { originMs: number }).originMs + 2500;
    const body = new RunBodies(9, early).encode(4_000_000, 1, 1024, 30, 64);
    const seen = new RunBodies(9, late).decode(body)!;
    expect(Math.abs(seen.dueUs - 1_500_000)).toBeLessThanOrEqual(1);
    expect(seen).toMatchObject({ run: 9, group: 1, pri: 1024, ttrSeconds: 30 });
  });
});

describe('coordinated-omission correction', () => {
  it('adds the samples a waiting client held back, as HdrHistogram does', () => {
    const h = new LatencyHistogram();
    recordCorrected(h, 10_000, 2_500);
    const s = h.summary();
    // 10 ms with requests meant every 2.5 ms: 10, 7.5, 5 and 2.5 ms.
    expect(s.count).toBe(4);
    expect(s.mean).toBe(6250);
    recordCorrected(h, 1_000, 2_500);
    expect(h.summary().count).toBe(5);
  });
});

describe('merging encoded histograms', () => {
  it('gives exactly the histogram of all samples together', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    const all = new LatencyHistogram();
    for (let i = 1; i <= 5000; i++) {
      const value = (i * 7919) % 100_000;
      (i % 3 === 0 ? a : b).record(value);
      all.record(value);
    }
    const merged = mergeHistograms([a.summary(), b.summary()]);
    const expected = all.summary();
    expect({ ...merged, hdr: undefined }).toEqual({ ...expected, hdr: undefined });
    expect(mergeHistograms([merged, new LatencyHistogram().summary()]).p99).toBe(expected.p99);
  });
});

describe('the job tracker', () => {
  const body = (group = 0) => ({ run: 0, dueUs: 0, group, pri: 0, ttrSeconds: 60 });

  it('counts a job once however its put reply and its reservation interleave', () => {
    const t = new JobTracker(100, 1, 1, 0);
    // The worker's RESERVED and DELETED are read before the producer's INSERTED.
    expect(t.reserved(0, 101, body(), 0, 10)).toBe('first');
    t.completed(0, 101, 10, 20);
    t.putAcked(101, 0, 0, 60, 0, 30);
    expect(t.live).toBe(0);
    expect(t.completedCount).toBe(1);
    expect(t.unfinishedIds()).toEqual([]);
    t.putAcked(102, 0, 0, 60, 0, 30);
    expect(t.live).toBe(1);
    expect(t.unfinishedIds()).toEqual([102]);
  });

  it('flags a job handed out again after it was deleted, or while another worker still holds it', () => {
    const t = new JobTracker(0, 1, 1, 0);
    t.putAcked(1, 0, 0, 60, 0, 1);
    t.reserved(0, 1, body(), 0, 5);
    t.completed(0, 1, 5, 6);
    t.reserved(1, 1, body(), 7, 8);
    t.putAcked(2, 0, 0, 60, 0, 1);
    t.reserved(0, 2, body(), 0, 5);
    t.reserved(1, 2, body(), 1_000_000, 1_000_010); // 1 s into a 60 s TTR
    expect(t.duplicateDeliveries).toBe(2);
    expect(t.duplicatedIds).toEqual([1, 2]);
  });

  it('takes a re-reservation after the TTR ran out as a legitimate re-run, not a duplicate delivery', () => {
    const t = new JobTracker(0, 1, 1, 0);
    t.putAcked(1, 0, 0, 1, 0, 1);
    t.reserved(0, 1, body(), 0, 5);
    t.reserved(1, 1, body(), 1_100_000, 1_100_100);
    t.late(0, 1);
    t.completed(1, 1, 1_100_100, 1_200_000);
    expect(t.duplicateDeliveries).toBe(0);
    expect(t.duplicateExecutions).toBe(1);
    expect(t.lateCompletions).toBe(1);
    expect(t.groups[0].duplicated).toBe(1);
    expect(t.completedCount).toBe(1);
  });

  it('takes jobs of other runs and bodies it did not write as foreign', () => {
    const t = new JobTracker(10, 1, 1, 0, 42);
    expect(t.reserved(0, 5, { ...body(), run: 41 }, 0, 1)).toBe('foreign');
    expect(t.reserved(0, 12, undefined, 0, 1)).toBe('foreign');
    expect(t.foreignJobs).toBe(2);
    expect(t.reserved(0, 13, { ...body(), run: 42 }, 0, 1)).toBe('first');
  });

  it('leaves jobs put during the warm-up out of the histograms but not out of the counts', () => {
    const t = new JobTracker(0, 1, 1, 1_000_000);
    t.putAcked(1, 0, 500_000, 60, 500_000, 500_100);
    t.putAcked(2, 0, 1_500_000, 60, 1_500_000, 1_500_300);
    expect(t.groups[0].put).toBe(2);
    expect(t.groups[0].putUs.count).toBe(1);
    expect(t.groups[0].putUs.maxUs).toBe(300);
  });
});
