// How busy the whole machine was during a run, from the kernel's CPU time counters (/proc/stat,
// Linux): other processes' work on a saturated machine delays the load generator and the server
// alike, and shows as latency no simulator and no baseline predicts. Elsewhere there is no
// figure and no warning.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

export interface MachineCpuSample {
  /** Clock ticks spent busy (user, nice, system, irq, softirq, steal) over all CPUs. */
  busyTicks: number;
  /** Every clock tick over all CPUs, busy or idle. */
  totalTicks: number;
}

export function sampleMachineCpu(): MachineCpuSample | undefined {
  try {
    const line = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0];
    // cpu  user nice system idle iowait irq softirq steal guest guest_nice (guest is inside user)
    const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
    if (!line.startsWith('cpu ') || fields.length < 8 || fields.some((f) => !Number.isFinite(f))) return undefined;
    const [user, nice, system, idle, iowait, irq, softirq, steal] = fields;
    const busyTicks = user + nice + system + irq + softirq + steal;
    return { busyTicks, totalTicks: busyTicks + idle + iowait };
  } catch {
    return undefined;
  }
}

/** Cores in use on average between two samples, of how many; undefined without both samples. */
export function machineCoresBusy(from: MachineCpuSample | undefined, to: MachineCpuSample | undefined): { busyCores: number; cores: number } | undefined {
  if (!from || !to) return undefined;
  const total = to.totalTicks - from.totalTicks;
  if (!(total > 0)) return undefined;
  const cores = cpus().length;
  return { busyCores: ((to.busyTicks - from.busyTicks) / total) * cores, cores };
}
