// Verdicts under the faults that would fool them (issue 9): a proxy in front of a real beanstalkd
// that lies about job ids and deletes (test/helpers/fault-proxy.ts), and a beanstalkd stopped
// with SIGSTOP mid-run. Each run is a second or two, bounded by its scenario and reply timeout.
import { afterEach, expect, it } from 'vitest';
import { runLoad, type LoadOptions } from '../../src/load/run.js';
import type { LoadResult } from '../../src/metrics/load-result.js';
import { mergeLoadResults } from '../../src/metrics/load-merge.js';
import { loadTerminalReport } from '../../src/report/load-table.js';

/** The terminal report with its wrapped lines joined again. */
const unwrapped = (text: string) => text.replace(/\n  /g, ' ');
import { spawnBeanstalkd, type SpawnedServer } from '../../src/target/index.js';
import { describeWithBeanstalkd } from '../helpers/beanstalkd.js';
import { deleteKeepsJob, inflateTotalJobs, shiftIds, startFaultProxy, swallowPuts, type Fault, type FaultProxy } from '../helpers/fault-proxy.js';
import { scenario } from './helpers.js';

/** Open loop at `rate` puts/s for `seconds`, `workers` workers deleting at once, a short drain. */
function run(rate: number, seconds: number, workers: number) {
  return scenario(`
name: integrity
durationSeconds: ${seconds}
producers: [{ tube: t, arrival: { process: constant, ratePerSecond: ${rate} } }]
workers: [{ count: ${workers}, watch: [t], service: { distribution: constant, seconds: 0 } }]
load: { drainSeconds: 1 }
`);
}

describeWithBeanstalkd('load verdicts under a lying server', (binary) => {
  let server: SpawnedServer & { port: number };
  let proxy: FaultProxy | undefined;

  const through = async (faults: Fault[], s: ReturnType<typeof run>, options: LoadOptions = {}): Promise<LoadResult> => {
    server = await spawnBeanstalkd({ binary });
    proxy = await startFaultProxy(server.port, faults);
    return runLoad(s, { target: { kind: 'address', address: `127.0.0.1:${proxy.port}` }, ...options });
  };

  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
    await server?.stop();
  });

  it('tracks ids below the first id it expected, and finds the 10 jobs the server dropped', async () => {
    // stats says a million jobs came before; the ids start at 1 all the same.
    const fakeIds = (k: number) => 900_000 + k;
    const result = await through([inflateTotalJobs(1_000_000), swallowPuts({ after: 5, count: 10, fakeId: fakeIds })], run(100, 1, 2));
    expect(proxy!.state.faulted).toBeGreaterThanOrEqual(10);
    expect(result.jobs.put).toBe(proxy!.state.puts);
    expect(result.jobs.lost).toBe(10);
    expect(result.load.integrity.lostIds).toEqual(Array.from({ length: 10 }, (_, k) => fakeIds(k)));
    expect(result.jobs.completed + result.jobs.lost).toBe(result.jobs.put);
    expect(result.pass).toBe(false);
    expect(unwrapped(loadTerminalReport(result))).toMatch(/LOST: 10 acknowledged jobs/);
  });

  it('tracks ids far above the others: a server numbering from 4,000,000,001, and 10 lies in that range', async () => {
    const honest = await through([shiftIds(4_000_000_000)], run(100, 0.5, 2));
    expect(honest.load.errors).toEqual([]);
    expect(honest.jobs.put).toBeGreaterThan(30);
    expect(honest.jobs.completed).toBe(honest.jobs.put);
    expect(honest.pass).toBe(true);
    await proxy!.close();
    await server.stop();
    const lying = await through([swallowPuts({ after: 5, count: 10, fakeId: (k) => 4_000_000_001 + k })], run(100, 0.5, 0));
    expect(lying.jobs.lost).toBe(10);
    expect(lying.load.integrity.lostIds).toContain(4_000_000_001);
    expect(lying.jobs.remaining).toBe(lying.jobs.put - 10);
    expect(lying.pass).toBe(false);
  });

  it('calls fake ids that later real jobs took lost jobs, not duplicate deliveries', async () => {
    // Each dropped put is answered with an id the server gives a real job a moment later.
    const result = await through([swallowPuts({ after: 5, count: 10, fakeId: (k, state) => state.lastInsertedId + 5 + k })], run(100, 1, 2));
    expect(result.jobs.lost).toBe(10);
    expect(result.load.integrity.duplicateDeliveries).toBe(0);
    expect(result.load.integrity.duplicatedIds).toEqual([]);
    expect(result.jobs.duplicated).toBe(0);
    const report = unwrapped(loadTerminalReport(result));
    expect(report).not.toMatch(/DUPLICATED/);
    expect(report).toMatch(/LOST: 10 /);
    expect(result.pass).toBe(false);
  });

  it('fails a server that answers DELETED but keeps the job', async () => {
    const result = await through([deleteKeepsJob(60)], run(50, 1, 2));
    expect(result.jobs.completed).toBeGreaterThan(20);
    expect(result.load.integrity.undeleted).toBe(result.jobs.completed);
    expect(result.load.integrity.completedChecked).toBe(result.jobs.completed);
    // A --target server may be shared, so its tube counts are a note; the ids are the verdict.
    expect(result.load.integrity.notes!.join()).toMatch(/tube t holds \d+ jobs; the run left 0 there/);
    expect(result.pass).toBe(false);
    expect(unwrapped(loadTerminalReport(result))).toMatch(/NOT DELETED: \d+ jobs answered DELETED are still on the server \(\d+ delayed;/);
    // Merged results keep the finding (beanlab merge).
    const merged = mergeLoadResults([result, result], 'sequential');
    expect(merged.load.integrity.undeleted).toBe(2 * result.load.integrity.undeleted!);
    expect(merged.load.integrity.undeletedByState).toEqual({ delayed: 2 * result.load.integrity.undeleted! });
    expect(merged.pass).toBe(false);
  });
});

