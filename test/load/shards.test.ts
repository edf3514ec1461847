// Load beyond one process (issue 12), against a real beanstalkd: `load --processes 2` accounts for
// every job as one process does; shards started separately and merged afterwards account for
// every job, with a job put by one shard and completed by another counted completed; a lying
// server still shows as lost jobs through the reconciliation; a missing shard makes jobs
// unverified, not lost; the start barrier and --start-at start shards together.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, expect, it } from 'vitest';
import { Client } from '../../src/client/client.js';
import { encodeBody } from '../../src/load/body.js';
import { runLoad } from '../../src/load/run.js';
import { runTokenOf } from '../../src/load/shard.js';
import { loadTerminalReport } from '../../src/report/load-table.js';
import { decodeIds } from '../../src/metrics/id-list.js';
import { loadResultSchema, type LoadResult } from '../../src/metrics/load-result.js';
import { mergeShards } from '../../src/metrics/shard-merge.js';
import { spawnBeanstalkd, type SpawnedServer } from '../../src/target/index.js';
import { runBeanlab } from '../helpers/beanlab-cli.js';
import { describeWithBeanstalkd } from '../helpers/beanstalkd.js';
import { startFaultProxy, swallowPuts, type FaultProxy } from '../helpers/fault-proxy.js';
import { scenario } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'beanlab-shards-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const read = (file: string): LoadResult => loadResultSchema.parse(JSON.parse(readFileSync(file, 'utf8')));

/** How many jobs a shard's workers completed that another shard put. */
const completedForSiblings = (r: LoadResult) => r.load.shard!.facts!.completedForSiblings.reduce((n, g) => n + decodeIds(g.ids).length, 0);

/** Every acknowledged job completed, buried or (bounded runs) still queued: nothing lost, twice or unknown. */
function expectAccounted(r: LoadResult): void {
  const { jobs } = r;
  expect(r.load.errors).toEqual([]);
  expect(jobs.lost).toBe(0);
  expect(jobs.unverified ?? 0).toBe(0);
  expect(r.load.integrity.duplicateDeliveries).toBe(0);
  expect(r.load.integrity.unclaimedCompletions ?? 0).toBe(0);
  expect(r.load.integrity.tubeMismatches ?? []).toEqual([]);
  expect(r.load.unanswered?.total ?? 0).toBe(0);
  expect(jobs.completed + jobs.buried + jobs.remaining).toBe(jobs.put);
}

