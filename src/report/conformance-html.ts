// The conformance report as one self-contained HTML page (no external files, no scripts):
// the same content as the Markdown report, with the checks × servers matrix as a colour table.
import { matrixRows, specNotes } from './conformance-matrix.js';
import { causeTitle, INTERRUPTED_NOTE, NOT_COVERED_TITLE, wasInterrupted, type ConformanceReportView } from './conformance-markdown.js';

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}code,pre{font-family:ui-monospace,monospace;font-size:12px}
pre{background:#f6f6f6;padding:8px;overflow-x:auto}.pass{background:#d9f2d9}.fail{background:#f8d0d0;font-weight:bold}
.skip,.not-checked{background:#eee;color:#777}.absent{color:#bbb}h3{margin-top:1.5em}`;

export function formatConformanceHtml(report: ConformanceReportView): string {
  const parts: string[] = [`<!doctype html><html><head><meta charset="utf-8"><title>beanlab conformance</title><style>${STYLE}</style></head><body>`];
  parts.push('<h1>beanlab conformance report</h1>');
  if (wasInterrupted(report)) parts.push(`<p class="fail">${esc(INTERRUPTED_NOTE)}</p>`);
  if (report.seed !== null) parts.push(`<p>Seed of the generated sequences: <code>${report.seed}</code></p>`);
  parts.push('<table><tr><th>server</th><th>profile</th><th>passed</th><th>failed</th><th>skipped</th><th>not checked</th></tr>');
  for (const r of report.results) {
    parts.push(`<tr><td>${esc(r.target)}</td><td>${esc(r.profile)}</td><td>${r.passed}</td><td class="${r.failed ? 'fail' : 'pass'}">${r.failed}</td><td>${r.skipped}</td><td>${r.notChecked ?? 0}</td></tr>`);
  }
  parts.push('</table>');
  const withCauses = report.results.filter((r) => (r.causes ?? []).length > 0);
  if (withCauses.length > 0) {
    parts.push('<h2>Causes</h2><p>Each failing check is attributed to one root cause; fix the first ones first.</p>');
    for (const r of withCauses) {
      parts.push(`<h3>${esc(r.target)}</h3><table><tr><th>checks</th><th>cause</th><th>example</th><th>replay</th></tr>`);
      for (const cause of r.causes ?? []) {
        const replay = r.checks.find((c) => c.id === cause.checks[0])?.replay?.split('\n')[0] ?? '';
        parts.push(`<tr><td>${cause.checks.length}</td><td>${esc(cause.title)}</td><td><code>${esc(cause.checks[0])}</code></td><td><code>${esc(replay)}</code></td></tr>`);
      }
      parts.push('</table>');
    }
  }
  if (report.mutation) {
    const caught = report.mutation.faults.filter((f) => f.caught).length;
    parts.push(`<h2>Mutation score: ${caught}/${report.mutation.faults.length} faults caught</h2><table><tr><th>fault</th><th>caught</th><th>first failing checks</th></tr>`);
    for (const f of report.mutation.faults) {
      parts.push(`<tr><td><code>${esc(f.name)}</code>: ${esc(f.description)}</td><td class="${f.caught ? 'pass' : 'fail'}">${f.caught ? 'yes' : 'NO'}</td><td>${f.failing.slice(0, 3).map((id) => `<code>${esc(id)}</code>`).join(', ')}</td></tr>`);
    }
    parts.push('</table>');
  }
  parts.push('<h2>Checks</h2><table><tr><th>check</th>');
  report.results.forEach((r, i) => parts.push(`<th>[${i + 1}] ${esc(r.target)}</th>`));
  parts.push('</tr>');
  let section = '';
  for (const row of matrixRows(report.results)) {
    if (row.section !== section) {
      section = row.section;
      parts.push(`<tr><th colspan="${report.results.length + 1}">${esc(section)}</th></tr>`);
    }
    parts.push(`<tr><td><code>${esc(row.id)}</code></td>${row.cells.map((c) => `<td class="${c}">${c === 'absent' ? '·' : c === 'not-checked' ? 'not checked' : c}</td>`).join('')}</tr>`);
  }
  parts.push('</table>');
  const failures = report.results.flatMap((r) => r.checks.filter((c) => c.status === 'fail').map((c) => ({ r, c })));
  if (failures.length > 0) {
    parts.push('<h2>Failures</h2>');
    for (const { r, c } of failures) {
      parts.push(`<h3><code>${esc(c.id)}</code> on ${esc(r.target)}</h3><p>rule: ${esc(c.rule)}</p>`);
      const cause = causeTitle(r, c.cause);
      parts.push(`<p>expected: <code>${esc(c.expected)}</code><br>actual: <code>${esc(c.actual)}</code>${cause ? `<br>cause: ${esc(cause)}` : ''}</p>`);
      if (c.replay) parts.push(`<pre>${esc(c.replay)}</pre>`);
    }
  }
  const notChecked = report.results.flatMap((r) => r.checks.filter((c) => c.status === 'not-checked').map((c) => ({ r, c })));
  if (notChecked.length > 0) {
    parts.push('<h2>Not checked</h2><p>These checks need a command the server lacks and are not about that command.</p><ul>');
    for (const { r, c } of notChecked) parts.push(`<li><code>${esc(c.id)}</code> on ${esc(r.target)}: ${esc(c.actual)}</li>`);
    parts.push('</ul>');
  }
  const warned = report.results.flatMap((r) => r.checks.flatMap((c) => (c.warnings ?? []).map((w) => ({ r, c, w }))));
  if (warned.length > 0) {
    parts.push('<h2>Warnings: extensions</h2><p>The server has these and beanstalkd does not; they are not failures.</p><ul>');
    for (const { r, c, w } of warned) parts.push(`<li><code>${esc(c.id)}</code> on ${esc(r.target)}: ${esc(w)}</li>`);
    parts.push('</ul>');
  }
  const notes = specNotes(report.results);
  if (notes.length > 0) {
    parts.push('<h2>Notes: where beanstalkd and protocol.txt disagree</h2><p>Documented behaviours of the real server, not failures.</p><ul>');
    for (const n of notes) parts.push(`<li><code>${esc(n.id)}</code>: ${esc(n.note)}</li>`);
    parts.push('</ul>');
  }
  if (report.notCovered?.length) {
    parts.push(`<h2>${esc(NOT_COVERED_TITLE)}</h2><ul>`, ...report.notCovered.map((line) => `<li>${esc(line)}</li>`), '</ul>');
  }
  parts.push('</body></html>');
  return parts.join('\n') + '\n';
}
