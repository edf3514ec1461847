// The conformance result(s) as Markdown: summary, the matrix of checks × servers, every failure
// with its rule, expected, actual and replay transcript, the spec notes, and the mutation score
// when the run had one. Pure: results in, text out.
import { matrixRows, specNotes } from './conformance-matrix.js';
import type { ConformanceResultView } from './conformance-table.js';

export interface MutationView {
  faults: ReadonlyArray<{ name: string; description: string; caught: boolean; failing: readonly string[] }>;
}

export interface ConformanceReportView {
  seed: number | null;
  results: readonly ConformanceResultView[];
  mutation?: MutationView;
  /** What the suite does not check at all (testserv.c tests without a corpus case), one line per reason. */
  notCovered?: readonly string[];
  /** Ctrl-C stopped the run: only what finished is in it (also true when any result says so). */
  interrupted?: boolean;
}

export const INTERRUPTED_NOTE = 'Interrupted (Ctrl-C): the run stopped early; only the checks that had finished are listed.';

/** Whether the report is of a run stopped early. */
export function wasInterrupted(report: ConformanceReportView): boolean {
  return Boolean(report.interrupted) || report.results.some((r) => r.interrupted);
}

export const NOT_COVERED_TITLE = 'Not covered: beanstalkd tests this suite has no case for';

const ICON = { pass: '✅ pass', fail: '❌ FAIL', skip: '➖ skip', absent: '·' } as const;

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function formatConformanceMarkdown(report: ConformanceReportView): string {
  const out: string[] = ['# beanlab conformance report', ''];
  if (wasInterrupted(report)) out.push(`**${INTERRUPTED_NOTE}**`, '');
  if (report.seed !== null) out.push(`Seed of the generated sequences: \`${report.seed}\` (rerun with \`--seed ${report.seed}\`).`, '');
  out.push('| server | profile | passed | failed | skipped |', '|---|---|---:|---:|---:|');
  for (const r of report.results) out.push(`| ${cell(r.target)} | ${r.profile} | ${r.passed} | ${r.failed} | ${r.skipped} |`);
  if (report.mutation) out.push('', ...mutationMarkdown(report.mutation));
  out.push('', '## Checks', '', `| check | ${report.results.map((r, i) => `[${i + 1}] ${cell(r.target)}`).join(' | ')} |`);
  out.push(`|---|${report.results.map(() => '---').join('|')}|`);
  for (const row of matrixRows(report.results)) out.push(`| \`${row.id}\` | ${row.cells.map((c) => ICON[c]).join(' | ')} |`);
  const failures = report.results.flatMap((r) => r.checks.filter((c) => c.status === 'fail').map((c) => ({ r, c })));
  if (failures.length > 0) {
    out.push('', '## Failures');
    for (const { r, c } of failures) {
      out.push('', `### \`${c.id}\` on ${r.target}`, '', `* rule: ${c.rule}`, `* expected: \`${c.expected}\``, `* actual: \`${c.actual}\``);
      if (c.replay) out.push('', '```', c.replay, '```');
    }
  }
  const notes = specNotes(report.results);
  if (notes.length > 0) {
    out.push('', '## Notes: where beanstalkd and protocol.txt disagree', '');
    out.push('These are documented behaviours of the real server (semantics doc a.5, h), not failures.', '');
    for (const n of notes) out.push(`* \`${n.id}\`: ${n.note}`);
  }
  if (report.notCovered?.length) out.push('', `## ${NOT_COVERED_TITLE}`, '', ...report.notCovered.map((line) => `* ${line}`));
  return out.join('\n') + '\n';
}

export function mutationMarkdown(mutation: MutationView): string[] {
  const caught = mutation.faults.filter((f) => f.caught).length;
  const out = [`## Mutation score: ${caught}/${mutation.faults.length} faults caught`, '', '| fault | caught | first failing checks |', '|---|---|---|'];
  for (const f of mutation.faults) {
    out.push(`| \`${f.name}\`: ${cell(f.description)} | ${f.caught ? 'yes' : '**NO**'} | ${f.failing.slice(0, 3).map((id) => `\`${id}\``).join(', ')} |`);
  }
  return out;
}

/** The terminal form of the mutation score. */
export function formatMutationTable(mutation: MutationView): string {
  const caught = mutation.faults.filter((f) => f.caught).length;
  const width = Math.max(...mutation.faults.map((f) => f.name.length));
  const out = ['mutation: each fault injected into the embedded server, one conformance run each', ''];
  for (const f of mutation.faults) {
    out.push(`${f.name.padEnd(width)}  ${f.caught ? 'caught' : 'MISSED'}  ${f.failing.slice(0, 3).join(', ')}${f.failing.length > 3 ? `, … (${f.failing.length} checks)` : ''}`);
  }
  out.push('', `mutation score: ${caught}/${mutation.faults.length} faults caught`);
  return out.join('\n') + '\n';
}
