// Writes a load result's files: result.json, report.md and a self-contained report.html (uPlot
// read from node_modules and inlined), the same layout as `beanlab sim --report DIR`.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { LoadResult } from '../metrics/load-result.js';
import type { HtmlAssets } from '../report/html.js';
import { loadHtmlReport } from '../report/load-html.js';
import { loadMarkdownReport } from '../report/load-markdown.js';

export async function readUplotAssets(): Promise<HtmlAssets> {
  const require = createRequire(import.meta.url);
  const uplotDir = dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));
  const [uplotJs, uplotCss] = await Promise.all([
    readFile(join(uplotDir, 'uPlot.iife.min.js'), 'utf8'),
    readFile(join(uplotDir, 'uPlot.min.css'), 'utf8'),
  ]);
  return { uplotJs, uplotCss };
}

export function resultJson(result: LoadResult): string {
  return JSON.stringify(result, null, 2) + '\n';
}

/** Writes DIR/result.json, DIR/report.md and DIR/report.html; returns the HTML file's path. */
export async function writeLoadReport(dir: string, result: LoadResult): Promise<string> {
  await mkdir(dir, { recursive: true });
  const html = join(dir, 'report.html');
  await Promise.all([
    writeFile(join(dir, 'result.json'), resultJson(result)),
    writeFile(join(dir, 'report.md'), loadMarkdownReport(result) + '\n'),
    readUplotAssets().then((assets) => writeFile(html, loadHtmlReport(result, assets))),
  ]);
  return html;
}
