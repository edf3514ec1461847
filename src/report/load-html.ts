// The self-contained HTML report of a load run: the Markdown report's content plus uPlot charts
// of the latency percentile distribution (log scale of 1/(1-percentile), as HdrHistogram's
// plotter draws it, so the tail gets the room it deserves), throughput, queue depth and CPU over
// time. uPlot's script and stylesheet are passed in and inlined: the file opens anywhere with no
// network. Pure: the caller reads the assets (src/cli/files.ts).
import { percentileCurve } from '../metrics/histogram.js';
import type { LoadResult } from '../metrics/load-result.js';
import type { HtmlAssets } from './html.js';
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

/** Percentiles 100·(1 − 10^(−k/8)): evenly spaced on the plot's log axis, up to 99.999%. */
const CURVE_PERCENTILES = Array.from({ length: 41 }, (_, k) => 100 * (1 - 10 ** (-k / 8)));

export function loadHtmlReport(result: LoadResult, assets: HtmlAssets): string {
  const v = verdict(result);
  const problems = problemLines(result);
  const slos = sloRows(result);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>${escapeHtml(result.scenario)}: beanlab load</title>
<style>${assets.uplotCss}</style>
<style>
body { font: 14px/1.45 system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; } td, th { padding: 3px 10px; border-bottom: 1px solid #ddd; text-align: right; }
td:first-child, th:first-child { text-align: left; } .chart { margin: 1em 0 2em; } .PASS { color: #080; } .FAIL { color: #b00; }
</style></head>
<body>
<h1>${escapeHtml(result.scenario)} (load): <span class="${v}">${v}</span></h1>
<p>${escapeHtml(headline(result))}.</p>
${problems.length > 0 ? `<h2>Problems</h2><ul>${problems.map((p) => `<li>${escapeHtml(p)}</li>`).join('')}</ul>` : ''}
${slos.length > 0 ? `<h2>SLOs</h2>${htmlTable(['result', 'SLO', 'measured', 'limit'], slos)}` : ''}
<h2>Latency</h2>
${htmlTable(LATENCY_COLUMNS, latencyRows(result))}
${latencyNote(result) ? `<p>Note: ${escapeHtml(latencyNote(result)!)}.</p>` : ''}
<h2>Throughput</h2>
${htmlTable(RATE_COLUMNS, rateRows(result))}
<h2>Jobs</h2>
<p>${escapeHtml(jobsLine(result))}.<br>${escapeHtml(eventsLine(result))}.<br>${escapeHtml(cpuLine(result))}.${harnessLine(result) ? `<br>${escapeHtml(harnessLine(result)!)}.` : ''}</p>${shardLines(result).length > 0 ? `\n<p>${shardLines(result).map((line) => escapeHtml(line.trim())).join('<br>')}</p>` : ''}
${htmlTable(TUBE_COLUMNS, tubeRows(result))}
<h2>Charts</h2>
<div id="charts"></div>
<script type="application/json" id="data">${JSON.stringify(chartData(result)).replace(/</g, '\\u003c')}</script>
<script>${assets.uplotJs}</script>
<script>${CHART_SCRIPT}</script>
</body></html>
`;
}

interface ChartData {
  /** 1/(1 - p): the x position of each percentile on the distribution plot. */
  inverseTail: number[];
  latencies: Array<{ label: string; ms: number[] }>;
  tSeconds: number[];
  puts: number[];
  completed: number[];
  serverCpu: Array<number | null>;
  loadgenCpu: number[];
  queue: { tSeconds: number[]; ready: number[]; reserved: number[]; delayed: number[]; buried: number[] };
}

function chartData(result: LoadResult): ChartData {
  const latencies: ChartData['latencies'] = [];
  const add = (label: string, h: { count: number; hdr: string } | undefined) => {
    if (h && h.count > 0) latencies.push({ label, ms: percentileCurve(h.hdr, CURVE_PERCENTILES).map(([, us]) => Math.max(us, 1) / 1000) });
  };
  add('HTTP request', result.load.http?.latencyUs);
  add('put', result.latency.putUs);
  add('put to reserve', result.latency.queueWaitUs);
  add('put to delete', result.latency.endToEndUs);
  const s = result.load.series;
  const q = result.queue.all;
  return {
    inverseTail: CURVE_PERCENTILES.map((p) => 1 / (1 - p / 100)),
    latencies,
    tSeconds: s.tUs.map((t) => t / 1e6),
    puts: s.putsPerSecond,
    completed: s.completedPerSecond,
    serverCpu: s.serverCpuPercent,
    loadgenCpu: s.loadgenCpuPercent,
    queue: { tSeconds: q.tUs.map((t) => t / 1e6), ready: q.ready, reserved: q.reserved, delayed: q.delayed, buried: q.buried },
  };
}

// Runs in the browser.
const CHART_SCRIPT = `
const data = JSON.parse(document.getElementById('data').textContent);
const root = document.getElementById('charts');
const width = Math.min(1060, document.body.clientWidth);
const colours = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd'];
function chart(title, opts, columns) {
  const box = document.createElement('div'); box.className = 'chart'; root.appendChild(box);
  new uPlot(Object.assign({ title, width, height: 320 }, opts), columns, box);
}
function percentLabel(x) { const p = 100 * (1 - 1 / x); return (Math.round(p * 1000) / 1000) + '%'; }
if (data.latencies.length > 0) {
  chart('Latency by percentile (ms, log scales as in HdrHistogram\\'s plotter)', {
    scales: { x: { time: false, distr: 3, range: [1, 1e5] }, y: { distr: 3 } },
    // Ticks at the decades of 1/(1-p) only: 0%, 90%, 99%, 99.9%, ... (uPlot's own log ticks
    // include 2, 3, ... 9 per decade, whose percent labels are unreadable).
    axes: [
      { label: 'percentile', splits: () => [1, 10, 100, 1e3, 1e4, 1e5], values: (u, ticks) => ticks.map(percentLabel) },
      { label: 'ms' },
    ],
    series: [{ label: 'percentile', value: (u, x) => x == null ? '' : percentLabel(x) }]
      .concat(data.latencies.map((l, i) => ({ label: l.label, stroke: colours[i] }))),
  }, [data.inverseTail].concat(data.latencies.map((l) => l.ms)));
}
chart('Throughput per second', {
  scales: { x: { time: false } }, axes: [{ label: 'seconds' }, { label: 'per second' }],
  series: [{ label: 's' }, { label: 'puts', stroke: colours[0] }, { label: 'jobs completed', stroke: colours[2] }],
}, [data.tSeconds, data.puts, data.completed]);
const q = data.queue;
chart('Queue depth (jobs by state)', {
  scales: { x: { time: false } }, axes: [{ label: 'seconds' }, { label: 'jobs' }],
  series: [{ label: 's' }].concat(['ready', 'reserved', 'delayed', 'buried'].map((name, i) => ({ label: name, stroke: colours[i] }))),
}, [q.tSeconds, q.ready, q.reserved, q.delayed, q.buried]);
chart('CPU (% of one core)', {
  scales: { x: { time: false } }, axes: [{ label: 'seconds' }, { label: '%' }],
  series: [{ label: 's' }, { label: 'server', stroke: colours[3] }, { label: 'load generator', stroke: colours[4] }],
}, [data.tSeconds, data.serverCpu, data.loadgenCpu]);
`;

function htmlTable(header: string[], rows: string[][]): string {
  const cell = (tag: string) => (text: string) => `<${tag}>${escapeHtml(text)}</${tag}>`;
  return (
    `<table><thead><tr>${header.map(cell('th')).join('')}</tr></thead><tbody>` +
    rows.map((r) => `<tr>${r.map(cell('td')).join('')}</tr>`).join('') +
    '</tbody></table>'
  );
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
