// `beanlab compare`: the CI regression gate. Pure comparison of two result files (or of an A/B
// result's two sides), a Markdown table, exit 1 on a regression.
import type { Command } from 'commander';
import { compareAb, compareResults, ComparisonError } from '../api/compare.js';
import { comparabilityProblem, DEFAULT_CONFIDENCE, DEFAULT_THRESHOLDS, type Comparison } from '../metrics/compare.js';
import type { LoadResult } from '../metrics/load-result.js';
import type { Result } from '../metrics/result.js';
import { compareMarkdown } from '../report/compare-markdown.js';
import { UsageError, exitCodes } from './errors.js';
import { readResultFile, writeMakingDirs } from './files.js';
import { confidenceLevel, thresholdsOf } from './load.js';

export function register(program: Command): void {
  program
    .command('compare')
    .description(
      'Compare a result against a baseline (results of beanlab load or sim). With --repeat runs each\n' +
        'repeat is a sample: the verdict uses medians and a 95% distribution-free (Mann-Whitney)\n' +
        'confidence interval, and flags a regression only when the whole interval lies beyond the\n' +
        'limit; that takes 5 samples per side (--repeat 5), 7 at --confidence 0.99. The table says\n' +
        'how often it may call equal servers a regression. With one sample per side the medians\n' +
        'decide alone. Given one A/B result (load --baseline-target), compares its two sides pair\n' +
        'by pair. Exit 1 on a regression.',
    )
    .argument('<baseline>', 'baseline result JSON (or an A/B result alone)')
    .argument('[current]', 'current result JSON')
    .option('--threshold <list>', "limits, e.g. 'p99=+10%,throughput=-5%,endToEnd.p999=+2ms'", DEFAULT_THRESHOLDS)
    .option('--markdown <file>', 'also write the table to this file')
    .option('--json <file>', 'also write the comparison as JSON (an unbounded interval side is null)')
    .option('--force', 'compare results of different kinds or scenarios all the same')
    .option('--confidence <level>', "the table's confidence, 0.95 by default: equal servers flagged at most 5% of the time; 0.99 needs 7 samples per side", confidenceLevel, DEFAULT_CONFIDENCE)
    .action(async (baselineFile: string, currentFile: string | undefined, options: { threshold: string; markdown?: string; json?: string; force?: boolean; confidence: number }) => {
      const thresholds = thresholdsOf(options.threshold);
      const { confidence } = options;
      const baseline = await readResult(baselineFile);
      let comparison: Comparison;
      try {
        if (currentFile === undefined) {
          if (!('load' in baseline) || !baseline.load.ab) throw new UsageError(`${baselineFile} is not an A/B result: give a baseline and a current result`);
          comparison = compareAb(baseline, { thresholds, confidence });
        } else {
          const current = await readResult(currentFile);
          const problem = comparabilityProblem(baseline, current);
          // One simulated seed against a measurement reads the simulator's own seed spread as a
          // change (issue 11: +24.6% on a p99 whose spread over seeds was 28 to 47 ms).
          const predictionHint =
            baseline.kind !== current.kind && [baseline.kind, current.kind].includes('sim')
              ? '; one seed is not the prediction: beanlab validate SCENARIO checks a real run against the simulator\'s spread over seeds'
              : '';
          if (problem !== undefined && !options.force) throw new UsageError(`${problem}: not comparable (--force compares them all the same)${predictionHint}`);
          if (problem !== undefined) process.stderr.write(`beanlab compare: ${problem}; compared anyway (--force)${predictionHint}\n`);
          comparison = compareResults(baseline, current, { thresholds, force: options.force, confidence });
        }
      } catch (error) {
        throw error instanceof ComparisonError ? new UsageError(error.message) : error;
      }
      const markdown = compareMarkdown(comparison);
      process.stdout.write(markdown);
      if (options.markdown) await writeMakingDirs(options.markdown, markdown);
      if (options.json) await writeMakingDirs(options.json, comparisonJson(comparison, options.threshold, baselineFile, currentFile));
      process.exitCode = comparison.regression ? exitCodes.failed : exitCodes.ok;
    });
}

/** A result file of sim or load; anything else is a UsageError naming the file. */
export const readResult: (file: string) => Promise<Result | LoadResult> = readResultFile;

/** The comparison as JSON; JSON has no Infinity or NaN: an unbounded side, or a figure n/a, is null. */
export function comparisonJson(comparison: Comparison, threshold: string, baseline: string, current: string | undefined): string {
  const finite = (v: number) => (Number.isFinite(v) ? v : null);
  const json = {
    kind: 'comparison',
    baseline,
    current: current ?? null,
    threshold,
    ...comparison,
    rows: comparison.rows.map((r) => ({
      ...r,
      baselineMedian: finite(r.baselineMedian),
      currentMedian: finite(r.currentMedian),
      change: finite(r.change),
      low: finite(r.low),
      high: finite(r.high),
    })),
  };
  return JSON.stringify(json, null, 2) + '\n';
}
