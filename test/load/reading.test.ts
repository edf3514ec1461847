// How a load result reads (issue 9, items 8 and 9): closed-loop reports say their percentiles
// leave out the time a put waited for a pipeline slot, and rates are over the producing window,
// so the length of the drain (which swings with retry backoff) does not move them.
import { expect, it } from 'vitest';
import { runLoad } from '../../src/load/run.js';
import { loadHtmlReport } from '../../src/report/load-html.js';
import { loadMarkdownReport } from '../../src/report/load-markdown.js';
import { loadTerminalReport } from '../../src/report/load-table.js';

/** The terminal report with its wrapped lines joined again. */
const unwrapped = (text: string) => text.replace(/\n  /g, ' ');
import { spawnBeanstalkd } from '../../src/target/index.js';
import { describeWithBeanstalkd } from '../helpers/beanstalkd.js';
import { beanstalkdCommand, scenario, steady } from './helpers.js';

const assets = { uplotJs: '', uplotCss: '' };

describeWithBeanstalkd('reading a load result', (binary) => {
  it('says plainly that closed-loop percentiles leave out the waiting time: a stall shows only in max', async () => {
    const server = await spawnBeanstalkd({ binary });
    let stalled = false;
    try {
      const result = await runLoad(
        scenario(`
name: closed-stall
durationSeconds: 2
producers: [{ tube: t, arrival: { process: constant, ratePerSecond: 1 } }]
workers: [{ count: 0, watch: [t], service: { distribution: constant, seconds: 0 } }]
load: { mode: closed, connections: 1, pipeline: 4 }
`),
        {
          target: { kind: 'address', address: `127.0.0.1:${server.port}` },
          onProgress: (p) => {
            if (!stalled && p.elapsedSeconds >= 0.7) {
              stalled = true;
              process.kill(server.pid, 'SIGSTOP');
              setTimeout(() => process.kill(server.pid, 'SIGCONT'), 500);
            }
          },
        },
      );
      const put = result.latency.putUs!;
      // Four puts waited out the stall; the thousands sent after it never waited in any figure.
      expect(put.max).toBeGreaterThan(400_000);
      expect(put.p99).toBeLessThan(put.max / 4);
      const note = /closed loop: each put is timed from when it was sent.*waiting time is left out of every percentile, so a server stall shows only in max/;
      expect(unwrapped(loadTerminalReport(result))).toMatch(note);
      expect(loadMarkdownReport(result)).toMatch(note);
      expect(loadHtmlReport(result, assets)).toMatch(note);
    } finally {
      process.kill(server.pid, 'SIGCONT');
      await server.stop();
    }
  }, 30_000);

  it('says nothing of the kind for an open loop, where every put is timed from its intended time', async () => {
    const result = await runLoad(steady(100, 0.3), { target: { kind: 'spawn', command: beanstalkdCommand(binary) } });
    expect(unwrapped(loadTerminalReport(result))).not.toMatch(/left out of every percentile/);
  });

  it('measures jobs per second over the producing window, not over the drain', async () => {
    // Half the jobs fail once and come back 3 s later: the drain takes 3 s.
    const result = await runLoad(
      scenario(`
name: backoff
durationSeconds: 1
producers: [{ tube: t, arrival: { process: constant, ratePerSecond: 100 } }]
workers: [{ count: 2, watch: [t], service: { distribution: constant, seconds: 0 }, failure: { probability: 0.5, policy: retry, maxRetries: 1, backoffSeconds: 3 } }]
load: { drainSeconds: 6 }
`),
      { target: { kind: 'spawn', command: beanstalkdCommand(binary) }, seed: 5 },
    );
    expect(result.jobs.completed + result.jobs.buried).toBe(result.jobs.put);
    expect(result.durationUs).toBeGreaterThan(3_500_000);
    const l = result.load;
    expect(result.throughput.jobsPerSecond).toBeCloseTo((l.completedWhileProducing! * 1e6) / l.producingUs, 2);
    // About half the puts completed while producing; over the whole run it would be a quarter.
    expect(result.throughput.jobsPerSecond).toBeGreaterThan(0.4 * result.throughput.putsPerSecond!);
  }, 30_000);
});
