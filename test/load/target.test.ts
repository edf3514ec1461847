// What `beanlab load` points at, and how often: TCP or a UNIX-domain socket (unix:PATH, a
// {socket} command), every job accounted for either way; the jackd driver, which dials TCP only,
// refuses a socket with a clear message; an unreachable target is bad input; A/B mode runs 5
// pairs unless told otherwise.
import { describe, expect, it } from 'vitest';
import { confidenceLevel, runOptions, type LoadCliOptions } from '../../src/cli/load.js';
import { runLoad } from '../../src/load/run.js';
import { openTarget } from '../../src/target/open.js';
import { TargetError } from '../../src/target/spec.js';
import { spawnServer } from '../../src/target/spawn.js';
import { describeWithBeanstalkd } from '../helpers/beanstalkd.js';
import { steady } from './helpers.js';
import { BEANLAB_BIN } from '../helpers/beanlab-cli.js';

const serveUnix = `${process.execPath} ${BEANLAB_BIN} serve --unix {socket}`;

describe('load over a UNIX-domain socket', () => {
  it('runs against `beanlab serve --unix {socket}` and accounts for every job', { timeout: 60_000 }, async () => {
    const result = await runLoad(steady(200, 0.5), { target: { kind: 'spawn', command: serveUnix } });
    expect(result.jobs.put).toBeGreaterThan(50);
    expect(result.jobs.completed).toBe(result.jobs.put);
    expect(result.jobs.lost).toBe(0);
  });

  it('runs against a unix:PATH target that is already up', { timeout: 60_000 }, async () => {
    const server = await spawnServer(serveUnix, { startTimeoutMs: 30_000 });
    try {
      const result = await runLoad(steady(200, 0.3), { target: { kind: 'address', address: `unix:${server.path}` } });
      expect(result.jobs.lost).toBe(0);
      expect(result.jobs.completed).toBeGreaterThan(0);
    } finally {
      await server.stop();
    }
  });

  it('refuses the jackd driver there, which dials TCP only', { timeout: 60_000 }, async () => {
    const scenario = steady(100, 0.2, '  driver: jackd');
    const error = await runLoad(scenario, { target: { kind: 'spawn', command: serveUnix } }).catch((e: unknown) => e);
    expect(String(error)).toMatch(/the jackd driver connects over TCP only/);
  });
});

describeWithBeanstalkd('load over a UNIX-domain socket: beanstalkd 1.12', (binary) => {
  it('runs against beanstalkd -l unix:{socket}', { timeout: 60_000 }, async () => {
    const result = await runLoad(steady(200, 0.5), { target: { kind: 'spawn', command: `${binary} -l unix:{socket}` } });
    expect(result.jobs.put).toBeGreaterThan(50);
    expect(result.jobs.lost).toBe(0);
  });
});

describe('load targets', () => {
  it('reports an unreachable HOST:PORT or unix:PATH', async () => {
    for (const address of ['127.0.0.1:1', 'unix:/tmp/beanlab-nowhere.sock']) {
      const error = await openTarget({ kind: 'address', address }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TargetError);
      expect((error as Error).message).toBe(`cannot connect to ${address}`);
    }
  });
});

describe('load --repeat default', () => {
  const base: LoadCliOptions = { seed: 1, threshold: 'p99=+10%' };
  it('is 1 for a plain run and 5 in A/B mode, the fewest pairs that can give a verdict', () => {
    expect(runOptions(base).repeat).toBe(1);
    expect(runOptions({ ...base, baselineTarget: '127.0.0.1:11300' }).repeat).toBe(5);
    expect(runOptions({ ...base, baselineSpawn: 'beanstalkd -p {port}' }).repeat).toBe(5);
    expect(runOptions({ ...base, baselineTarget: '127.0.0.1:11300', repeat: 2 }).repeat).toBe(2);
  });

  it('at --confidence 0.99 an A/B run runs the pairs that level needs; --confidence needs an A/B run', () => {
    expect(runOptions({ ...base, baselineTarget: '127.0.0.1:11300', threshold: 'p99=+10%,throughput=-5%', confidence: 0.99 }).repeat).toBe(7);
    expect(runOptions({ ...base, baselineTarget: '127.0.0.1:11300', confidence: 0.99, repeat: 3 }).repeat).toBe(3);
    expect(() => runOptions({ ...base, confidence: 0.99 })).toThrow(/--confidence is an A\/B run's comparison's: it needs --baseline-target or --baseline-spawn/);
    expect(confidenceLevel('0.99')).toBe(0.99);
    expect(confidenceLevel('99.9%')).toBeCloseTo(0.999, 12);
    for (const bad of ['1', '0.5', '99', '100%', 'high', '.']) expect(() => confidenceLevel(bad), bad).toThrow(/--confidence must be above 0.5 and below 1, as 0.99 or 99%/);
  });

  it('--order-seed orders an A/B run, and is refused without one', () => {
    expect(runOptions({ ...base, baselineTarget: '127.0.0.1:11300', orderSeed: 9 }).orderSeed).toBe(9);
    expect(() => runOptions({ ...base, orderSeed: 9 })).toThrow(/--order-seed orders the runs of an A\/B run: it needs --baseline-target or --baseline-spawn/);
  });
});
