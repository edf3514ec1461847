// `beanlab compare`'s table: each metric's medians, the change with its confidence interval (95% by default)
// (Mann-Whitney, Bonferroni-corrected), the limit, and the verdict. The same Markdown is printed and written for a PR comment.
import type { Comparison, ComparisonRow } from '../metrics/compare.js';
import { markdownTable } from './format.js';
import { formatUs } from './format.js';

const VERDICT_TEXT = { ok: 'ok', improved: 'improved', inconclusive: 'inconclusive (noise)', regression: '**REGRESSION**', 'n/a': 'n/a' } as const;

export function compareMarkdown(comparison: Comparison, title = 'beanlab compare'): string {
  const regressions = comparison.rows.filter((r) => r.verdict === 'regression').length;
  const method =
    comparison.method === 'paired'
      ? 'A/B runs of both servers in one random order; the change is the median of the paired ratios'
      : 'the change is the ratio of the medians';
  const level = `${Math.round(comparison.confidence * 1000) / 10}%`;
  const out = [
    `## ${title}: ${regressions === 0 ? 'no regression' : `${regressions} regression${regressions > 1 ? 's' : ''}`}`,
    '',
    markdownTable(
      ['metric', 'baseline', 'current', 'change', `${level} interval`, 'limit', 'samples', 'verdict'],
      comparison.rows.map((r) => [
        r.metric,
        value(r, r.baselineMedian),
        value(r, r.currentMedian),
        Number.isNaN(r.change) ? 'n/a' : change(r, r.change),
        Number.isNaN(r.low) ? '-' : Number.isFinite(r.low) ? `${change(r, r.low)} .. ${change(r, r.high)}` : 'too few samples',
        limit(r),
        `${r.samples[0]} / ${r.samples[1]}`,
        r.verdict === 'n/a' ? `n/a (${r.reason})` : VERDICT_TEXT[r.verdict],
      ]),
    ),
    '',
    `Medians over repeats; ${method}. A regression is flagged only when the median change and the whole ${level} interval lie beyond the limit. ` +
      `The interval is the distribution-free one of the Mann-Whitney test, corrected for the ${comparison.rows.filter((r) => r.verdict !== 'n/a').length} rows judged; ` +
      `it needs ${comparison.samplesNeeded} samples per side (--repeat ${comparison.samplesNeeded}). ` +
      falseAlarmNote(comparison) +
      (comparison.deterministic
        ? 'Both results are deterministic (sim), so one sample per side decides on its median alone.'
        : 'A single load run is one draw of the noise: it never makes a regression on its own.'),
  ];
  const short = comparison.rows.filter((r) => !Number.isFinite(r.low) && !Number.isNaN(r.low) && r.verdict === 'inconclusive');
  if (short.length > 0) {
    out.push(
      '',
      `Inconclusive for lack of samples (${Math.min(...short.map((r) => Math.min(...r.samples)))} per side): ${short.map((r) => r.metric).join(', ')}. ` +
        `Run with --repeat ${comparison.samplesNeeded} for a verdict (${comparison.samplesNeeded} samples per side).`,
    );
  }
  const [busyBaseline, busyCurrent] = comparison.busySamples;
  if (busyBaseline + busyCurrent > 0) {
    // Runs per side: a row lacking the metric in some runs counts fewer, so the largest count.
    const runs = [0, 1].map((side) => Math.max(0, ...comparison.rows.map((r) => r.samples[side])));
    out.push(
      '',
      `The machine was busy in ${busyBaseline} of ${runs[0]} baseline and ${busyCurrent} of ${runs[1]} current runs: other processes held its cores ` +
        '(the load report\'s "the machine was busy"), and their work shows as latency. A change beside them may be the machine\'s: rerun on a quiet machine before trusting it.',
    );
  }
  return out.join('\n') + '\n';
}

/** How often equal servers would fail this table, when that can happen at all. */
function falseAlarmNote(comparison: Comparison): string {
  if (comparison.falseAlarmAtMost === 0) return '';
  const percent = comparison.falseAlarmAtMost * 100;
  const rate = `${percent < 0.1 ? percent.toPrecision(1) : percent.toFixed(1)}%`;
  // The bound rests on the runs of both sides being alike: an A/B run's random order makes
  // them so; two results measured apart (another day, another runner) only may be.
  return comparison.method === 'paired'
    ? `With these samples, equal servers would be called a regression in at most ${rate} of comparisons. `
    : `With these samples, equal servers would be called a regression in at most ${rate} of comparisons, if both sides ran alike (same machine, same conditions; an A/B run, load --baseline-target, makes sure of it). `;
}

function value(row: ComparisonRow, v: number): string {
  if (Number.isNaN(v)) return 'n/a';
  return row.unit === 'us' ? formatUs(v) : `${Math.round(v * 10) / 10}/s`;
}

function change(row: ComparisonRow, v: number): string {
  if (row.absolute) return `${v >= 0 ? '+' : '-'}${formatUs(Math.abs(v))}`;
  const percent = Math.round(v * 1000) / 10;
  return `${percent >= 0 ? '+' : ''}${percent}%`;
}

function limit(row: ComparisonRow): string {
  const sign = row.unit === '/s' ? '-' : '+';
  return row.absolute ? `${sign}${formatUs(row.limit)}` : `${sign}${Math.round(row.limit * 1000) / 10}%`;
}
