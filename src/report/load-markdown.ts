// The Markdown report of a load run: the terminal summary's content as tables, for a PR or wiki.
import type { LoadResult } from '../metrics/load-result.js';
import { markdownTable } from './format.js';
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
  shardLines,
  rateRows,
  sloRows,
  tubeRows,
  verdict,
} from './load-format.js';

export function loadMarkdownReport(result: LoadResult): string {
  const out: string[] = [`# ${result.scenario} (load): ${verdict(result)}`, '', `${headline(result)}.`, ''];
  const problems = problemLines(result);
  if (problems.length > 0) out.push('## Problems', '', ...problems.map((p) => `- ${p}`), '');
  const slos = sloRows(result);
  if (slos.length > 0) out.push('## SLOs', '', markdownTable(['result', 'SLO', 'measured', 'limit'], slos), '');
  out.push('## Latency', '', markdownTable(LATENCY_COLUMNS, latencyRows(result)), '');
  const note = latencyNote(result);
  if (note) out.push(`Note: ${note}.`, '');
  out.push('## Throughput', '', markdownTable(RATE_COLUMNS, rateRows(result)), '');
  out.push('## Jobs', '', `${jobsLine(result)}.`, '', `${eventsLine(result)}.`, '', `${cpuLine(result)}.`, '');
  const harness = harnessLine(result);
  if (harness) out.push(`${harness}.`, '');
  const shards = shardLines(result);
  if (shards.length > 0) out.push('### Shards', '', ...shards.map((line) => (line.startsWith('  ') ? `- ${line.trim()}` : line)), '');
  out.push('### By tube', '', markdownTable(TUBE_COLUMNS, tubeRows(result)), '');
  const repeats = result.load.repeats;
  if (repeats.length > 1) {
    out.push(`${repeats.length} repeats were merged; their histograms add up exactly, and compare uses each repeat as one sample.`, '');
  }
  return out.join('\n');
}
