// What `beanlab load` points at, and how often: its drivers dial TCP, so UNIX-socket targets
// are refused with a clear message (bad input, exit status 2) before anything starts; A/B mode
// runs 5 pairs unless told otherwise.
import { describe, expect, it } from 'vitest';
import { runOptions, type LoadCliOptions } from '../../src/cli/load.js';
import { openTarget, TargetError } from '../../src/load/target.js';

describe('load targets', () => {
  it('refuses a unix:PATH target', async () => {
    const error = await openTarget({ kind: 'address', address: 'unix:/tmp/nowhere.sock' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TargetError);
    expect((error as Error).message).toBe('unix:/tmp/nowhere.sock: beanlab load drives TCP servers (HOST:PORT); unix: targets are for conform and replay');
  });

  it('refuses a spawn command without {port}, such as one with {socket}', async () => {
    const error = await openTarget({ kind: 'spawn', command: 'beanstalkd -l unix:{socket}' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TargetError);
    expect((error as Error).message).toMatch(/beanlab load drives TCP servers; the command needs a \{port\} placeholder/);
  });

  it('reports an unreachable HOST:PORT', async () => {
    const error = await openTarget({ kind: 'address', address: '127.0.0.1:1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TargetError);
    expect((error as Error).message).toBe('cannot connect to 127.0.0.1:1');
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
});
