// The Markdown report: the same content as the terminal summary, as tables for a PR or wiki.
import type { Result } from '../metrics/result.js';
import {
  BREAKDOWN_COLUMNS,
  CAPACITY_COLUMNS,
  HISTOGRAM_COLUMNS,
  LATENCY_ROWS,
  breakdownCells,
  capacityCells,
  capacityRows,
  capacityVerdict,
  formatSloValue,
  formatUs,
  histogramCells,
  markdownTable,
} from './format.js';

export function markdownReport(result: Result): string {
  const out: string[] = [];
  out.push(`# ${result.scenario}: ${result.pass ? 'PASS' : 'FAIL'}`, '');
  out.push(`Seed ${result.seed}, ${formatUs(result.durationUs)} of ${result.clock === 'virtual' ? 'simulated' : 'real'} time, ${result.throughput.jobsPerSecond} jobs/s.`, '');
  if (result.slo.length > 0) {
    out.push('## SLOs', '');
    out.push(markdownTable(['SLO', 'result', 'measured', 'limit'], result.slo.map((s) => [s.name, s.pass ? 'pass' : '**fail**', formatSloValue(s), formatSloValue(s, s.limit)])), '');
  }
  const rows = capacityRows(result);
  if (rows.length > 0) {
    out.push('## Capacity', '');
    out.push(markdownTable([result.capacity!.key, ...CAPACITY_COLUMNS], rows.map((r) => [String(r.value), ...capacityCells(r.result)])), '');
    out.push(`${capacityVerdict(result)}.`, '');
  }
  const j = result.jobs;
  const e = result.events;
  out.push('## Jobs', '');
  out.push(markdownTable(['put', 'completed', 'buried', 'lost', 'duplicated', 'remaining'], [[j.put, j.completed, j.buried, j.lost, j.duplicated, j.remaining].map(String)]), '');
  out.push(
    markdownTable(
      ['retries', 'TTR expiries', 'duplicate executions', 'late completions', 'crashes', 'kicked'],
      [[e.retries, e.ttrExpiries, e.duplicateExecutions, e.lateCompletions, e.crashes, e.kicked].map(String)],
    ),
    '',
  );
  out.push(`The largest backlog cleared in ${formatUs(result.drainUs)}.`, '');
  out.push('## Latency', '');
  out.push(markdownTable(['', ...HISTOGRAM_COLUMNS], LATENCY_ROWS.map(([label, key]) => [label, ...histogramCells(result.latency[key])])), '');
  out.push('### By tube', '');
  out.push(markdownTable(['tube', ...BREAKDOWN_COLUMNS], Object.entries(result.byTube).map(([t, b]) => [t, ...breakdownCells(b)])), '');
  out.push('### By priority class', '');
  out.push(markdownTable(['priority', ...BREAKDOWN_COLUMNS], Object.entries(result.byPriority).map(([p, b]) => [p, ...breakdownCells(b)])), '');
  return out.join('\n');
}
