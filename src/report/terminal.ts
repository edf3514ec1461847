// The terminal summary printed after `beanlab sim`: a pure function of the result.
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
  textTable,
} from './format.js';

/** `showSeed: false` when the caller printed the seed already (the seed is printed once per run). */
export function terminalSummary(result: Result, { showSeed = true }: { showSeed?: boolean } = {}): string {
  const out: string[] = [];
  const clock = result.clock === 'virtual' ? 'simulated' : 'real time';
  const seed = showSeed ? `  seed ${result.seed}` : '';
  out.push(`${result.scenario}${seed}  ${formatUs(result.durationUs)} ${clock}  ${result.pass ? 'PASS' : 'FAIL'}`);
  const j = result.jobs;
  out.push(`jobs: ${j.put} put, ${j.completed} completed, ${j.buried} buried, ${j.lost} lost, ${j.duplicated} duplicated, ${j.remaining} remaining`);
  const e = result.events;
  out.push(
    `events: ${e.retries} retries, ${e.ttrExpiries} TTR expiries, ${e.duplicateExecutions} duplicate executions, ` +
      `${e.lateCompletions} late completions, ${e.crashes} crashes, ${e.kicked} kicked`,
  );
  out.push(`throughput: ${result.throughput.jobsPerSecond} jobs/s; largest backlog cleared in ${formatUs(result.drainUs)}`);
  out.push('');
  out.push(textTable(['latency', ...HISTOGRAM_COLUMNS], LATENCY_ROWS.map(([label, key]) => [label, ...histogramCells(result.latency[key])])));
  if (Object.keys(result.byTube).length > 1) {
    out.push('', textTable(['tube', ...BREAKDOWN_COLUMNS], Object.entries(result.byTube).map(([t, b]) => [t, ...breakdownCells(b)])));
  }
  if (Object.keys(result.byPriority).length > 1) {
    out.push('', textTable(['priority', ...BREAKDOWN_COLUMNS], Object.entries(result.byPriority).map(([p, b]) => [p, ...breakdownCells(b)])));
  }
  if (result.slo.length > 0) {
    out.push('', 'SLOs:');
    for (const s of result.slo) {
      out.push(`  ${s.pass ? 'PASS' : 'FAIL'}  ${s.name}: ${formatSloValue(s)} (limit ${formatSloValue(s, s.limit)})`);
    }
  }
  const rows = capacityRows(result);
  if (rows.length > 0) {
    const key = result.capacity!.key;
    out.push('', textTable([key, ...CAPACITY_COLUMNS], rows.map((r) => [String(r.value), ...capacityCells(r.result)])));
    out.push(capacityVerdict(result));
  }
  return out.join('\n') + '\n';
}
