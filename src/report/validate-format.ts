// The views of a validation (src/validate): the terminal table (100 columns), Markdown, and the
// shared cells. Pure functions of the Validation.
import type { Validation, Verdict } from '../validate/index.js';
import { formatUs, markdownTable, textTable, wrapText, TERMINAL_COLUMNS } from './format.js';

export const VALIDATE_COLUMNS = ['metric', 'simulated', 'band', 'measured', 'rank', ''];

/** A metric's value with its unit. */
export function formatValue(row: Pick<Verdict, 'metric'>, value: number): string {
  switch (row.metric.unit) {
    case 'us':
      return formatUs(value);
    case 'jobs/s':
      return `${+value.toPrecision(4)}/s`;
    case 'jobs':
      return String(Math.round(value));
  }
}

/** `4.12–5.01 ms` when both ends share a unit, else `980 µs – 1.20 ms`. */
export function formatRange(row: Pick<Verdict, 'metric'>, a: number, b: number): string {
  const [x, y] = [formatValue(row, a), formatValue(row, b)];
  if (x === y) return x;
  const unit = / (µs|ms|s)$/.exec(x)?.[0];
  if (unit !== undefined && y.endsWith(unit) && !x.includes('m ') && !y.includes('m ')) return `${x.slice(0, -unit.length)}–${y}`;
  return `${x} – ${y}`;
}

export function statusWord(row: Verdict): string {
  switch (row.status) {
    case 'inside':
      return 'ok';
    case 'above':
      return 'ABOVE';
    case 'below':
      return 'BELOW';
    case 'unchecked':
      return 'n/c';
  }
}

export function rowCells(row: Verdict): string[] {
  return [
    row.label,
    formatRange(row, row.min, row.max),
    formatRange(row, row.lo, row.hi),
    row.measured === null ? '-' : formatValue(row, row.measured),
    row.rank === null ? '-' : `${row.rank}/${row.values.length}`,
    statusWord(row),
  ];
}

/** `AGREE` / `DISAGREE`, and a sentence of why. */
export function validationHeadline(v: Validation): string {
  const checked = v.rows.filter((r) => r.status !== 'unchecked');
  const off = checked.filter((r) => r.status !== 'inside');
  const problems = [
    ...(v.measured.interrupted ? ['the real run was interrupted, so it is shorter than the prediction'] : []),
    ...(v.measured.errors.length > 0 ? [`the real run had errors (${v.measured.errors[0]})`] : []),
  ];
  const verdict = v.agree ? 'AGREE' : 'DISAGREE';
  const why =
    off.length === 0
      ? `all ${checked.length} checked metrics inside their bands`
      : `${off.length} of ${checked.length} checked metrics outside their bands: ` +
        off.map((r) => `${r.label} ${r.status === 'above' ? 'above' : 'below'}`).join(', ');
  return `${v.scenario}: ${verdict} (${[...problems, why].join('; ')})`;
}

/** How the prediction was made, in one or two sentences. */
export function validationMethod(v: Validation): string {
  const s = v.simulated;
  const seeds = s.groups * s.repeat;
  const duration = v.durationSeconds === null ? 'the scenario as written' : `${formatUs(v.durationSeconds * 1e6)} of producing`;
  const runs = v.measured.seeds.length;
  const grouped = s.repeat > 1 ? ` in ${s.groups} groups of ${s.repeat} (each value a group's median)` : '';
  const median = runs > 1 ? `the median of ${runs} real runs` : 'one real run';
  return (
    `Simulated ${seeds} seeds (${s.firstSeed}..${s.firstSeed + seeds - 1})${grouped}, ${duration}; measured ${median} ` +
    `(seed${runs > 1 ? 's' : ''} ${v.measured.seeds.join(', ')}) against ${v.measured.target}. Band: the simulated range ` +
    `widened on each side by ${v.options.spread} times its width and ${Math.round(v.options.tolerance * 1000) / 10}% of the edge, ` +
    `latencies by ${formatUs(v.options.slackUs)} more${measuredSlackClause(v)}. ` +
    serverSentence(v)
  );
}

/** How far the measured path widened the latency bands beyond --slack, when it did. */
function measuredSlackClause(v: Validation): string {
  const m = v.options.measuredSlackUs;
  if (m === undefined) return '';
  const stat = (name: 'queueWait' | 'endToEnd') =>
    (['mean', 'p50', 'p90', 'p99'] as const).map((s) => `${s} ${formatUs(Math.max(v.options.slackUs, m[name][s]))}`).join(', ');
  return (
    ', or by what the path and the load generator added during the real run where that was more (the send lag of puts plus ' +
    `the delay of reading a reply: an echo server's round trips beyond the calibrated one, or the loop's own lag; no server ` +
    `involved): queue wait ${stat('queueWait')}; ` +
    `end to end ${stat('endToEnd')}`
  );
}

