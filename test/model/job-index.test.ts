// The model's job table against a Map: random adds, deletes and lookups, including ids that hash
// alike (they differ by multiples of 2^32, which the hash wraps), so long probe runs, backward-shift
// deletion, growth and shrinking are all exercised. Reproduce with INDEX_SEED=<seed>.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Job, Tube } from '../../src/model/entities.js';
import { JobIndex } from '../../src/model/job-index.js';

const SEED = Number(process.env.INDEX_SEED ?? Math.floor(Math.random() * 2 ** 31));
const TWO_POW_32 = 2 ** 32;
const tube = new Tube('default', 0);
const body = new Uint8Array(0);

function job(id: number): Job {
  return new Job(id, tube, 0, 0, 1, 0, body);
}

type Op = { kind: 'add' | 'delete' | 'get'; id: number };

/**
 * Sequential ids, and six families of ids that share a hash within each family (c + k * 2^32):
 * the families' probe runs grow into each other, which is where deletion has to be careful.
 */
const id = fc.oneof(
  fc.integer({ min: 1, max: 600 }),
  fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 40 })).map(([c, k]) => c + k * TWO_POW_32),
);
const op: fc.Arbitrary<Op> = fc.record({ kind: fc.constantFrom('add' as const, 'delete' as const, 'get' as const), id });

/** Replays the operations on both; returns the first disagreement, or undefined. */
function replay(ops: readonly Op[]): string | undefined {
  const index = new JobIndex();
  const reference = new Map<number, Job>();
  for (const [step, { kind, id }] of ops.entries()) {
    if (kind === 'add') {
      if (reference.has(id)) continue; // add is only for ids not yet indexed
      const j = job(id);
      index.add(j);
      reference.set(id, j);
    } else if (kind === 'delete') {
      if (index.delete(id) !== reference.delete(id)) return `step ${step}: delete ${id} disagrees`;
    } else if (index.get(id) !== reference.get(id)) {
      return `step ${step}: get ${id} disagrees`;
    }
    if (index.size !== reference.size) return `step ${step}: size ${index.size}, expected ${reference.size}`;
  }
  // Every job is still found after all the shifting, and nothing else is.
  for (const [jobId, j] of reference) if (index.get(jobId) !== j) return `job ${jobId} lost at the end`;
  for (const { id } of ops) if (index.has(id) !== reference.has(id)) return `id ${id} wrongly present at the end`;
  return undefined;
}

describe('JobIndex', () => {
  it(`matches a Map under random operations (seed ${SEED})`, () => {
    console.log(`job index seed: ${SEED} (rerun with INDEX_SEED=${SEED})`);
    fc.assert(
      fc.property(fc.array(op, { minLength: 200, maxLength: 3000, size: 'max' }), (ops) => {
        expect(replay(ops)).toBeUndefined();
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('grows past its minimum size and shrinks back, keeping every job', () => {
    const index = new JobIndex();
    const held = 5000;
    for (let i = 1; i <= held; i++) index.add(job(i));
    expect(index.size).toBe(held);
    // Delete from the middle out, as a worker pool finishing jobs out of order would.
    for (let i = 2; i <= held; i += 2) expect(index.delete(i)).toBe(true);
    for (let i = 1; i <= held; i++) expect(index.get(i)?.id).toBe(i % 2 === 1 ? i : undefined);
    for (let i = 1; i <= held; i += 2) expect(index.delete(i)).toBe(true);
    expect(index.size).toBe(0);
    expect(index.delete(1)).toBe(false);
  });
});
