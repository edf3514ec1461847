// runConformance, the library's conformance suite (src/api/conformance.ts): targets as
// TargetSpecs, progress and checks by callback, an AbortSignal that ends the run with what
// finished, typed errors; and the versioned result's schema, against the JSON `beanlab conform`
// writes.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CONFORMANCE_RESULT_VERSION,
  ConformanceError,
  conformanceResultSchema,
  runConformance,
  runConformanceMutation,
  TargetError,
  type CheckResult,
  type ConformanceProgress,
} from '../../src/index.js';
import { runConform } from '../../src/cli/conform.js';
import { FAULTS } from '../../src/server/faults.js';
import { freePort } from '../../src/target/address.js';
import { describeWithBeanstalkd } from '../helpers/beanstalkd.js';

const dir = mkdtempSync(join(tmpdir(), 'beanlab-api-conformance-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Three quick corpus cases (framing.txt) and no property: a run of about a second. */
const ONLY = 'framing/line/basic-';

describe('runConformance', () => {
  it('runs the selected checks against the embedded server: one result per target, checks and progress by callback', { timeout: 30_000 }, async () => {
    const checks: Array<{ id: string; target: string }> = [];
    const progress: ConformanceProgress[] = [];
    const results = await runConformance([{ kind: 'embedded' }], {
      only: ONLY,
      seed: 7,
      onResult: (check: CheckResult, target) => checks.push({ id: check.id, target: `${target.index} ${target.label}` }),
      onProgress: (p) => progress.push(p),
    });
    expect(results).toHaveLength(1);
    const [result] = results;
    expect(result).toMatchObject({ kind: 'conformance', version: CONFORMANCE_RESULT_VERSION, target: 'embedded server', profile: '1.12', seed: 7, passed: 3, failed: 0 });
    expect(result.interrupted).toBeUndefined();
    expect(checks.map((c) => c.target)).toEqual(['0 embedded server', '0 embedded server', '0 embedded server']);
    expect(checks.map((c) => c.id).sort()).toEqual(result.checks.map((c) => c.id).sort());
    expect(progress[0]).toEqual({ phase: 'targets-ready', targets: ['embedded server'] });
    expect(progress.filter((p) => p.phase === 'checks').map((p) => p.phase === 'checks' && `${p.checksDone}/${p.checksTotal}`)).toEqual(['0/3', '1/3', '2/3', '3/3']);
    expect(progress.at(-1)).toEqual({ phase: 'target-done', targetIndex: 0, target: 'embedded server', result });
    // Plain data: what JSON.stringify writes, the schema reads back unchanged.
    expect(conformanceResultSchema.parse(JSON.parse(JSON.stringify(result)))).toEqual(result);
  });

  it('an aborted run resolves at once with the checks finished, marked interrupted; later checks are not reported', { timeout: 30_000 }, async () => {
    const controller = new AbortController();
    let reported = 0;
    const results = await runConformance({ kind: 'embedded' }, {
      only: 'worker/',
      quick: true,
      seed: 1,
      signal: controller.signal,
      onResult: () => {
        reported++;
        controller.abort();
      },
    });
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ interrupted: true, target: 'embedded server' });
    expect(results[0].checks).toHaveLength(1);
    expect(results[0].passed + results[0].failed + results[0].skipped + results[0].notChecked).toBe(1);
    expect(conformanceResultSchema.safeParse(results[0]).success).toBe(true);
    // The abandoned checks go on in the background; the caller hears nothing more of them.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(reported).toBe(1);
  });

  it('a signal aborted before the call starts nothing: every target is an empty interrupted result', async () => {
    // `false` exits at once: started, it would be a TargetError.
    const results = await runConformance([{ kind: 'spawn', command: 'false {port}' }, { kind: 'address', address: '127.0.0.1:1' }], {
      signal: AbortSignal.abort(),
      seed: 3,
    });
    expect(results.map((r) => [r.target, r.interrupted, r.checks.length])).toEqual([
      ['false {port}', true, 0],
      ['127.0.0.1:1', true, 0],
    ]);
  });

  it('refuses what makes no run with typed errors, before any check', async () => {
    const port = await freePort();
    await expect(runConformance({ kind: 'address', address: `127.0.0.1:${port}` }, { only: ONLY })).rejects.toThrow(new TargetError(`cannot connect to 127.0.0.1:${port}`));
    await expect(runConformance({ kind: 'address', address: 'nowhere:' }, { only: ONLY })).rejects.toThrow(TargetError);
    await expect(runConformance({ kind: 'spawn', command: 'false {port}' }, { only: ONLY })).rejects.toThrow(/ended \(exit status 1\) before accepting connections/);
    await expect(runConformance({ kind: 'embedded', args: ['--profile', '1.13'] }, { only: ONLY })).rejects.toThrow(/apply to load runs only/);
    await expect(runConformance({ kind: 'embedded' }, { only: 'no/such/check' })).rejects.toThrow(new ConformanceError("no check id starts with 'no/such/check'"));
    await expect(runConformance({ kind: 'embedded' }, { profile: '1.14' as '1.12' })).rejects.toThrow(ConformanceError);
    await expect(runConformance({ kind: 'embedded' }, { seed: -1 })).rejects.toThrow(RangeError);
    await expect(runConformance([], {})).rejects.toThrow(ConformanceError);
  });
});

