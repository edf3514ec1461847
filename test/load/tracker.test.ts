// The job tracker takes any id the server gives (issue 9, item 1) and labels what it sees
// correctly (item 3): two acknowledgements of one id are a lost job, not a duplicate delivery,
// and a duplicate delivery is also a job run more than once.
import { describe, expect, it } from 'vitest';
import { JobTracker } from '../../src/load/tracker.js';

const body = (group = 0) => ({ run: 0, dueUs: 0, group, pri: 0, ttrSeconds: 60 });

describe('ids are the server\'s business', () => {
  it('tracks ids below the id the run expected first (the server held earlier jobs)', () => {
    const t = new JobTracker(1_000_000, 1, 1, 0);
    for (let id = 1; id <= 10; id++) t.putAcked(id, 0, 0, 60, 0, 5);
    expect(t.putCount).toBe(10);
    expect(t.live).toBe(10);
    expect(t.unfinishedIds()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    t.reserved(0, 3, body(), 0, 1);
    t.completed(0, 3, 1, 2);
    expect(t.unfinishedIds()).not.toContain(3);
    expect(t.completedIds(10)).toEqual({ ids: [3], total: 1 });
  });

  it('tracks ids far above the others without allocating up to them', () => {
    const t = new JobTracker(0, 1, 1, 0);
    t.putAcked(1, 0, 0, 60, 0, 5);
    t.putAcked(4_000_000_001, 0, 0, 60, 0, 5);
    t.putAcked(2, 0, 0, 60, 0, 5);
    t.putAcked(Number.MAX_SAFE_INTEGER, 0, 0, 60, 0, 5);
    expect(t.unfinishedIds().sort((a, b) => a - b)).toEqual([1, 2, 4_000_000_001, Number.MAX_SAFE_INTEGER]);
    t.reserved(0, 4_000_000_001, body(), 0, 1);
    t.completed(0, 4_000_000_001, 1, 2);
    expect(t.live).toBe(3);
    expect(t.completedIds(10).ids).toEqual([4_000_000_001]);
  });

  it('keeps up when a server numbers its jobs from far above its job count (a binlog restart)', () => {
    const t = new JobTracker(0, 1, 1, 0);
    for (let id = 5_000_001; id <= 5_100_000; id++) t.putAcked(id, 0, 0, 60, 0, 5);
    expect(t.putCount).toBe(100_000);
    expect(t.unfinishedIds()).toHaveLength(100_000);
    expect(t.unfinishedIds()[0]).toBe(5_000_001);
  });
});

describe('labels', () => {
  it('counts a second acknowledgement of an id still held as a lost job, not a duplicate delivery', () => {
    const t = new JobTracker(0, 1, 1, 0);
    t.putAcked(7, 0, 0, 60, 0, 5); // a fake id for a put the server dropped
    t.putAcked(7, 0, 0, 60, 0, 6); // the real job that later got that id
    expect(t.collisionLost).toEqual([1]);
    expect(t.collisionIds).toEqual([7]);
    expect(t.duplicateDeliveries).toBe(0);
    expect(t.putCount).toBe(2);
    expect(t.unfinishedIds()).toEqual([7]);
  });

  it('takes an id given again after its job was deleted as a new job', () => {
    const t = new JobTracker(0, 1, 1, 0);
    t.putAcked(7, 0, 0, 60, 0, 5);
    t.reserved(0, 7, body(), 5, 6);
    t.completed(0, 7, 6, 7);
    t.putAcked(7, 0, 0, 60, 0, 8);
    expect(t.collisionLost).toEqual([0]);
    expect(t.live).toBe(1);
    expect(t.unfinishedIds()).toEqual([7]);
  });

  it('counts a duplicate delivery as a job run more than once', () => {
    const t = new JobTracker(0, 1, 1, 0);
    t.putAcked(1, 0, 0, 60, 0, 1);
    t.reserved(0, 1, body(), 0, 5);
    t.completed(0, 1, 5, 6);
    t.reserved(1, 1, body(), 7, 8);
    expect(t.duplicateDeliveries).toBe(1);
    expect(t.groups[0].duplicated).toBe(1);
  });

  it('spreads the completed ids it hands the audit over all of them', () => {
    const t = new JobTracker(0, 1, 1, 0);
    for (let id = 1; id <= 1000; id++) {
      t.putAcked(id, 0, 0, 60, 0, 1);
      t.reserved(0, id, body(), 1, 2);
      t.completed(0, id, 2, 3);
    }
    const { ids, total } = t.completedIds(10);
    expect(total).toBe(1000);
    expect(ids).toEqual([1, 101, 201, 301, 401, 501, 601, 701, 801, 901]);
  });
});
