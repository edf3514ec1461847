// The terminal summary of a load run, in the manner of autocannon: boxed tables of latency and
// rates, then the job accounting, CPU, SLOs and anything that went wrong. Pure.
import type { LoadResult } from '../metrics/load-result.js';
import {
  LATENCY_COLUMNS,
  RATE_COLUMNS,
  TUBE_COLUMNS,
  cpuLine,
  eventsLine,
  harnessLine,
  headline,
  jobsLine,
  latencyNote,
  latencyRows,
  problemLines,
  rateRows,
  shardLines,
  sloRows,
  tubeRows,
  verdict,
} from './load-format.js';
import { TERMINAL_COLUMNS, wrapText } from './format.js';

/** A table drawn with box characters, first column left-aligned, the rest right-aligned. */
export function boxTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const rule = (left: string, mid: string, right: string) => left + widths.map((w) => '─'.repeat(w + 2)).join(mid) + right;
  const line = (cells: string[]) => '│' + cells.map((c, i) => ` ${i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])} `).join('│') + '│';
  return [rule('┌', '┬', '┐'), line(header), rule('├', '┼', '┤'), ...rows.map(line), rule('└', '┴', '┘')].join('\n');
}

/** A line of prose broken at spaces to fit the terminal; continuation lines are indented. */
function wrapLine(text: string): string {
  return wrapText(text, TERMINAL_COLUMNS, '  ').join('\n');
}

export function loadTerminalReport(result: LoadResult): string {
  const out: string[] = [wrapLine(headline(result)), ''];
  const latency = latencyRows(result);
  if (latency.length > 0) out.push(boxTable(LATENCY_COLUMNS, latency), '');
  const note = latencyNote(result);
  if (note) out.push(wrapLine(`note: ${note}`), '');
  out.push(boxTable(RATE_COLUMNS, rateRows(result)), '');
  if (Object.keys(result.byTube).length > 1) out.push(boxTable(TUBE_COLUMNS, tubeRows(result)), '');
  out.push(wrapLine(jobsLine(result)), wrapLine(eventsLine(result)), wrapLine(cpuLine(result)));
  const harness = harnessLine(result);
  if (harness) out.push(wrapLine(harness));
  for (const line of shardLines(result)) {
    // A shard's own line is indented under the shards' headline, and so are its continuations.
    out.push(line.startsWith('  ') ? wrapText(line.trimStart(), TERMINAL_COLUMNS - 2, '  ').map((l) => '  ' + l).join('\n') : wrapLine(line));
  }
  const slos = sloRows(result);
  if (slos.length > 0) {
    out.push('', 'SLOs:');
    for (const [pass, name, actual, limit] of slos) out.push(wrapLine(`  ${pass.toUpperCase().padEnd(4)}  ${name}: ${actual} (limit ${limit})`));
  }
  const problems = problemLines(result);
  if (problems.length > 0) out.push('', ...problems.map((p) => wrapLine(p)));
  out.push('', verdict(result));
  return out.join('\n') + '\n';
}
