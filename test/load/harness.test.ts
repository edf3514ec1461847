// The load generator must not distort the load it makes, or must say so (issue 9, item 6): worker
// service timers never fire early, the open-loop producer sleeps instead of spinning a core, and
// the result carries configured against measured service times and the event loop's lag.
import { decodeFromCompressedBase64 } from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { RunClock } from '../../src/load/clock.js';
import { runLoad } from '../../src/load/run.js';
import { Deadline } from '../../src/load/timer.js';
import { harnessWarnings } from '../../src/metrics/load-harness.js';
import { LatencyHistogram } from '../../src/metrics/histogram.js';
import { describeWithBeanstalkd } from '../helpers/beanstalkd.js';
import { beanstalkdCommand, scenario } from './helpers.js';

/** Keeps the thread busy for ms: the event loop's cached time goes stale meanwhile. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('Deadline', () => {
  /**
   * How long past its time each of 20 timers of 1 ms fired (negative: early), each armed in a
   * busy event-loop turn. libuv keeps the loop's time in whole milliseconds: a timer armed at
   * 10.9 ms is due at 11, and a loop still busy at 11.2 fires it after 0.3 ms.
   */
  async function lateness(arm: (clock: RunClock, atUs: number, fire: () => void) => void): Promise<number[]> {
    const clock = new RunClock();
    const lateUs: number[] = [];
    for (let k = 0; k < 20; k++) {
      lateUs.push(
        await new Promise<number>((resolve) => {
          setImmediate(() => {
            busy((k * 0.037) % 1);
            const atUs = clock.nowUs() + 1000;
            arm(clock, atUs, () => resolve(clock.nowUs() - atUs));
            busy(0.9);
          });
        }),
      );
    }
    return lateUs;
  }

  it('never fires early on a busy event loop, where setTimeout does', async () => {
    const timeout = await lateness((clock, atUs, fire) => setTimeout(fire, Math.round((atUs - clock.nowUs()) / 1000)));
    expect(timeout.filter((us) => us < 0).length, 'setTimeout fired early (the fault this guards against)').toBeGreaterThan(0);
    const deadline = await lateness((clock, atUs, fire) => new Deadline(clock, atUs, fire));
    expect(deadline.filter((us) => us < 0)).toEqual([]);
  });

  it('can be cancelled', async () => {
    const clock = new RunClock();
    let fired = false;
    new Deadline(clock, clock.nowUs() + 1000, () => (fired = true)).cancel();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fired).toBe(false);
  });
});

describe('harness warnings', () => {
  const summary = (values: number[]) => {
    const h = new LatencyHistogram();
    for (const v of values) h.record(v);
    return h.summary();
  };
  it('warn when service runs 10% long, when puts go out late and when the loop lags, and not otherwise', () => {
    const calm = { serviceConfiguredUs: summary([20_000, 20_000]), serviceMeasuredUs: summary([20_300, 20_400]), sendLagUs: summary([300, 900]), eventLoopLagUs: summary([100, 2000]) };
    expect(harnessWarnings(calm)).toEqual([]);
    const distorted = { serviceConfiguredUs: summary([20_000, 20_000]), serviceMeasuredUs: summary([22_000, 22_000]), sendLagUs: summary(Array(100).fill(8000)), eventLoopLagUs: summary(Array(100).fill(30_000)) };
    const warnings = harnessWarnings(distorted);
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatch(/^worker service took 22 ms on average against 20 ms configured \(\+10%\)/);
    expect(warnings[1]).toMatch(/^open-loop puts went out late: p99 8\.00 ms/);
    expect(warnings[2]).toMatch(/^the load generator's event loop lagged: p99 30 ms/);
  });
});

describeWithBeanstalkd('the harness under load', (binary) => {
  const target = { kind: 'spawn' as const, command: beanstalkdCommand(binary) };

  it('does not keep a core busy producing 1,000 puts a second', async () => {
    const result = await runLoad(
      scenario(`
name: open-1000
durationSeconds: 2
producers: [{ tube: t, arrival: { process: constant, ratePerSecond: 1000 } }]
workers: [{ count: 2, watch: [t], service: { distribution: constant, seconds: 0 } }]
`),
      { target },
    );
    expect(result.jobs.put).toBeGreaterThan(1900);
    // Each put, reserve and delete costs tens of microseconds of CPU: a few percent of a core.
    // A scheduler that spins between puts uses all of it.
    expect(result.load.cpu.loadgenPercent).toBeLessThan(50);
    // Sleeping on timers sends puts a little late; the result says how late, and the put
    // latency, timed from the intended time, includes it: each percentile is at least the lag's.
    const lag = result.load.harness!.sendLagUs;
    const put = result.latency.putUs!;
    expect(lag.count).toBe(result.jobs.put);
    for (const stat of ['p50', 'p90', 'p99'] as const) expect(put[stat], stat).toBeGreaterThanOrEqual(lag[stat]);
  });

  it('never ends a worker service time early, and reports configured against measured', async () => {
    const result = await runLoad(
      scenario(`
name: short-service
durationSeconds: 2
producers: [{ tube: t, arrival: { process: constant, ratePerSecond: 3000 } }]
workers: [{ count: 40, watch: [t], service: { distribution: constant, seconds: 0.001 } }]
`),
      { target },
    );
    const h = result.load.harness!;
    expect(h.serviceConfiguredUs.count).toBeGreaterThan(1000);
    expect(h.serviceConfiguredUs.mean).toBe(1000);
    // Never early: every job worked at least its 1 ms, as timed by the worker and by the server's answers.
    expect(h.serviceMeasuredUs.count).toBe(h.serviceConfiguredUs.count);
    expect(h.serviceMeasuredUs.p50).toBeGreaterThanOrEqual(1000);
    // The smallest service time the workers saw, reservation to DELETED: never under 1 ms.
    expect(decodeFromCompressedBase64(result.latency.serviceUs.hdr).minNonZeroValue).toBeGreaterThanOrEqual(1000);
    expect(h.eventLoopLagUs.count).toBeGreaterThan(50);
    // Millisecond timers run a 1 ms job long: the result says so.
    expect(h.warnings.join()).toMatch(/worker service took [\d.]+ ms on average against 1\.00 ms configured/);
  });
});
