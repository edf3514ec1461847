// The short form of a sim or load result that `beanlab start` prints: a verdict, the job
// accounting, the p99 latencies, the SLOs in one line (each failing one on its own), anything
// that makes the run untrustworthy, and where the full report is. The full tables stay in
// `beanlab sim` / `beanlab load` and in the reports. Pure; every line fits 100 columns.
import type { HistogramSummary } from '../metrics/histogram.js';
import type { LoadResult } from '../metrics/load-result.js';
import type { Result, SloOutcome } from '../metrics/result.js';
import { formatSloValue, formatUs, TERMINAL_COLUMNS, wrapText } from './format.js';
import { problemLines, verdict } from './load-format.js';

const INDENT = '      ';

function sloLines(slos: readonly SloOutcome[]): string[] {
  if (slos.length === 0) return [];
  const held = slos.filter((s) => s.pass).length;
  const failing = slos
    .filter((s) => !s.pass)
    .flatMap((s) => wrapText(`${INDENT}FAIL  ${s.name}: ${formatSloValue(s)} (limit ${formatSloValue(s, s.limit)})`));
  return [`${INDENT}SLOs: ${held} of ${slos.length} hold`, ...failing];
}

function p99(h: HistogramSummary | undefined): string {
  return h && h.count > 0 ? formatUs(h.p99) : '-';
}

/** `beanlab sim` in a few lines. */
export function simStartSummary(result: Result, reportPath: string): string {
  const j = result.jobs;
  const lines = [
    ...wrapText(
      `${result.pass ? 'PASS' : 'FAIL'}  ${j.put} jobs put, ${j.completed} completed, ${j.buried} buried, ${j.lost} lost, ` +
        `${j.duplicated} duplicated, ${j.remaining} remaining in ${formatUs(result.durationUs)} simulated`,
    ),
    ...wrapText(
      `${INDENT}p99 queue wait ${p99(result.latency.queueWaitUs)}, service ${p99(result.latency.serviceUs)}, ` +
        `end to end ${p99(result.latency.endToEndUs)}; ${result.throughput.jobsPerSecond} jobs/s`,
    ),
    ...sloLines(result.slo),
    ...wrapText(`${INDENT}details: ${reportPath}`),
  ];
  return lines.join('\n') + '\n';
}

/** `beanlab load` in a few lines. */
export function loadStartSummary(result: LoadResult, reportPath: string): string {
  const j = result.jobs;
  const l = result.load;
  const rate = l.targetRatePerSecond === null ? 'closed loop' : `target ${l.targetRatePerSecond}`;
  const cpu = l.cpu.serverPercent === null ? '' : `; server CPU ${l.cpu.serverPercent}% of a core`;
  const lines = [
    ...wrapText(
      `${verdict(result)}  ${j.put} jobs put, ${j.completed} completed, ${j.buried} buried, ${j.remaining} still queued, ` +
        `${j.lost} lost, ${j.duplicated} run more than once in ${formatUs(result.durationUs)}${l.interrupted ? ' (INTERRUPTED)' : ''}`,
    ),
    ...wrapText(
      `${INDENT}p99 put ${p99(result.latency.putUs)}, put to reserve ${p99(result.latency.queueWaitUs)}, ` +
        `put to delete ${p99(result.latency.endToEndUs)}`,
    ),
    ...wrapText(`${INDENT}${l.achievedRatePerSecond} puts/s (${rate})${cpu}`),
    ...sloLines(result.slo),
    ...startProblemLines(result).flatMap((line) => wrapText(`${INDENT}${line}`)),
    ...wrapText(`${INDENT}details: ${reportPath}`),
  ];
  return lines.join('\n') + '\n';
}

/**
 * The load's problems for the summary: every verdict line as it is, and its warnings (the load
 * generator short of CPU, its timers late: a busy machine) in one line, since the report has them.
 */
function startProblemLines(result: LoadResult): string[] {
  const lines = problemLines(result);
  const warnings = lines.filter((line) => line.startsWith('warning: ')).map((line) => line.slice('warning: '.length));
  if (warnings.length === 0) return lines;
  // Each warning's first clause ("worker service took 6.66 ms on average against 5.76 ms configured (+16%)").
  const joined = `warning: ${warnings.map((w) => w.split(': ')[0]).join('; ')}`;
  const count = warnings.length === 1 ? 'a warning' : `${warnings.length} warnings`;
  const summary = joined.length + INDENT.length <= TERMINAL_COLUMNS ? joined : `warning: the load generator or a busy machine distorted the load (${count} in the report)`;
  return [...lines.filter((line) => !line.startsWith('warning: ')), summary];
}