describe('runConformanceMutation', () => {
  const mutants = FAULTS.filter((f) => f.mutant).map((f) => f.name);

  it('runs the selected checks once per fault: a fault is caught when a check fails under it', { timeout: 120_000 }, async () => {
    const run = await runConformanceMutation({ only: 'worker/kick/', seed: 2 });
    expect(run).toMatchObject({ kind: 'conformance-mutation', seed: 2, profile: '1.12' });
    expect(run.interrupted).toBeUndefined();
    expect(run.faults.map((f) => f.name)).toEqual(mutants);
    expect(run.results.map((r) => r.target)).toEqual(mutants.map((name) => `embedded server with fault ${name}`));
    for (const [i, fault] of run.faults.entries()) {
      expect(fault.failing).toEqual(run.results[i].checks.filter((c) => c.status === 'fail').map((c) => c.id));
      expect(fault.caught).toBe(fault.failing.length > 0);
    }
    expect(run.score).toEqual({ caught: run.faults.filter((f) => f.caught).length, faults: mutants.length });
    // The kick cases catch the fault in kick and not one in pause-tube.
    expect(run.faults.find((f) => f.name === 'kick-one-fewer')?.caught).toBe(true);
    expect(run.faults.find((f) => f.name === 'pause-noop')?.caught).toBe(false);
  });

  it('aborted after the first fault: only that fault is listed, and the run is marked interrupted', { timeout: 60_000 }, async () => {
    const controller = new AbortController();
    const run = await runConformanceMutation({
      only: 'worker/kick/',
      signal: controller.signal,
      onProgress: (p) => p.phase === 'target-done' && controller.abort(),
    });
    expect(run.interrupted).toBe(true);
    expect(run.faults.map((f) => f.name)).toEqual([mutants[0]]);
    expect(run.score.faults).toBe(1);
    expect(run.results.map((r) => r.interrupted)).toEqual([undefined]);
  });
});

describe('the conformance result schema', () => {
  it("reads the JSON `beanlab conform --json` writes, and refuses another version with a message that says so", { timeout: 30_000 }, async () => {
    const file = join(dir, 'result.json');
    const code = await runConform({ profile: '1.12', concurrency: 4, only: ONLY, json: file }, () => {});
    expect(code).toBe(0);
    const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    expect(json.version).toBe(CONFORMANCE_RESULT_VERSION);
    expect(conformanceResultSchema.parse(json)).toEqual(json);

    const newer = conformanceResultSchema.safeParse({ ...json, version: 2 });
    expect(newer.success).toBe(false);
    expect(newer.error!.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)).toEqual([
      'version: this is a conformance result of version 2; this beanlab reads version 1 (run the suite again with this version, or read the file with the beanlab that wrote it)',
    ]);
    const unversioned = { ...json };
    delete unversioned.version;
    expect(conformanceResultSchema.safeParse(unversioned).error?.issues[0].message).toMatch(/^this is a conformance result of version undefined; this beanlab reads version 1/);
    expect(conformanceResultSchema.safeParse({ ...json, checks: [{ id: 'x' }] }).success).toBe(false);
  });
});

describeWithBeanstalkd('runConformance against beanstalkd', (binary) => {
  it('after an abort no further check starts: the run in the background stops spawning servers', { timeout: 60_000 }, async () => {
    // Every server the run starts leaves a line in the log: a spawn target is a server per case.
    const log = join(dir, 'spawned.log');
    const command = `sh -c 'echo started >> ${log}; exec ${binary} -l 127.0.0.1 -p {port}'`;
    const controller = new AbortController();
    const results = await runConformance({ kind: 'spawn', command }, {
      only: 'worker/',
      quick: true,
      seed: 1,
      concurrency: 2,
      signal: controller.signal,
      onResult: () => controller.abort(),
    });
    expect(results[0].interrupted).toBe(true);
    const spawned = () => readFileSync(log, 'utf8').split('\n').filter(Boolean).length;
    // The checks under way (two corpus cases, the properties' current sequences) finish; none after.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const afterSettling = spawned();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(spawned(), 'servers started by checks that began after the abort').toBe(afterSettling);
    // worker/ has over a hundred cases: without the abort the run would have gone on for them.
    expect(afterSettling).toBeLessThan(40);
  });

  it('a spawn command and the embedded server in one call: a result per target, in order', { timeout: 60_000 }, async () => {
    const command = `${binary} -l 127.0.0.1 -p {port}`;
    const results = await runConformance([{ kind: 'spawn', command }, { kind: 'embedded' }], { only: ONLY, seed: 5 });
    expect(results.map((r) => [r.target, r.passed, r.failed, r.seed])).toEqual([
      [command, 3, 0, 5],
      ['embedded server', 3, 0, 5],
    ]);
  });
});