describeWithBeanstalkd('load verdicts when the server stops answering', (binary) => {
  it('counts unanswered puts at their age, says when the server stopped, and calls its jobs unverified, not lost', async () => {
    const server = await spawnBeanstalkd({ binary });
    let stoppedAtSeconds: number | undefined;
    try {
      const result = await runLoad(run(200, 4, 0), {
        target: { kind: 'address', address: `127.0.0.1:${server.port}` },
        requestTimeoutMs: 1000,
        onProgress: (p) => {
          if (stoppedAtSeconds === undefined && p.elapsedSeconds >= 1) {
            stoppedAtSeconds = p.elapsedSeconds;
            process.kill(server.pid, 'SIGSTOP');
          }
        },
      });
      const u = result.load.unanswered!;
      expect(result.jobs.put).toBeGreaterThan(150);
      expect(result.jobs.lost).toBe(0);
      expect(result.jobs.unverified).toBe(result.jobs.put);
      expect(result.load.integrity.unverifiedReason).toMatch(/could not ask/);
      expect(u.puts).toBeGreaterThan(50);
      // The server stopped answering when it was stopped (give or take a progress tick).
      expect(Math.abs(u.sinceUs! / 1e6 - stoppedAtSeconds!)).toBeLessThan(0.2);
      // Unanswered puts are in the put latency, at their age when the run ended.
      const put = result.latency.putUs!;
      expect(put.count).toBe(result.jobs.put + u.puts);
      expect(put.max).toBeGreaterThan(800_000);
      expect(put.p99).toBeGreaterThan(500_000);
      const report = unwrapped(loadTerminalReport(result));
      expect(report).toMatch(/UNANSWERED: \d+ operations got no answer \(\d+ puts/);
      expect(report).toMatch(/the server stopped answering at 1\.\d s/);
      expect(report).toMatch(/UNVERIFIED: \d+ acknowledged jobs/);
      expect(report).not.toMatch(/LOST/);
      expect(result.pass).toBe(false);
      // Merged results keep the unanswered operations, the unverified jobs and the failure.
      const merged = mergeLoadResults([result, result], 'sequential');
      expect(merged.load.unanswered).toEqual({ total: 2 * u.total, puts: 2 * u.puts, workerOps: 2 * u.workerOps, sinceUs: u.sinceUs });
      expect(merged.jobs.unverified).toBe(2 * result.jobs.unverified!);
      expect(merged.pass).toBe(false);
    } finally {
      process.kill(server.pid, 'SIGCONT');
      await server.stop();
    }
  }, 30_000);
});
