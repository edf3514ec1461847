// HTTP mode through a server stall (issue 9, item 5): autocannon's connections wait for each
// answer, so during a stall they send nothing and the requests of the stalled second are never
// sent. Every job must be timed from its intended start, and the requests never sent counted.
import { expect, it } from 'vitest';
import { runLoad } from '../../src/load/run.js';
import { spawnBeanstalkd } from '../../src/target/index.js';
import { describeWithBeanstalkd } from '../helpers/beanstalkd.js';
import { scenario } from './helpers.js';

const http = (seconds: number) =>
  scenario(`
name: http-stall
durationSeconds: ${seconds}
producers: [{ tube: web, arrival: { process: constant, ratePerSecond: 200 } }]
workers: [{ count: 2, watch: [web], service: { distribution: constant, seconds: 0 } }]
load: { http: { connections: 4 }, drainSeconds: 2 }
`);

describeWithBeanstalkd('HTTP mode through a stall', (binary) => {
  it('times jobs from their intended start and counts the requests never sent', async () => {
    const server = await spawnBeanstalkd({ binary });
    let stalled = false;
    try {
      // Stopped from 1.5 s to 3 s: the connections wait through all of second 2, whose quota is lost.
      const result = await runLoad(http(4), {
        target: { kind: 'address', address: `127.0.0.1:${server.port}` },
        onProgress: (p) => {
          if (!stalled && p.elapsedSeconds >= 1.5) {
            stalled = true;
            process.kill(server.pid, 'SIGSTOP');
            setTimeout(() => process.kill(server.pid, 'SIGCONT'), 1500);
          }
        },
      });
      const h = result.load.http!;
      expect(result.load.errors).toEqual([]);
      expect(h.scheduled).toBe(800);
      // The stalled second's quota is never sent: about 200 requests.
      expect(h.neverSent).toBeGreaterThan(100);
      expect(h.requests + h.neverSent!).toBeGreaterThanOrEqual(h.scheduled! - 4);
      // The jobs that waited out the stall show it: from their intended start, not their arrival.
      expect(result.latency.endToEndUs.p99).toBeGreaterThan(500_000);
      expect(result.latency.putUs!.p99).toBeGreaterThan(500_000);
      expect(h.latencyUs.max).toBeGreaterThan(800_000);
      expect(result.pass).toBe(false);
    } finally {
      process.kill(server.pid, 'SIGCONT');
      await server.stop();
    }
  }, 30_000);

  it('sends every scheduled request when nothing stalls', async () => {
    const server = await spawnBeanstalkd({ binary });
    try {
      const result = await runLoad(http(2), { target: { kind: 'address', address: `127.0.0.1:${server.port}` } });
      expect(result.load.http!.neverSent).toBe(0);
      expect(result.load.http!.scheduled).toBe(400);
      expect(result.jobs.completed).toBe(result.jobs.put);
      expect(result.pass).toBe(true);
    } finally {
      await server.stop();
    }
  }, 30_000);
});
