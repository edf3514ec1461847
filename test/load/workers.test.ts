// The workers' less common paths against a real beanstalkd: touching long jobs, releasing failed
// jobs with backoff, burying them for a kicker, and crashing (disconnect and hang) then coming
// back. Every job must still be accounted for, and each behaviour must show in the result.
import { expect, it } from 'vitest';
import { runLoad } from '../../src/load/run.js';
import { describeWithBeanstalkd } from '../helpers/beanstalkd.js';
import { beanstalkdCommand, scenario } from './helpers.js';

describeWithBeanstalkd('load workers against beanstalkd', (binary) => {
  const target = () => ({ kind: 'spawn' as const, command: beanstalkdCommand(binary) });

  it('touches, retries, buries for the kicker and survives crashes, losing no job', async () => {
    const seed = 11;
    const s = scenario(`
name: worker-paths
durationSeconds: 1
sampleEverySeconds: 0.1
tubes: [slow, flaky, crashy]
producers:
  - { tube: slow, arrival: { process: constant, ratePerSecond: 20 }, ttrSeconds: 1 }
  - { tube: flaky, arrival: { process: constant, ratePerSecond: 40 } }
  - { tube: crashy, arrival: { process: constant, ratePerSecond: 40 }, ttrSeconds: 1 }
workers:
  # 150 ms jobs touched every 50 ms.
  - { count: 4, watch: [slow], service: { distribution: constant, seconds: 0.15 }, touchEverySeconds: 0.05 }
  - count: 2
    watch: [flaky]
    service: { distribution: constant, seconds: 0 }
    failure: { probability: 0.5, policy: retry, maxRetries: 1, backoffSeconds: 1 }
  - { count: 2, watch: [crashy], service: { distribution: constant, seconds: 0.002 }, crash: { probability: 0.1, mode: disconnect, restartSeconds: 0.1 } }
  - { count: 1, watch: [crashy], service: { distribution: constant, seconds: 0.002 }, crash: { probability: 0.1, mode: hang, restartSeconds: 0.1 } }
kickers: [{ tube: flaky, everySeconds: 0.5 }]
# A job a hung worker held is not always back in the queue by the end of a drain (seen before
# the workers were callback-driven too), so the drain is bounded and such a job counts as remaining.
load: { drainSeconds: 3 }
`);
    console.log(`worker-paths seed ${seed}`);
    const result = await runLoad(s, { target: target(), seed });
    const { jobs, events } = result;
    expect(result.load.errors).toEqual([]);
    expect(jobs.put).toBeGreaterThan(80);
    expect(jobs.lost).toBe(0);
    expect(jobs.completed + jobs.buried + jobs.remaining).toBe(jobs.put);
    expect(events.retries).toBeGreaterThan(0);
    expect(events.crashes).toBeGreaterThan(0);
    // Jobs buried after their one retry are kicked back and finished or buried again.
    expect(events.kicked).toBeGreaterThan(0);
    // A hung worker's job comes back at its TTR and is worked again.
    expect(events.duplicateExecutions).toBeGreaterThan(0);
    const touchesPerSecond = result.load.series.commandsPerSecond.touch;
    expect(touchesPerSecond.some((rate) => rate > 0)).toBe(true);
    // Touched every 50 ms, no 150 ms job on a 1 s TTR comes back to be worked twice.
    expect(result.byTube.slow.jobs.duplicated).toBe(0);
    expect(result.byTube.slow.latency.serviceUs.p50).toBeGreaterThanOrEqual(150_000);
  }, 30_000);
});
