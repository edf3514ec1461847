// runLoad and mergeResults from the package entry, against the embedded server (the default
// target: `beanlab serve` as its own process): a result that accounts for every job, progress by
// callback, nothing printed; bad input as typed errors before any load; results merged exactly.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  loadResultSchema,
  mergeResults,
  MergeError,
  NotStartedError,
  runLoad,
  ScenarioError,
  simulate,
  TargetError,
  type LoadProgress,
  type LoadResult,
  type ScenarioInput,
} from '../../src/index.js';
import { freePort } from '../../src/target/address.js';

const steady = (name = 'api-load'): ScenarioInput => ({
  name,
  durationSeconds: 1,
  tubes: ['work'],
  producers: [{ tube: 'work', arrival: { process: 'constant', ratePerSecond: 50 }, bodyBytes: 64 }],
  workers: [{ count: 2, watch: ['work'], service: { distribution: 'constant', seconds: 0 } }],
  load: { drainSeconds: 5 },
});

let result: LoadResult;
const progress: LoadProgress[] = [];
const printed: string[] = [];

beforeAll(async () => {
  const record = (chunk: unknown) => (printed.push(String(chunk)), true);
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(record);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(record);
  try {
    result = await runLoad(steady(), { seed: 1, onProgress: (p) => progress.push(p) });
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}, 60_000);

afterAll(() => vi.restoreAllMocks());

describe('runLoad (library)', () => {
  it('runs the scenario on the embedded server: every job put is completed and audited, nothing printed', () => {
    expect(loadResultSchema.parse(result)).toEqual(result);
    expect(result.kind).toBe('load');
    expect(result.load.target).toMatch(/^embedded/);
    expect(result.jobs.put).toBeGreaterThanOrEqual(45);
    expect(result.jobs).toMatchObject({ completed: result.jobs.put, lost: 0, duplicated: 0, unverified: 0 });
    expect(result.pass).toBe(true);
    expect(printed).toEqual([]);
  });

  it('reports progress by callback as the puts go out (about every 100 ms)', () => {
    expect(progress.length).toBeGreaterThan(3);
    expect(progress[0]).toMatchObject({ repeat: 1, repeats: 1, run: 1, runs: 1, side: 'current', phase: 'producing' });
    const puts = progress.map((p) => p.puts);
    expect(puts).toEqual([...puts].sort((a, b) => a - b));
    expect(puts.at(-1)).toBeGreaterThan(0);
    expect(puts.at(-1)).toBeLessThanOrEqual(result.jobs.put);
  });

  it('rejects bad input with typed errors before any load: scenario, target, an aborted signal', async () => {
    const bad = { ...steady(), workers: [{ count: -1, watch: ['work'], service: { distribution: 'constant', seconds: 0 } }] } as ScenarioInput;
    await expect(runLoad(bad)).rejects.toThrow(ScenarioError);
    const port = await freePort();
    await expect(runLoad(steady(), { target: { kind: 'address', address: `127.0.0.1:${port}` } })).rejects.toThrow(TargetError);
    await expect(runLoad(steady(), { signal: AbortSignal.abort() })).rejects.toThrow(NotStartedError);
  });
});

describe('mergeResults (library)', () => {
  it('adds up parts of one run made at the same time, and keeps repeats as samples', () => {
    const both = mergeResults([result, result]);
    expect(both.jobs.put).toBe(2 * result.jobs.put);
    expect(both.latency.endToEndUs.count).toBe(2 * result.latency.endToEndUs.count);
    expect(both.load.repeats).toHaveLength(1);
    const repeats = mergeResults([result, result], { mode: 'sequential' });
    expect(repeats.jobs.put).toBe(2 * result.jobs.put);
    expect(repeats.load.repeats).toHaveLength(2);
  });

  it('evaluates given SLOs on the merged result', () => {
    const merged = mergeResults([result, result], { slos: [{ metric: 'jobsPerSecond', min: 1_000_000 }] });
    expect(merged.pass).toBe(false);
    expect(merged.slo).toHaveLength(1);
  });

  it('refuses what does not belong together: nothing, a sim result, another scenario, shards with a whole run', async () => {
    expect(() => mergeResults([])).toThrow(MergeError);
    const simulated = await simulate(steady(), { seed: 1 });
    expect(() => mergeResults([result, simulated])).toThrow(/result 2 is not a load result/);
    expect(() => mergeResults([result, { ...result, scenario: 'other' }])).toThrow(/different scenarios/);
    const empty = { group: 0, gone: '', buried: '', remaining: '', unverified: '' };
    const shard = loadResultSchema.parse({
      ...result,
      load: {
        ...result.load,
        shard: {
          runId: 'r1', count: 2, index: 0, tubes: ['work'], classNames: ['normal'], startedAtMs: 1, coordinated: false, gone: 0,
          tubeJobsAtStart: [0], tubeJobsAtEnd: [0], serverIsOurs: true,
          facts: { unfinished: [empty], completedForSiblings: [], buriedForSiblings: [], dropped: [], reran: [] },
        },
      },
    });
    expect(() => mergeResults([shard, result])).toThrow(/merge only with the other shards/);
    expect(() => mergeResults([shard, shard], { mode: 'sequential' })).toThrow(/sequential/);
  });
});