describeWithBeanstalkd('shards of one run against one beanstalkd', (binary) => {
  const spawn = `${binary} -l 127.0.0.1 -p {port}`;
  let server: SpawnedServer & { port: number };
  let proxy: FaultProxy | undefined;

  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
    await server?.stop();
  });

  it('load --processes 2 of the smoke scenario accounts for every job, the same total as one process', async () => {
    const one = join(dir, 'one.json');
    const two = join(dir, 'two.json');
    // Side by side: one process, then two, each against a fresh beanstalkd.
    const single = await runBeanlab(['load', 'scenarios/smoke.yaml', '--spawn', spawn, '--json', one], { timeoutMs: 90_000 });
    const sharded = await runBeanlab(['load', 'scenarios/smoke.yaml', '--spawn', spawn, '--processes', '2', '--json', two], { timeoutMs: 90_000 });
    // 0, or 1 when a latency SLO is missed on a busy machine; never a crash or bad input.
    for (const run of [single, sharded]) expect([0, 1], run.stderr).toContain(run.code);
    const a = read(one);
    const b = read(two);
    for (const r of [a, b]) expectAccounted(r);
    expect(b.jobs.remaining).toBe(0);
    expect(b.load.shard).toMatchObject({ count: 2, coordinated: true, gone: 0 });
    expect(b.load.shard!.shards!.map((s) => s.index)).toEqual([0, 1]);
    expect(b.load.shard!.shards!.reduce((n, s) => n + s.puts, 0)).toBe(b.jobs.put);
    // The constant 20/s producer for 3 s: 60 puts, split between the shards in phase (61 when
    // the arrival times, summed in floating point, land a hair before the 3 s bound).
    for (const r of [a, b]) expect([60, 61]).toContain(r.byTube.reports.jobs.put);
    // Poisson 100/s for 3 s: 300 expected, sd 17; the two runs draw different arrivals.
    for (const r of [a, b]) expect(Math.abs(r.byTube.emails.jobs.put - 300)).toBeLessThan(5 * 17.3);
    // Every put's latency, every job's first reservation timed once: no retry counted as waiting.
    expect(b.latency.putUs!.count).toBe(b.jobs.put);
    expect(b.latency.queueWaitUs.count).toBe(b.jobs.put);
    expect(b.load.workerConnections).toBe(a.load.workerConnections);
    expect(sharded.stdout).toMatch(/shards: 2 of 2 of run smoke-/);
    expect(sharded.stdout).toMatch(/^ {2}shard 1: \d+ puts, \d+ completed; CPU [\d.]+ s, .* per put or completion; event-loop lag/m);
    // Prose within 100 columns (the tables are as wide as their columns).
    expect(sharded.stdout.split('\n').filter((line) => line.length > 100 && !/^[┌│├└]/.test(line))).toEqual([]);
    expect(sharded.stdout).not.toMatch(/LOST|UNVERIFIED|UNCLAIMED|GONE/);
  }, 200_000);

  it('two --shard i/2 runs started separately, then merged, account for every job with puts summed', async () => {
    server = await spawnBeanstalkd({ binary });
    const target = `127.0.0.1:${server.port}`;
    const files = [0, 1].map((i) => join(dir, `separate-${i}.json`));
    const first = runBeanlab(['load', 'scenarios/smoke.yaml', '--target', target, '--shard', '0/2', '--json', files[0]], { timeoutMs: 90_000 });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const second = runBeanlab(['load', 'scenarios/smoke.yaml', '--target', target, '--shard', '1/2', '--json', files[1]], { timeoutMs: 90_000 });
    const runs = await Promise.all([first, second]);
    const shards = files.map(read);
    for (const [k, s] of shards.entries()) {
      expect(s.load.shard, runs[k].stderr).toMatchObject({ index: k, count: 2 });
      // A shard alone never calls lost what a sibling may have completed.
      expect(s.jobs.lost).toBe(0);
    }
    expect(shards[0].load.shard!.runId).toBe(shards[1].load.shard!.runId);
    // The shards shared the tubes: some jobs of one were completed by the other.
    expect(completedForSiblings(shards[0]) + completedForSiblings(shards[1])).toBeGreaterThan(0);

    const mergedFile = join(dir, 'separate-merged.json');
    const merge = await runBeanlab(['merge', '--json', mergedFile, '--scenario', 'scenarios/smoke.yaml', ...files], { timeoutMs: 30_000 });
    const merged = read(mergedFile);
    expect(merged.jobs.put).toBe(shards[0].jobs.put + shards[1].jobs.put);
    expect(merged.jobs.put).toBeGreaterThan(250);
    expectAccounted(merged);
    expect(merged.jobs.remaining).toBe(0);
    expect(merged.jobs.completed).toBe(shards[0].jobs.completed + shards[1].jobs.completed);
    expect(merge.stdout).toMatch(/shards: 2 of 2/);
    expect(merge.stdout).not.toMatch(/LOST|UNVERIFIED|UNCLAIMED/);
  }, 120_000);

  it('shows puts a lying server swallowed as lost once the shards are merged, and unverified without a missing shard', async () => {
    server = await spawnBeanstalkd({ binary });
    // Shard 0 goes through a proxy that answers five of its puts INSERTED with ids no job has.
    proxy = await startFaultProxy(server.port, [swallowPuts({ after: 10, count: 5, fakeId: (k) => 900_000_000 + k })]);
    const s = scenario(`
name: lying
durationSeconds: 1
producers: [{ tube: t, arrival: { process: constant, ratePerSecond: 60 } }]
workers: [{ count: 2, watch: [t], service: { distribution: constant, seconds: 0 } }]
load: { drainSeconds: 3 }
`);
    const options = (index: number, port: number) => ({
      target: { kind: 'address' as const, address: `127.0.0.1:${port}` },
      shard: { index, count: 2 },
      runId: 'lying-1',
      barrierTimeoutMs: 20_000,
    });
    const [s0, s1] = await Promise.all([runLoad(s, options(0, proxy.port)), runLoad(s, options(1, server.port))]);
    expect(s0.jobs.lost).toBe(0);
    expect(s0.load.shard!.gone).toBeGreaterThanOrEqual(5);
    expect(completedForSiblings(s0) + completedForSiblings(s1)).toBeGreaterThan(0);
    const merged = mergeShards([s0, s1], s.slos);
    expect(merged.jobs.lost).toBe(5);
    expect(merged.load.integrity.lostIds).toEqual([900_000_000, 900_000_001, 900_000_002, 900_000_003, 900_000_004]);
    expect(merged.jobs.completed + merged.jobs.lost).toBe(merged.jobs.put);
    expect(merged.pass).toBe(false);
    // Without shard 1 nobody can tell which of shard 0's gone jobs shard 1 completed.
    const alone = mergeShards([s0]);
    expect(alone.jobs.lost).toBe(0);
    expect(alone.jobs.unverified).toBe(s0.load.shard!.gone);
    expect(alone.load.integrity.unverifiedReason).toMatch(/shard 1 of 2 missing/);
  }, 60_000);

  it('fails a run whose tubes held a job an earlier run with the same run id left (taken as its own, claimed by no shard)', async () => {
    server = await spawnBeanstalkd({ binary });
    const s = scenario(`
name: stale
durationSeconds: 1
producers: [{ tube: t, arrival: { process: constant, ratePerSecond: 40 } }]
workers: [{ count: 1, watch: [t], service: { distribution: constant, seconds: 0 } }]
load: { drainSeconds: 3 }
`);
    // What an interrupted earlier run with id stale-1 left behind: a job with its token.
    const client = await Client.connect({ host: '127.0.0.1', port: server.port });
    await client.use('t');
    await client.put(encodeBody({ run: runTokenOf('stale-1'), dueEpochUs: Date.now() * 1000 - 60e6, group: 0, pri: 1024, ttrSeconds: 60 }, 64));
    await client.close();
    const options = (index: number) => ({ target: { kind: 'address' as const, address: `127.0.0.1:${server.port}` }, shard: { index, count: 2 }, runId: 'stale-1', barrierTimeoutMs: 20_000 });
    const merged = mergeShards(await Promise.all([runLoad(s, options(0)), runLoad(s, options(1))]), s.slos);
    expect(merged.jobs.lost).toBe(0);
    expect(merged.load.integrity.unclaimedCompletions).toBe(1);
    expect(merged.pass).toBe(false);
    expect(loadTerminalReport(merged)).toMatch(/UNCLAIMED: 1 completed jobs/);
  }, 60_000);

  it('starts shards together at the barrier, and says so when the others never come', async () => {
    server = await spawnBeanstalkd({ binary });
    const target = `127.0.0.1:${server.port}`;
    // Shard 1 writes its result as a pod would to its log (--json -): the table, then the JSON.
    const files = [join(dir, 'barrier-0.json'), '-'];
    const args = (i: number) => ['load', 'scenarios/smoke.yaml', '--target', target, '--shard', `${i}/2`, '--barrier', '--run-id', 'barrier-1', '--duration', '1', '--json', files[i]];
    const first = runBeanlab(args(0), { timeoutMs: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const [, second] = await Promise.all([first, runBeanlab(args(1), { timeoutMs: 60_000 })]);
    const log = join(dir, 'barrier-1.log');
    writeFileSync(log, second.stderr + second.stdout);
    expect(second.stdout.trim().split('\n')).toHaveLength(1);
    const a = read(files[0]);
    const b = loadResultSchema.parse(JSON.parse(second.stdout));
    expect(Math.abs(a.load.shard!.startedAtMs - b.load.shard!.startedAtMs)).toBeLessThan(300);
    for (const r of [a, b]) expect(r.load.shard!.coordinated).toBe(true);
    const mergedFile = join(dir, 'barrier-merged.json');
    const merge = await runBeanlab(['merge', '--json', mergedFile, files[0], log], { timeoutMs: 30_000 });
    expect(merge.code, merge.stderr).toBe(0);
    const merged = read(mergedFile);
    expectAccounted(merged);
    expect(merged.jobs.put).toBe(a.jobs.put + b.jobs.put);
    // Coordinated: audited after both stopped, so the tubes' counts were checked over the union.
    expect(merged.load.integrity.notes ?? []).not.toContainEqual(expect.stringMatching(/not checked across shards/));

    const lonely = await runBeanlab(['load', 'scenarios/smoke.yaml', '--target', target, '--shard', '0/2', '--barrier-timeout', '1', '--run-id', 'lonely'], {
      timeoutMs: 30_000,
    });
    expect(lonely.code).toBe(2);
    expect(lonely.stderr).toMatch(/the start barrier: 1 of 2 shards of run lonely had started after 1 s/);
  }, 120_000);

  it('starts a shard at --start-at', async () => {
    server = await spawnBeanstalkd({ binary });
    const file = join(dir, 'start-at.json');
    const startAtMs = Date.now() + 2500;
    const run = await runBeanlab(
      ['load', 'scenarios/smoke.yaml', '--target', `127.0.0.1:${server.port}`, '--shard', '0/1', '--start-at', String(startAtMs), '--duration', '1', '--json', file],
      { timeoutMs: 60_000 },
    );
    const r = read(file);
    expect(r.load.shard!.startedAtMs, run.stderr).toBeGreaterThanOrEqual(startAtMs - 1);
    expect(r.load.shard!.startedAtMs).toBeLessThan(startAtMs + 500);
    expect(r.load.shard!.runId).toMatch(new RegExp(`-${startAtMs}$`));
  }, 60_000);
});
