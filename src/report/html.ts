// The self-contained HTML report of a simulation (and of a sweep): the Markdown report's tables
// plus uPlot charts at the level of the load report's: latency by percentile on HdrHistogram's
// log scale of 1/(1-p), throughput over time, jobs by state over time (per-bucket means with the
// bucket maxima, so an hour-long run stays readable), and the capacity sweep. Latency axes are
// arcsinh, not log: a log axis has no 0, and a 0 µs wait (a job taken at once) must read 0, not
// sit on the axis's bottom as if it were a microsecond. uPlot's script and stylesheet are passed
// in and inlined, so the file opens anywhere with no network. Pure: the CLI reads the assets.
import { percentileCurve } from '../metrics/histogram.js';
import type { Result } from '../metrics/result.js';
import { markdownReport } from './markdown.js';
import { capacityRows, formatUs } from './format.js';

export interface HtmlAssets {
  uplotJs: string;
  uplotCss: string;
}

/** Percentiles 100·(1 − 10^(−k/8)): evenly spaced on the plot's log axis, up to 99.999% (as the load report). */
export const CURVE_PERCENTILES = Array.from({ length: 41 }, (_, k) => 100 * (1 - 10 ** (-k / 8)));

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

export interface ChartData {
  /** 1/(1 - p): the x position of each percentile on the distribution plot. */
  inverseTail: number[];
  /** Latency curves in ms, a value per percentile; `dash` for the per-class ones. */
  latencies: Array<{ label: string; ms: number[]; dash?: boolean }>;
  /** Jobs by state: the bucket means, and their maxima. */
  queue: {
    bucket: string;
    tSeconds: number[];
    ready: number[];
    reserved: number[];
    delayed: number[];
    buried: number[];
    max?: { ready: number[]; reserved: number[]; delayed: number[]; buried: number[] };
  };
  rates?: { bucket: string; tSeconds: number[]; puts: number[]; completed: number[] };
  sweep?: { key: string; values: number[]; p99QueueWaitMs: number[]; p99EndToEndMs: number[]; pass: boolean[] };
}

/** Points per time chart at most: ~1000 px of chart, so a point is a few pixels wide, not a hair. */
export const CHART_POINTS = 200;

/**
 * Merges runs of `factor` neighbouring buckets for display: means of the means (the buckets are
 * equally wide), maxima of the maxima, and the bucket label widened to match.
 */
function coarsen<T extends Record<string, number[]>>(
  intervalUs: number,
  tUs: number[],
  means: T,
  maxima?: Record<keyof T, number[]>,
): { intervalUs: number; tUs: number[]; means: T; maxima?: Record<keyof T, number[]> } {
  const factor = Math.max(1, Math.ceil(tUs.length / CHART_POINTS));
  if (factor === 1) return { intervalUs, tUs, means, maxima };
  const groups = Array.from({ length: Math.ceil(tUs.length / factor) }, (_, g) => [g * factor, Math.min(tUs.length, (g + 1) * factor)] as const);
  const fold = (values: number[], f: (part: number[]) => number) => groups.map(([a, b]) => f(values.slice(a, b)));
  const mean = (part: number[]) => Math.round((part.reduce((x, y) => x + y, 0) / part.length) * 1000) / 1000;
  const mapValues = <V extends Record<string, number[]>>(o: V, f: (part: number[]) => number) =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, fold(v, f)])) as V;
  return {
    intervalUs: intervalUs * factor,
    tUs: groups.map(([a]) => tUs[a]),
    means: mapValues(means, mean),
    maxima: maxima && mapValues(maxima, (part) => Math.max(...part)),
  };
}

