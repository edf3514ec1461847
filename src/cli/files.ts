// The files the commands read and write: scenarios and results in (bad input becomes a one-line
// UsageError, exit 2), results and reports out. The library (src/api) never writes a file; the
// commands do, here.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { loadScenario, loadScenarioDocument } from '../api/scenario.js';
import { loadResult, ResultError } from '../api/results.js';
import type { LoadResult } from '../metrics/load-result.js';
import type { Result } from '../metrics/result.js';
import type { HtmlAssets } from '../report/html.js';
import { htmlReport } from '../report/html.js';
import { loadHtmlReport } from '../report/load-html.js';
import { loadMarkdownReport } from '../report/load-markdown.js';
import { markdownReport } from '../report/markdown.js';
import { ScenarioError } from '../scenario/load.js';
import type { Scenario } from '../scenario/schema.js';
import { UsageError } from './errors.js';

/** A scenario file, validated; what is wrong with it is a UsageError naming the file and field. */
export async function readScenarioFile(path: string): Promise<Scenario> {
  return usage(() => loadScenario(path), ScenarioError);
}

/** A scenario file parsed but not validated (what `sim --sweep` edits before validating each value). */
export async function readScenarioDocument(path: string): Promise<unknown> {
  return usage(() => loadScenarioDocument(path), ScenarioError);
}

/** A result file of sim or load (or a log ending with one); not one is a UsageError. */
export async function readResultFile(path: string): Promise<Result | LoadResult> {
  return usage(() => loadResult(path), ResultError);
}

async function usage<T>(read: () => Promise<T>, expected: new (...args: never[]) => Error): Promise<T> {
  try {
    return await read();
  } catch (error) {
    throw error instanceof expected ? new UsageError(error.message) : error;
  }
}

export function resultJson(result: Result | LoadResult): string {
  return JSON.stringify(result, null, 2) + '\n';
}

/**
 * Writes the file whole or not at all (a temporary file renamed into place), making its
 * directory: a merge waiting for shards' results on a shared volume must never read half of one.
 */
export async function writeMakingDirs(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const partial = `${path}.${process.pid}.partial`;
  await writeFile(partial, text);
  await rename(partial, path);
}

/** uPlot, read from node_modules, for the self-contained HTML reports to inline. */
export async function readUplotAssets(): Promise<HtmlAssets> {
  const require = createRequire(import.meta.url);
  const uplotDir = dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));
  const [uplotJs, uplotCss] = await Promise.all([
    readFile(join(uplotDir, 'uPlot.iife.min.js'), 'utf8'),
    readFile(join(uplotDir, 'uPlot.min.css'), 'utf8'),
  ]);
  return { uplotJs, uplotCss };
}

/** Writes DIR/result.json, DIR/report.md and a self-contained DIR/report.html of a simulation; returns the HTML path. */
export async function writeSimReport(dir: string, result: Result): Promise<string> {
  const html = join(dir, 'report.html');
  await writeMakingDirs(join(dir, 'result.json'), resultJson(result));
  await writeFile(join(dir, 'report.md'), markdownReport(result));
  await writeFile(html, htmlReport(result, await readUplotAssets()));
  return html;
}

/**
 * Writes DIR/result.json, DIR/report.md and DIR/report.html of a load run; returns the HTML path.
 * `abMarkdown`, an A/B run's comparison as printed, ends the Markdown report.
 */
export async function writeLoadReport(dir: string, result: LoadResult, abMarkdown?: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const html = join(dir, 'report.html');
  await Promise.all([
    writeFile(join(dir, 'result.json'), resultJson(result)),
    writeFile(join(dir, 'report.md'), loadMarkdownReport(result) + '\n' + (abMarkdown === undefined ? '' : `\n${abMarkdown}`)),
    readUplotAssets().then((assets) => writeFile(html, loadHtmlReport(result, assets))),
  ]);
  return html;
}
