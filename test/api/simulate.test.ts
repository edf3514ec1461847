// simulate() from the package entry (src/index.ts): the same result as the simulator itself, a
// scenario given as an object and validated, sweeps, progress by callback, cancellation by
// AbortSignal, and nothing printed.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resultSchema, ScenarioError, simulate, type ScenarioInput, type SimulateProgress } from '../../src/index.js';
import { validateScenario } from '../../src/scenario/load.js';
import { simulate as simulateSync } from '../../src/sim/run.js';

/** M/M/c-like, one pool (so `workers` sweeps), long enough for several slices of events. */
const queue = (jobs: number): ScenarioInput => ({
  name: 'api-queue',
  jobs,
  producers: [{ tube: 'default', arrival: { process: 'poisson', ratePerSecond: 8 } }],
  workers: [{ count: 10, watch: ['default'], service: { distribution: 'exponential', meanSeconds: 1 } }],
  slos: [{ metric: 'queueWait', stat: 'mean', maxSeconds: 0.25 }],
});

afterEach(() => vi.restoreAllMocks());

describe('simulate (library)', () => {
  it('gives the simulator’s own result for the seed, validated against resultSchema, and prints nothing', async () => {
    const out = vi.spyOn(process.stdout, 'write');
    const err = vi.spyOn(process.stderr, 'write');
    const result = await simulate(queue(2000), { seed: 7 });
    expect(JSON.stringify(result)).toBe(JSON.stringify(simulateSync(validateScenario(queue(2000), 'q'), 7)));
    expect(resultSchema.parse(result)).toEqual(result);
    expect(result.seed).toBe(7);
    expect(result.jobs.completed).toBe(2000);
    expect(out).not.toHaveBeenCalled();
    expect(err).not.toHaveBeenCalled();
  });

  it('draws a seed when given none and records it: that seed reproduces the run', async () => {
    const first = await simulate(queue(300));
    const again = await simulate(queue(300), { seed: first.seed });
    expect(JSON.stringify(again)).toBe(JSON.stringify(first));
  });

  it('reports progress per run, ending at 1, and counts invariant checks with paranoidEvery', async () => {
    const seen: SimulateProgress[] = [];
    await simulate(queue(60_000), { seed: 1, paranoidEvery: 50_000, onProgress: (p) => seen.push(p) });
    expect(seen.length).toBeGreaterThan(1);
    const fractions = seen.map((p) => p.fraction);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    expect(seen.at(-1)).toMatchObject({ run: 1, runs: 1, fraction: 1 });
    expect(seen.at(-1)!.invariantChecks).toBeGreaterThan(2);
  });

  it('stops between slices when the signal aborts, rejecting with its reason', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const run = simulate(queue(1_000_000), {
      seed: 1,
      signal: controller.signal,
      onProgress: (p) => {
        seen.push(p.fraction);
        controller.abort(new Error('enough'));
      },
    });
    await expect(run).rejects.toThrow('enough');
    // Aborted at the first progress report: one slice of a million-job run, nowhere near its end.
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeLessThan(0.5);
    const aborted = AbortSignal.abort();
    await expect(simulate(queue(100), { signal: aborted })).rejects.toThrow(/aborted/);
  });

  it('sweeps a field (text or spec) and answers the capacity question, one progress run per value', async () => {
    const runs = new Set<string>();
    const result = await simulate(queue(3000), { seed: 3, sweep: 'workers=8..12:2', onProgress: (p) => runs.add(`${p.run}/${p.runs} ${p.sweepValue}`) });
    expect(result.sweep!.map((entry) => entry.workers)).toEqual([8, 10, 12]);
    expect(result.capacity?.key).toBe('workers');
    expect(runs).toEqual(new Set(['1/3 8', '2/3 10', '3/3 12']));
    const bySpec = await simulate(queue(3000), { seed: 3, sweep: { key: 'workers', values: [8, 10, 12] } });
    expect(JSON.stringify(bySpec)).toBe(JSON.stringify(result));
  });

  it('rejects an invalid scenario, sweep value or seed with an error naming what is wrong', async () => {
    const bad = { ...queue(10), producers: [{ tube: 'default', arrival: { process: 'poisson', ratePerSecond: -1 } }] } as ScenarioInput;
    await expect(simulate(bad, { seed: 1 })).rejects.toThrow(ScenarioError);
    await expect(simulate(bad, { seed: 1 })).rejects.toThrow(/producers\[0\]\.arrival/);
    await expect(simulate(queue(10), { seed: 1, sweep: 'workers=1..2:0.5', source: 'q.yaml' })).rejects.toThrow(/^q\.yaml \(workers=1.5\): invalid scenario/);
    await expect(simulate(queue(10), { seed: 1, sweep: 'workers=1..' })).rejects.toThrow(ScenarioError);
    await expect(simulate(queue(10), { seed: -1 })).rejects.toThrow(RangeError);
  });
});
