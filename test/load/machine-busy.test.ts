// A run on a saturated machine says so (the load report's and validate's warnings): other
// processes' work delays the load generator and the server alike and shows as latency that no
// simulation or baseline predicts. Measured from the kernel's CPU counters (Linux).
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { machineCoresBusy, sampleMachineCpu } from '../../src/load/machine-cpu.js';
import { runLoad } from '../../src/load/run.js';
import { MACHINE_BUSY_WARNING, machineWarning } from '../../src/metrics/load-harness.js';
import { steady } from './helpers.js';

describe('machineWarning', () => {
  it('warns when no core is idle and other processes took a share, and not otherwise', () => {
    // Two cores, both busy: 1.2 of them someone else's.
    expect(machineWarning({ cores: 2, busyCores: 1.9, loadgenCores: 0.4, serverCores: 0.3 })).toBe(
      `${MACHINE_BUSY_WARNING}1.9 of 2 cores in use on average during the run, 1.2 of them by other processes than the load ` +
        'generator and the server; the latencies include waiting for a core',
    );
    // The run saturated the machine by itself (put-max): its own doing, no warning.
    expect(machineWarning({ cores: 2, busyCores: 1.95, loadgenCores: 1, serverCores: 0.9 })).toBeUndefined();
    // Others busy, but a core to spare: nothing waited for one.
    expect(machineWarning({ cores: 2, busyCores: 1.3, loadgenCores: 0.1, serverCores: 0.1 })).toBeUndefined();
    // The server's CPU unknown: it counts among the others, and the warning says so.
    expect(machineWarning({ cores: 2, busyCores: 1.9, loadgenCores: 0.4, serverCores: null })).toMatch(/by other processes than the load generator;/);
  });

  it('reads the machine\'s CPU counters: a busy loop shows as about a core', async () => {
    const before = sampleMachineCpu();
    expect(before, '/proc/stat').toBeDefined();
    const untilMs = performance.now() + 300;
    while (performance.now() < untilMs);
    const busy = machineCoresBusy(before, sampleMachineCpu());
    expect(busy?.cores).toBe(availableParallelism());
    expect(busy!.busyCores).toBeGreaterThan(0.8);
  });
});

describe('a load run on a saturated machine', () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
  });

  it('warns that the machine was busy, naming the other processes\' share', { timeout: 60_000 }, async () => {
    // One busy loop per core (each bounded in time, and killed after): no core left idle.
    for (let i = 0; i < availableParallelism(); i++) {
      children.push(spawn(process.execPath, ['-e', 'const end = Date.now() + 30000; while (Date.now() < end);'], { stdio: 'ignore' }));
    }
    // Two repeats: the merged result keeps the parts' warning (it is not recomputable from the figures).
    const result = await runLoad(steady(200, 1.5), { target: { kind: 'embedded' }, seed: 3, repeat: 2 });
    const warnings = result.load.harness?.warnings ?? [];
    expect(warnings.find((w) => w.startsWith(MACHINE_BUSY_WARNING)), warnings.join('\n')).toMatch(
      /^the machine was busy: in 2 of 2 parts, other processes held its cores/,
    );
    // compare's sample of the run carries it, so that a gate's table can say so.
    expect(result.load.repeats.map((r) => r.machineBusy)).toEqual([true, true]);
  });
});