/** What the simulator was told of the server and the load generator, and where that came from. */
export function serverSentence(v: Validation): string {
  const c = v.calibration;
  if (c === null) {
    return `Round trip ${formatUs(v.server.roundTripUs)}, command cost ${formatUs(v.server.commandCostUs)} (the scenario's server setting, not calibrated).`;
  }
  const cost =
    c.serverCostUs > 0
      ? `the server's own cost per command appears to be ${formatUs(c.serverCostUs)}`
      : `the server's own cost per command appears to be nil (it answered ${formatUs(-c.serverCostUs)} sooner than beanlab's echo server)`;
  return (
    `Round trip ${formatUs(v.server.roundTripUs)}, calibrated from the path alone: a TCP handshake to the server ` +
    `(${formatUs(c.handshakeUs)}), less one to beanlab's echo server (${formatUs(c.echoHandshakeUs)}), plus a command's round trip ` +
    `through the load generator to that echo server (${formatUs(c.echoCommandUs)}); command cost ${formatUs(v.server.commandCostUs)} ` +
    `(the scenario's). A command took ${formatUs(c.targetCommandUs)} against the server: ${cost}, which the prediction leaves out. ` +
    `Worker timers fired ${formatUs(c.serviceLateUs)} late on average in the real run${v.measured.seeds.length > 1 ? 's' : ''}: ` +
    `the simulated service times are that much longer.`
  );
}

export function validateTerminalReport(v: Validation): string {
  const rows = v.rows.map(rowCells);
  const out = [
    ...wrapText(`validate ${validationHeadline(v)}`, TERMINAL_COLUMNS, '  '),
    ...wrapText(validationMethod(v), TERMINAL_COLUMNS, ''),
    '',
    fitTable(VALIDATE_COLUMNS, rows),
  ];
  const unchecked = v.rows.filter((r) => r.status === 'unchecked');
  if (unchecked.length > 0) out.push('', ...wrapText(uncheckedNote(unchecked), TERMINAL_COLUMNS, '  '));
  for (const warning of v.measured.warnings ?? []) out.push(...wrapText(`load generator: ${warning}`, TERMINAL_COLUMNS, '  '));
  return out.join('\n') + '\n';
}

/** The table, its metric column cut short (…) when a long tube name would pass 100 columns. */
function fitTable(header: string[], rows: string[][]): string {
  const others = header.slice(1).reduce((sum, h, i) => sum + 2 + Math.max(h.length, ...rows.map((r) => r[i + 1].length)), 0);
  const room = Math.max(12, TERMINAL_COLUMNS - others);
  const cut = (label: string) => (label.length > room ? `${label.slice(0, room - 1)}…` : label);
  return textTable(header, rows.map(([label, ...rest]) => [cut(label), ...rest]));
}

/** One sentence for the statistics left unjudged, rather than a note per row. */
export function uncheckedNote(unchecked: readonly Verdict[]): string {
  const missing = unchecked.filter((r) => r.measured === null).length;
  const few = unchecked.length - missing;
  const parts = [
    ...(few > 0 ? [`${few} with too few jobs behind them to mean anything (mean and p50 need 20, p90 100, p99 1000)`] : []),
    ...(missing > 0 ? [`${missing} the real run does not have`] : []),
  ];
  return `n/c: ${unchecked.length} not checked: ${parts.join('; ')}.`;
}

export function validateMarkdown(v: Validation): string {
  return [
    `# validate ${v.scenario}: ${v.agree ? 'AGREE' : 'DISAGREE'}`,
    '',
    `${validationHeadline(v)}.`,
    '',
    validationMethod(v),
    '',
    ...(v.measured.warnings ?? []).map((w) => `- load generator: ${w}`),
    ...((v.measured.warnings ?? []).length > 0 ? [''] : []),
    markdownTable(
      ['metric', 'simulated min–max', 'band', 'measured', 'rank', 'verdict'],
      v.rows.map((r) => {
        const cells = rowCells(r);
        if (r.status === 'above' || r.status === 'below') cells[5] = `**${cells[5]}**`;
        if (r.note) cells[5] += ` (${r.note})`;
        return cells;
      }),
    ),
    '',
  ].join('\n');
}
