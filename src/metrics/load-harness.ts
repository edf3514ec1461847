// Whether the load generator distorted the load it was asked to make: worker service times
// longer than configured (timers fire late on a busy event loop, and by whole milliseconds),
// open-loop puts sent late, an event loop that lagged. The figures are in every load result;
// this turns them into warnings the reports print. Pure.
import type { HistogramSummary } from './histogram.js';

export interface HarnessFigures {
  serviceConfiguredUs: HistogramSummary;
  serviceMeasuredUs: HistogramSummary;
  sendLagUs: HistogramSummary;
  eventLoopLagUs: HistogramSummary;
}

/** Service times may run this much longer than configured, on average, before a warning. */
export const SERVICE_OVERRUN_WARN = 0.05;
/** ... and this many microseconds (a 50 µs job 20 µs late is timer noise, not a distortion). */
const SERVICE_OVERRUN_MIN_US = 100;
/** Open-loop puts may go out this late (p99) before a warning. */
export const SEND_LAG_WARN_US = 5_000;
/** The event loop may lag this much (p99) before a warning. */
export const LOOP_LAG_WARN_US = 10_000;

/** How the warning about worker timers running late begins (validate accounts for it, and leaves it out). */
export const SERVICE_OVERRUN_WARNING = 'worker service took ';

export function harnessWarnings(h: HarnessFigures): string[] {
  const warnings: string[] = [];
  const configured = h.serviceConfiguredUs;
  const measured = h.serviceMeasuredUs;
  if (configured.count > 0 && measured.count > 0) {
    const overrunUs = measured.mean - configured.mean;
    if (overrunUs > SERVICE_OVERRUN_MIN_US && overrunUs > SERVICE_OVERRUN_WARN * configured.mean) {
      const percent = configured.mean > 0 ? Math.round((overrunUs / configured.mean) * 100) : Infinity;
      warnings.push(
        `${SERVICE_OVERRUN_WARNING}${ms(measured.mean)} on average against ${ms(configured.mean)} configured (+${percent}%): ` +
          `the load generator's timers ran late, so put-to-delete latencies include that`,
      );
    }
  }
  if (h.sendLagUs.count > 0 && h.sendLagUs.p99 > SEND_LAG_WARN_US) {
    warnings.push(
      `open-loop puts went out late: p99 ${ms(h.sendLagUs.p99)}, max ${ms(h.sendLagUs.max)} after their intended time ` +
        `(put latencies are timed from the intended time, so they include it)`,
    );
  }
  if (h.eventLoopLagUs.count > 0 && h.eventLoopLagUs.p99 > LOOP_LAG_WARN_US) {
    warnings.push(`the load generator's event loop lagged: p99 ${ms(h.eventLoopLagUs.p99)}, max ${ms(h.eventLoopLagUs.max)}; it was short of CPU`);
  }
  return warnings;
}

function ms(us: number): string {
  return us >= 10_000 ? `${Math.round(us / 1000)} ms` : `${(us / 1000).toFixed(2)} ms`;
}

/** A run's machine: cores in use on average, of how many, and the load generator's and the server's share. */
export interface MachineLoad {
  cores: number;
  busyCores: number;
  loadgenCores: number;
  /** null: the server's CPU is not known (its stats have no rusage) or it runs elsewhere. */
  serverCores: number | null;
}

/** Idle cores under this mean a saturated machine, where anything else running delays the run. */
const IDLE_CORES_WARN = 0.5;
/** ... and other processes' share above this is what saturated it (not the run itself). */
const OTHER_CORES_WARN = 0.25;
export const MACHINE_BUSY_WARNING = 'the machine was busy: ';

/**
 * A warning when the machine had no idle core to spare and processes other than the load
 * generator and the server took a share of it: their work shows as latency in the figures.
 */
export function machineWarning(m: MachineLoad): string | undefined {
  const others = m.busyCores - m.loadgenCores - (m.serverCores ?? 0);
  if (m.cores - m.busyCores >= IDLE_CORES_WARN || others <= OTHER_CORES_WARN) return undefined;
  const cores = (v: number) => Math.max(0, v).toFixed(1);
  return (
    `${MACHINE_BUSY_WARNING}${cores(m.busyCores)} of ${m.cores} cores in use on average during the run, ` +
    `${cores(others)} of them by other processes than the load generator${m.serverCores === null ? '' : ' and the server'}; ` +
    `the latencies include waiting for a core`
  );
}

