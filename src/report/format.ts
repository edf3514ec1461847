// Shared formatting for the report views: durations with units people read, and plain tables.
import type { HistogramSummary } from '../metrics/histogram.js';
import type { Breakdown, Result, RunResult, SloOutcome } from '../metrics/result.js';

export function formatUs(us: number): string {
  if (us < 1000) return `${Math.round(us)} µs`;
  if (us < 1e6) return `${(us / 1000).toPrecision(3)} ms`;
  if (us < 60e6) return `${(us / 1e6).toPrecision(3)} s`;
  const totalSeconds = Math.round(us / 1e6);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  return hours > 0 ? `${hours}h ${pad(minutes)}m ${pad(seconds)}s` : `${minutes}m ${pad(seconds)}s`;
}

export function formatSloValue(outcome: Pick<SloOutcome, 'actual' | 'unit'>, value: number | null = outcome.actual): string {
  if (value === null) return 'n/a';
  if (outcome.unit === 'seconds') return formatUs(value * 1e6);
  if (outcome.unit === 'jobs/s') return `${value} jobs/s`;
  return `${value} jobs`;
}

export const LATENCY_ROWS = [
  ['queue wait', 'queueWaitUs'],
  ['service', 'serviceUs'],
  ['end to end', 'endToEndUs'],
] as const;

export const HISTOGRAM_COLUMNS = ['count', 'mean', 'p50', 'p90', 'p99', 'p99.9', 'max'];

export function histogramCells(h: HistogramSummary): string[] {
  return [String(h.count), ...[h.mean, h.p50, h.p90, h.p99, h.p999, h.max].map((us) => (h.count === 0 ? '-' : formatUs(us)))];
}

/** Rows for a breakdown table (per tube or per priority class). */
export const BREAKDOWN_COLUMNS = ['put', 'completed', 'buried', 'duplicated', 'remaining', 'p99 queue wait', 'p99 end to end'];

export function breakdownCells(b: Breakdown): string[] {
  const p99 = (h: HistogramSummary) => (h.count === 0 ? '-' : formatUs(h.p99));
  return [
    String(b.jobs.put),
    String(b.jobs.completed),
    String(b.jobs.buried),
    String(b.jobs.duplicated),
    String(b.jobs.remaining),
    p99(b.latency.queueWaitUs),
    p99(b.latency.endToEndUs),
  ];
}

/** Plain-text table with columns padded to their widest cell. */
export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function markdownTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), `|${header.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`, ...rows.map(line)].join('\n');
}

export interface CapacityRow {
  value: number;
  result: RunResult;
}

/** The sweep's runs in order, each with its swept value. */
export function capacityRows(result: Result): CapacityRow[] {
  const key = result.capacity?.key;
  if (!result.sweep || key === undefined) return [];
  return result.sweep.map((entry) => ({ value: entry[key] as number, result: entry.result }));
}

export const CAPACITY_COLUMNS = ['SLOs', 'p99 queue wait', 'p99 end to end', 'jobs/s', 'buried', 'remaining'];

export function capacityCells(run: RunResult): string[] {
  const failed = run.slo.filter((s) => !s.pass).length;
  const p99 = (h: HistogramSummary) => (h.count === 0 ? '-' : formatUs(h.p99));
  return [
    failed === 0 ? 'pass' : `${failed} failed`,
    p99(run.latency.queueWaitUs),
    p99(run.latency.endToEndUs),
    String(run.throughput.jobsPerSecond),
    String(run.jobs.buried),
    String(run.jobs.remaining),
  ];
}

export function capacityVerdict(result: Result): string {
  const capacity = result.capacity!;
  const what = capacity.key === 'workers' ? 'worker count' : capacity.key;
  return capacity.value === null
    ? `no ${what} tried meets every SLO`
    : `smallest ${what} meeting every SLO: ${capacity.value}`;
}

/** Terminal output fits this many columns. */
export const TERMINAL_COLUMNS = 100;

/**
 * Splits text at spaces into lines of at most `width` columns (a word longer than that stays
 * whole); the text's own leading spaces start the first line, `indent` the later ones.
 */
export function wrapText(text: string, width: number = TERMINAL_COLUMNS, indent = '      '): string[] {
  const lead = /^ */.exec(text)![0];
  const lines: string[] = [];
  let line = lead;
  for (const word of text.slice(lead.length).split(' ')) {
    const fresh = line.trim() === '';
    const candidate = fresh ? `${line}${word}` : `${line} ${word}`;
    if (!fresh && candidate.length > width) {
      lines.push(line);
      line = `${indent}${word}`;
    } else {
      line = candidate;
    }
  }
  lines.push(line);
  return lines;
}
