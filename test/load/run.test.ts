// The load runner against a real beanstalkd: short, small runs, each bounded to a few seconds.
import { expect, it } from 'vitest';
import { Client } from '../../src/client/client.js';
import { runLoad } from '../../src/load/run.js';
import { spawnBeanstalkd } from '../../src/target/index.js';
import { describeWithBeanstalkd } from '../helpers/beanstalkd.js';
import { beanstalkdCommand, scenario, steady } from './helpers.js';

describeWithBeanstalkd('beanlab load against beanstalkd', (binary) => {
  const target = () => ({ kind: 'spawn' as const, command: beanstalkdCommand(binary) });

  it('accounts for every job of a mixed open-loop run, per tube, with its latencies', async () => {
    const s = scenario(`
name: mixed
durationSeconds: 1
tubes: [a, b]
producers:
  - { tube: a, arrival: { process: poisson, ratePerSecond: 80 }, priority: { high: 1, normal: 1 } }
  - { tube: b, arrival: { process: constant, ratePerSecond: 20 }, priority: low, delaySeconds: 1 }
workers:
  - { count: 2, watch: [a], service: { distribution: constant, seconds: 0.002 }, failure: { probability: 0.2, policy: bury } }
  - { count: 1, watch: [b], service: { distribution: constant, seconds: 0 } }
load: { drainSeconds: 5 }
slos:
  - { metric: lost, max: 0 }
`);
    const result = await runLoad(s, { target: target(), seed: 7 });
    const { jobs } = result;
    expect(result.load.errors).toEqual([]);
    expect(jobs.put).toBeGreaterThan(60);
    expect(jobs.lost).toBe(0);
    expect(jobs.remaining).toBe(0);
    expect(jobs.completed + jobs.buried).toBe(jobs.put);
    expect(jobs.buried).toBeGreaterThan(0);
    expect(result.byTube.a.jobs.put + result.byTube.b.jobs.put).toBe(jobs.put);
    expect(Object.keys(result.byPriority).sort()).toEqual(['high', 'low', 'normal']);
    expect(result.latency.putUs!.count).toBe(jobs.put);
    expect(result.latency.endToEndUs.count).toBe(jobs.completed);
    // Jobs on b were delayed a second: their put-to-reserve is timed from when they were due.
    expect(result.byTube.b.latency.queueWaitUs.p50).toBeLessThan(500_000);
    expect(result.load.series.tUs.length).toBeGreaterThan(0);
    expect(result.load.cpu.serverPercent).not.toBeNull();
    expect(result.pass).toBe(true);
  });

  it('gives workers the service times the scenario asks for', async () => {
    const s = scenario(`
name: service
durationSeconds: 1
producers: [{ tube: s, arrival: { process: constant, ratePerSecond: 150 } }]
workers: [{ count: 20, watch: [s], service: { distribution: exponential, meanSeconds: 0.02 } }]
`);
    const result = await runLoad(s, { target: target(), seed: 3 });
    const service = result.latency.serviceUs;
    expect(service.count).toBe(result.jobs.completed);
    // Exponential with a 20 ms mean: median 14 ms, p90 46 ms (plus a round trip and timer slack).
    expect(service.mean).toBeGreaterThan(15_000);
    expect(service.mean).toBeLessThan(35_000);
    expect(service.p90).toBeGreaterThan(2 * service.p50);
  });

  it('runs closed loop with a pipeline, leaving the jobs queued and accounted for', async () => {
    const s = scenario(`
name: closed
durationSeconds: 0.5
producers: [{ tube: put-max, arrival: { process: constant, ratePerSecond: 1 }, bodyBytes: 100 }]
workers: [{ count: 0, watch: [put-max], service: { distribution: constant, seconds: 0 } }]
load: { mode: closed, connections: 2, pipeline: 16 }
`);
    const result = await runLoad(s, { target: target() });
    expect(result.load.mode).toBe('closed');
    expect(result.load.targetRatePerSecond).toBeNull();
    expect(result.jobs.put).toBeGreaterThan(1000);
    expect(result.jobs.remaining).toBe(result.jobs.put);
    expect(result.jobs.lost).toBe(0);
    expect(result.throughput.putsPerSecond).toBeGreaterThan(2000);
    expect(result.pass).toBe(true);
  });

  it('reports an acknowledged job that disappears as lost, by id, and fails the run', async () => {
    const s = scenario(`
name: lossy
durationSeconds: 1
producers: [{ tube: t, arrival: { process: constant, ratePerSecond: 40 } }]
workers: [{ count: 0, watch: [t], service: { distribution: constant, seconds: 0 } }]
`);
    const server = await spawnBeanstalkd({ binary });
    let thief: Promise<void> | undefined;
    const result = await runLoad(s, {
      target: { kind: 'address', address: `127.0.0.1:${server.port}` },
      onProgress: (p) => {
        // Someone else deletes job 3 behind the run's back, as a buggy server might drop it.
        if (p.puts >= 5 && thief === undefined) {
          thief = Client.connect({ port: server.port }).then(async (client) => {
            await client.delete(3);
            await client.close();
          });
        }
      },
    }).finally(() => server.stop());
    await thief;
    expect(result.jobs.lost).toBe(1);
    expect(result.load.integrity.lostIds).toEqual([3]);
    expect(result.jobs.remaining).toBe(result.jobs.put - 1);
    expect(result.pass).toBe(false);
  });

  it('fails the run and counts the jobs unverified, not lost, when the server is killed (SIGKILL) under it', async () => {
    const server = await spawnBeanstalkd({ binary });
    let killed = false;
    const result = await runLoad(scenario(`
name: doomed
durationSeconds: 20
producers: [{ tube: t, arrival: { process: constant, ratePerSecond: 50 } }]
workers: [{ count: 0, watch: [t], service: { distribution: constant, seconds: 0 } }]
`), {
      target: { kind: 'address', address: `127.0.0.1:${server.port}` },
      onProgress: (p) => {
        if (p.puts >= 10 && !killed) {
          killed = true;
          process.kill(server.pid, 'SIGKILL');
        }
      },
    }).finally(() => server.stop());
    expect(result.load.errors.length).toBeGreaterThan(0);
    // Nobody could ask the server where its jobs are: they are unverified, with the reason.
    expect(result.jobs.lost).toBe(0);
    expect(result.jobs.unverified).toBe(result.jobs.put);
    expect(result.load.integrity.unverifiedIds!.slice(0, 3)).toEqual([1, 2, 3]);
    expect(result.load.integrity.unverifiedReason).toMatch(/final audit could not connect/);
    expect(result.pass).toBe(false);
  });

  it('stops cleanly on abort and still accounts for every job', async () => {
    const controller = new AbortController();
    let abortedAt: number | undefined;
    // Aborted once the run is under way (a timer from the start would race the server's start).
    const result = await runLoad(steady(100, 30), {
      target: target(),
      signal: controller.signal,
      onProgress: (p) => {
        if (abortedAt === undefined && p.puts >= 20) {
          abortedAt = Date.now();
          controller.abort();
        }
      },
    });
    expect(Date.now() - abortedAt!).toBeLessThan(8000);
    expect(result.load.interrupted).toBe(true);
    expect(result.jobs.put).toBeGreaterThanOrEqual(20);
    expect(result.jobs.lost).toBe(0);
    expect(result.jobs.completed + result.jobs.remaining + result.jobs.buried).toBe(result.jobs.put);
  });

  it('drives the same scenario through jackd', async () => {
    const result = await runLoad(steady(100, 0.5), { target: target(), driver: 'jackd' });
    expect(result.load.driver).toBe('jackd');
    expect(result.load.errors).toEqual([]);
    expect(result.jobs.put).toBeGreaterThan(30);
    expect(result.jobs.completed).toBe(result.jobs.put);
  });

  it('enqueues through HTTP driven by autocannon and reports the HTTP latency beside the jobs', async () => {
    const result = await runLoad(
      scenario(`
name: http
durationSeconds: 1
producers: [{ tube: web, arrival: { process: constant, ratePerSecond: 100 } }]
workers: [{ count: 2, watch: [web], service: { distribution: constant, seconds: 0 } }]
load: { http: { connections: 4 } }
`),
      { target: target() },
    );
    expect(result.load.driver).toBe('http');
    expect(result.load.http!.requests).toBeGreaterThan(50);
    expect(result.load.http!.latencyUs.count).toBeGreaterThanOrEqual(result.load.http!.requests);
    // autocannon stops counting at its deadline; requests still in flight then were served too.
    expect(result.jobs.put).toBeGreaterThanOrEqual(result.load.http!.requests);
    expect(result.jobs.put).toBeLessThanOrEqual(result.load.http!.requests + 4);
    expect(result.jobs.completed).toBe(result.jobs.put);
  });
});

