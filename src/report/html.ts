// The self-contained HTML report: the Markdown report's tables plus uPlot charts (queue depths
// over time, latency percentiles, and the capacity sweep). uPlot's script and stylesheet are
// passed in and inlined, so the file opens anywhere with no network. Pure: the CLI reads the assets.
import { percentileCurve } from '../metrics/histogram.js';
import type { Result } from '../metrics/result.js';
import { markdownReport } from './markdown.js';
import { capacityRows } from './format.js';

export interface HtmlAssets {
  uplotJs: string;
  uplotCss: string;
}

const PERCENTILES = [0, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100];

export function htmlReport(result: Result, assets: HtmlAssets): string {
  const charts = chartData(result);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>${escapeHtml(result.scenario)}: beanlab ${result.kind}</title>
<style>${assets.uplotCss}</style>
<style>
body { font: 14px/1.45 system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; } td, th { padding: 3px 10px; border-bottom: 1px solid #ddd; text-align: right; }
td:first-child, th:first-child { text-align: left; } .chart { margin: 1em 0 2em; } h1 .pass { color: #080; } h1 .fail { color: #b00; }
</style></head>
<body>
${markdownToHtml(markdownReport(result))}
<h2>Charts</h2>
<div id="charts"></div>
<script type="application/json" id="data">${JSON.stringify(charts).replace(/</g, '\\u003c')}</script>
<script>${assets.uplotJs}</script>
<script>${CHART_SCRIPT}</script>
</body></html>
`;
}

interface ChartData {
  queue: { tSeconds: number[]; ready: number[]; reserved: number[]; delayed: number[]; buried: number[] };
  percentiles: number[];
  latencyMs: { queueWait: number[]; service: number[]; endToEnd: number[] };
  sweep?: { key: string; values: number[]; p99QueueWaitMs: number[]; p99EndToEndMs: number[]; pass: boolean[] };
}

function chartData(result: Result): ChartData {
  const q = result.queue.all;
  const curve = (hdr: string) => percentileCurve(hdr, PERCENTILES).map(([, us]) => us / 1000);
  const rows = capacityRows(result);
  return {
    queue: { tSeconds: q.tUs.map((t) => t / 1e6), ready: q.ready, reserved: q.reserved, delayed: q.delayed, buried: q.buried },
    percentiles: PERCENTILES,
    latencyMs: {
      queueWait: curve(result.latency.queueWaitUs.hdr),
      service: curve(result.latency.serviceUs.hdr),
      endToEnd: curve(result.latency.endToEndUs.hdr),
    },
    sweep:
      rows.length === 0
        ? undefined
        : {
            key: result.capacity!.key,
            values: rows.map((r) => r.value),
            p99QueueWaitMs: rows.map((r) => r.result.latency.queueWaitUs.p99 / 1000),
            p99EndToEndMs: rows.map((r) => r.result.latency.endToEndUs.p99 / 1000),
            pass: rows.map((r) => r.result.pass),
          },
  };
}

// Runs in the browser. Percentiles are plotted at evenly spaced positions, labelled by value.
const CHART_SCRIPT = `
const data = JSON.parse(document.getElementById('data').textContent);
const root = document.getElementById('charts');
const width = Math.min(1060, document.body.clientWidth);
function chart(title, opts, columns) {
  const box = document.createElement('div'); box.className = 'chart'; root.appendChild(box);
  new uPlot(Object.assign({ title, width, height: 300 }, opts), columns, box);
}
const colours = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728'];
const q = data.queue;
chart('Jobs by state over time', {
  scales: { x: { time: false } },
  axes: [{ label: 'seconds' }, { label: 'jobs' }],
  series: [{ label: 's' }].concat(['ready', 'reserved', 'delayed', 'buried'].map((name, i) => ({ label: name, stroke: colours[i] }))),
}, [q.tSeconds, q.ready, q.reserved, q.delayed, q.buried]);
const positions = data.percentiles.map((_, i) => i);
chart('Latency by percentile (ms)', {
  scales: { x: { time: false }, y: { distr: 3 } },
  axes: [{ label: 'percentile', values: (u, ticks) => ticks.map((t) => data.percentiles[t] ?? '') , splits: () => positions }, { label: 'ms' }],
  series: [{ label: 'percentile', value: (u, v) => v == null ? '' : data.percentiles[v] }].concat(
    [['queue wait', data.latencyMs.queueWait], ['service', data.latencyMs.service], ['end to end', data.latencyMs.endToEnd]]
      .map(([label], i) => ({ label, stroke: colours[i] }))),
}, [positions, data.latencyMs.queueWait.map((v) => Math.max(v, 0.001)), data.latencyMs.service.map((v) => Math.max(v, 0.001)), data.latencyMs.endToEnd.map((v) => Math.max(v, 0.001))]);
if (data.sweep) {
  const s = data.sweep;
  chart('p99 latency by ' + s.key + ' (ms; points that meet every SLO are green)', {
    scales: { x: { time: false }, y: { distr: 3 } },
    axes: [{ label: s.key }, { label: 'ms' }],
    series: [{ label: s.key },
      { label: 'p99 queue wait', stroke: colours[0], points: { show: true, size: 8, fill: (u, i) => '#888' } },
      { label: 'p99 end to end', stroke: colours[1] }],
    hooks: { draw: [(u) => { const ctx = u.ctx; s.values.forEach((v, i) => {
      ctx.fillStyle = s.pass[i] ? '#2a2' : '#c22';
      ctx.beginPath(); ctx.arc(u.valToPos(v, 'x', true), u.valToPos(Math.max(s.p99QueueWaitMs[i], 0.001), 'y', true), 5, 0, 7); ctx.fill(); }); }] },
  }, [s.values, s.p99QueueWaitMs.map((v) => Math.max(v, 0.001)), s.p99EndToEndMs.map((v) => Math.max(v, 0.001))]);
}
`;

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Just enough Markdown for our own report: headings, paragraphs, pipe tables, **bold**. */
function markdownToHtml(markdown: string): string {
  const html: string[] = [];
  const inline = (text: string) => escapeHtml(text).replace(/\*\*(.+?)\*\*/g, '<b>$1</b>');
  const cells = (line: string) => line.slice(2, -2).split(/(?<!\\) \| /).map((c) => c.replace(/\\\|/g, '|'));
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const heading = /^(#{1,3}) (.*)$/.exec(line);
    if (heading) {
      const level = heading[1].length;
      const text = inline(heading[2]).replace(/: (PASS|FAIL)$/, (_, verdict: string) => `: <span class="${verdict.toLowerCase()}">${verdict}</span>`);
      html.push(`<h${level}>${text}</h${level}>`);
    } else if (line.startsWith('| ')) {
      const header = cells(line);
      const body: string[][] = [];
      i += 2; // skip the alignment row
      while (i < lines.length && lines[i].startsWith('| ')) body.push(cells(lines[i++]));
      i--;
      html.push(
        `<table><thead><tr>${header.map((h) => `<th>${inline(h)}</th>`).join('')}</tr></thead><tbody>` +
          body.map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join('')}</tr>`).join('') +
          '</tbody></table>',
      );
    } else if (line.trim() !== '') {
      html.push(`<p>${inline(line)}</p>`);
    }
  }
  return html.join('\n');
}