export function chartData(result: Result): ChartData {
  const curve = (hdr: string) => percentileCurve(hdr, CURVE_PERCENTILES).map(([, us]) => us / 1000);
  const latencies: ChartData['latencies'] = [];
  const add = (label: string, h: { count: number; hdr: string }, dash?: boolean) => {
    if (h.count > 0) latencies.push({ label, ms: curve(h.hdr), ...(dash ? { dash } : {}) });
  };
  add('queue wait', result.latency.queueWaitUs);
  add('service', result.latency.serviceUs);
  add('end to end', result.latency.endToEndUs);
  const classes = Object.entries(result.byPriority);
  if (classes.length > 1) for (const [name, b] of classes) add(`queue wait: ${name}`, b.latency.queueWaitUs, true);
  const all = result.queue.all;
  const q = coarsen(
    all.intervalUs,
    all.tUs,
    { ready: all.ready, reserved: all.reserved, delayed: all.delayed, buried: all.buried },
    all.max,
  );
  const r = result.rates && coarsen(result.rates.intervalUs, result.rates.tUs, { puts: result.rates.putsPerSecond, completed: result.rates.completedPerSecond });
  const seconds = (tUs: number[]) => tUs.map((t) => t / 1e6);
  const rows = capacityRows(result);
  return {
    inverseTail: CURVE_PERCENTILES.map((p) => 1 / (1 - p / 100)),
    latencies,
    queue: { bucket: formatUs(q.intervalUs), tSeconds: seconds(q.tUs), ...q.means, ...(q.maxima ? { max: q.maxima } : {}) },
    rates: r && { bucket: formatUs(r.intervalUs), tSeconds: seconds(r.tUs), ...r.means },
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

/**
 * Browser code shared by the sim and validate reports: chart(), the percentile axis, and the
 * latency axis (arcsinh in ms, linear below 1 µs, so 0 is drawn at 0 and labelled 0).
 */
export const CHART_HELPERS = `
const root = document.getElementById('charts');
const width = Math.min(1060, document.body.clientWidth);
const colours = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
function chart(title, opts, columns) {
  const box = document.createElement('div'); box.className = 'chart'; root.appendChild(box);
  return new uPlot(Object.assign({ title, width, height: 320 }, opts), columns, box);
}
function percentLabel(x) { const p = 100 * (1 - 1 / x); return (Math.round(p * 1000) / 1000) + '%'; }
function msLabel(v) {
  if (v == null) return '';
  if (v === 0) return '0';
  if (v < 1) return +(v * 1000).toPrecision(3) + ' µs';
  if (v < 1000) return +v.toPrecision(3) + ' ms';
  return +(v / 1000).toPrecision(3) + ' s';
}
const latencyScale = { distr: 4, asinh: 0.001 };
// Decades only (0, 1 µs, 10 µs, ... as far as the data goes): uPlot's arcsinh ticks crowd.
function latencySplits(u, axis, min, max) {
  const ticks = [0];
  for (let v = 0.001; v <= max * 1.0001; v *= 10) if (v >= min) ticks.push(v);
  return ticks;
}
const latencyAxis = { label: 'latency', size: 70, splits: latencySplits, values: (u, ticks) => ticks.map(msLabel) };
const percentAxis = { label: 'percentile', splits: () => [1, 10, 100, 1e3, 1e4, 1e5], values: (u, ticks) => ticks.map(percentLabel) };
`;

// Runs in the browser.
const CHART_SCRIPT = `
const data = JSON.parse(document.getElementById('data').textContent);
${CHART_HELPERS}
if (data.latencies.length > 0) {
  chart('Latency by percentile (log scale of 1/(1-p), as HdrHistogram\\'s plotter; latency arcsinh, 0 at 0)', {
    scales: { x: { time: false, distr: 3, range: [1, 1e5] }, y: latencyScale },
    axes: [percentAxis, latencyAxis],
    series: [{ label: 'percentile', value: (u, x) => x == null ? '' : percentLabel(x) }]
      .concat(data.latencies.map((l, i) => ({ label: l.label, stroke: colours[i % colours.length], dash: l.dash ? [6, 4] : undefined, value: (u, v) => msLabel(v) }))),
  }, [data.inverseTail].concat(data.latencies.map((l) => l.ms)));
}
if (data.rates && data.rates.tSeconds.length > 0) {
  const r = data.rates;
  chart('Throughput (per second, mean over ' + r.bucket + ' buckets)', {
    scales: { x: { time: false } }, axes: [{ label: 'seconds' }, { label: 'per second' }],
    series: [{ label: 's' }, { label: 'puts', stroke: colours[0] }, { label: 'jobs completed', stroke: colours[2] }],
  }, [r.tSeconds, r.puts, r.completed]);
}
const q = data.queue;
const states = ['ready', 'reserved', 'delayed', 'buried'];
chart('Jobs by state (mean over ' + q.bucket + ' buckets' + (q.max ? '; click "max" in the legend for the largest sample in each' : '') + ')', {
  scales: { x: { time: false } },
  axes: [{ label: 'seconds' }, { label: 'jobs' }],
  series: [{ label: 's' }].concat(states.map((name, i) => ({ label: name, stroke: colours[i] })))
    .concat(q.max ? states.map((name, i) => ({ label: 'max ' + name, stroke: colours[i], width: 1, dash: [2, 3], show: false })) : []),
}, [q.tSeconds].concat(states.map((s) => q[s])).concat(q.max ? states.map((s) => q.max[s]) : []));
if (data.sweep) {
  const s = data.sweep;
  chart('p99 latency by ' + s.key + ' (points that meet every SLO are green)', {
    scales: { x: { time: false }, y: latencyScale },
    axes: [{ label: s.key }, latencyAxis],
    series: [{ label: s.key },
      { label: 'p99 queue wait', stroke: colours[0], value: (u, v) => msLabel(v) },
      { label: 'p99 end to end', stroke: colours[1], value: (u, v) => msLabel(v) }],
    hooks: { draw: [(u) => { const ctx = u.ctx; s.values.forEach((v, i) => {
      ctx.fillStyle = s.pass[i] ? '#2a2' : '#c22';
      ctx.beginPath(); ctx.arc(u.valToPos(v, 'x', true), u.valToPos(s.p99QueueWaitMs[i], 'y', true), 5, 0, 7); ctx.fill(); }); }] },
  }, [s.values, s.p99QueueWaitMs, s.p99EndToEndMs]);
}
`;

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Just enough Markdown for our own report: headings, paragraphs, pipe tables, **bold**. */
export function markdownToHtml(markdown: string): string {
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
