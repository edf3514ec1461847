// The validation as a self-contained HTML page: the verdict, how the prediction was made, and one
// row per metric with the measured point drawn on the simulator's band (an SVG drawn here, no
// script and no network): the widened band pale, the seeds' range darker, a tick per seed, the
// seeds' median, and the measurement as a dot (green inside, red outside, grey not checked). Each
// row has its own scale (metrics differ by orders of magnitude), labelled at its ends. Pure.
import type { Validation, Verdict } from '../validate/index.js';
import { escapeHtml } from './html.js';
import { formatValue, rowCells, statusWord, validationHeadline, validationMethod, VALIDATE_COLUMNS } from './validate-format.js';

const ROW_HEIGHT = 30;
const LABEL_WIDTH = 300;
const PLOT_WIDTH = 560;
const VALUE_WIDTH = 200;

export function validateHtmlReport(v: Validation): string {
  const verdict = v.agree ? 'AGREE' : 'DISAGREE';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>${escapeHtml(v.scenario)}: beanlab validate</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; } td, th { padding: 3px 10px; border-bottom: 1px solid #ddd; text-align: right; }
td:first-child, th:first-child { text-align: left; } .AGREE, .ok { color: #080; } .DISAGREE, .ABOVE, .BELOW { color: #b00; font-weight: bold; }
svg text { font: 12px system-ui, sans-serif; } .legend { color: #555; }
</style></head>
<body>
<h1>validate ${escapeHtml(v.scenario)}: <span class="${verdict}">${verdict}</span></h1>
<p>${escapeHtml(validationHeadline(v))}.</p>
<p>${escapeHtml(validationMethod(v))}</p>
<h2>The measurement on the simulator's band</h2>
<p class="legend">Per metric, on its own scale: the pale bar is the band (the simulated range widened), the dark bar the
range the ${v.simulated.groups} simulated values span, a tick per simulated value, a line at their median; the dot is the
measurement: green inside the band, red outside, grey not checked (too few jobs); an arrow at an end when it lies off the scale.</p>
${bandPlot(v.rows)}
<h2>Table</h2>
${table(v.rows)}
</body></html>
`;
}

export function bandPlot(rows: readonly Verdict[]): string {
  const height = rows.length * ROW_HEIGHT + 10;
  const width = LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH;
  const body = rows.map((row, i) => plotRow(row, i * ROW_HEIGHT + 5)).join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="measured values on the simulated bands">
${body}
</svg>`;
}

function plotRow(row: Verdict, top: number): string {
  // The row's scale is the band's, with a margin: a measurement beyond it is drawn at the edge as
  // an arrow pointing away (its value is written beside), so a far-off point never squeezes the
  // band into a sliver.
  const span = row.hi - row.lo || Math.max(1, Math.abs(row.hi));
  const from = Math.max(0, row.lo - span * 0.25);
  const to = row.hi + span * 0.25;
  const x = (value: number) => LABEL_WIDTH + ((value - from) / (to - from)) * PLOT_WIDTH;
  const mid = top + ROW_HEIGHT / 2;
  const colour = row.status === 'inside' ? '#2a2' : row.status === 'unchecked' ? '#999' : '#c22';
  const parts = [
    `<text x="0" y="${mid + 4}">${escapeHtml(row.label)}</text>`,
    `<line x1="${LABEL_WIDTH}" x2="${LABEL_WIDTH + PLOT_WIDTH}" y1="${mid}" y2="${mid}" stroke="#eee"/>`,
    rect(x(row.lo), x(row.hi), mid - 7, 14, '#dbe7f3'),
    rect(x(row.min), x(row.max), mid - 4, 8, '#7fa7cf'),
    ...row.values.map((value) => `<line x1="${n(x(value))}" x2="${n(x(value))}" y1="${mid - 7}" y2="${mid + 7}" stroke="#2b5d8f" stroke-width="1"/>`),
    `<line x1="${n(x(row.median))}" x2="${n(x(row.median))}" y1="${mid - 10}" y2="${mid + 10}" stroke="#123" stroke-width="2"/>`,
    `<text x="${LABEL_WIDTH - 6}" y="${mid + 4}" text-anchor="end" fill="#888">${escapeHtml(formatValue(row, from))}</text>`,
    `<text x="${LABEL_WIDTH + PLOT_WIDTH + 6}" y="${mid + 4}" fill="#888">${escapeHtml(formatValue(row, to))}</text>`,
  ];
  const title = row.measured === null ? '' : `<title>${escapeHtml(`measured ${formatValue(row, row.measured)}: ${statusWord(row)}`)}</title>`;
  if (row.measured !== null && (row.measured < from || row.measured > to)) {
    const tip = row.measured > to ? LABEL_WIDTH + PLOT_WIDTH : LABEL_WIDTH;
    const back = row.measured > to ? tip - 12 : tip + 12;
    parts.push(`<path d="M${back},${mid - 7} L${tip},${mid} L${back},${mid + 7} Z" fill="${colour}">${title}</path>`);
  } else if (row.measured !== null) {
    parts.push(`<circle cx="${n(x(row.measured))}" cy="${mid}" r="5.5" fill="${colour}" stroke="#fff" stroke-width="1.5">${title}</circle>`);
  }
  parts.push(
    `<text x="${LABEL_WIDTH + PLOT_WIDTH + 80}" y="${mid + 4}" fill="${colour}">${escapeHtml(row.measured === null ? '-' : `${formatValue(row, row.measured)} ${statusWord(row)}`)}</text>`,
  );
  return `<g>${parts.join('')}</g>`;
}

function rect(x1: number, x2: number, y: number, height: number, fill: string): string {
  return `<rect x="${n(x1)}" y="${y}" width="${n(Math.max(1, x2 - x1))}" height="${height}" fill="${fill}"/>`;
}

function n(value: number): string {
  return (Math.round(value * 10) / 10).toString();
}

function table(rows: readonly Verdict[]): string {
  const head = VALIDATE_COLUMNS.map((c, i) => `<th>${escapeHtml(i === 5 ? 'verdict' : c)}</th>`).join('');
  const body = rows
    .map((r) => {
      const cells = rowCells(r);
      const verdict = `<span class="${cells[5]}">${escapeHtml(cells[5])}</span>${r.note ? ` <small>(${escapeHtml(r.note)})</small>` : ''}`;
      return `<tr>${cells.slice(0, 5).map((c) => `<td>${escapeHtml(c)}</td>`).join('')}<td>${verdict}</td></tr>`;
    })
    .join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}
