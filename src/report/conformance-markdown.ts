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

const ICON = { pass: '✅ pass', fail: '❌ FAIL', skip: '➖ skip', 'not-checked': '◻️ not checked', absent: '·' } as const;

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function formatConformanceMarkdown(report: ConformanceReportView): string {
  const out: string[] = ['# beanlab conformance report', ''];
  if (wasInterrupted(report)) out.push(`**${INTERRUPTED_NOTE}**`, '');
  if (report.seed !== null) out.push(`Seed of the generated sequences: \`${report.seed}\` (rerun with \`--seed ${report.seed}\`).`, '');
  out.push('| server | profile | passed | failed | skipped | not checked |', '|---|---|---:|---:|---:|---:|');
  for (const r of report.results) out.push(`| ${cell(r.target)} | ${r.profile} | ${r.passed} | ${r.failed} | ${r.skipped} | ${r.notChecked ?? 0} |`);
  if (report.mutation) out.push('', ...mutationMarkdown(report.mutation));
  out.push(...causesMarkdown(report.results));
  out.push('', '## Checks', '', `| check | ${report.results.map((r, i) => `[${i + 1}] ${cell(r.target)}`).join(' | ')} |`);
  out.push(`|---|${report.results.map(() => '---').join('|')}|`);
  for (const row of matrixRows(report.results)) out.push(`| \`${row.id}\` | ${row.cells.map((c) => ICON[c]).join(' | ')} |`);
  const failures = report.results.flatMap((r) => r.checks.filter((c) => c.status === 'fail').map((c) => ({ r, c })));
  if (failures.length > 0) {
    out.push('', '## Failures');
    for (const { r, c } of failures) {
      out.push('', `### \`${c.id}\` on ${r.target}`, '', `* rule: ${c.rule}`, `* expected: \`${c.expected}\``, `* actual: \`${c.actual}\``);
      const cause = causeTitle(r, c.cause);
      if (cause) out.push(`* cause: ${cause}`);
      if (c.replay) out.push('', '```', c.replay, '```');
    }
  }
  const notChecked = report.results.flatMap((r) => r.checks.filter((c) => c.status === 'not-checked').map((c) => ({ r, c })));
  if (notChecked.length > 0) {
    out.push('', '## Not checked', '', 'These checks need a command the server lacks and are not about that command.', '');
    for (const { r, c } of notChecked) out.push(`* \`${c.id}\` on ${cell(r.target)}: ${cell(c.actual)}`);
  }
  const warned = report.results.flatMap((r) => r.checks.flatMap((c) => (c.warnings ?? []).map((w) => ({ r, c, w }))));
  if (warned.length > 0) {
    out.push('', '## Warnings: extensions', '', 'The server has these and beanstalkd does not; they are not failures.', '');
    for (const { r, c, w } of warned) out.push(`* \`${c.id}\` on ${cell(r.target)}: ${cell(w)}`);
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

/** The failures of each server grouped by root cause, most checks first. */
function causesMarkdown(results: readonly ConformanceResultView[]): string[] {
  const withCauses = results.filter((r) => (r.causes ?? []).length > 0);
  if (withCauses.length === 0) return [];
  const out = ['', '## Causes', '', 'Each failing check is attributed to one root cause; fix the first ones first.'];
  for (const r of withCauses) {
    out.push('', `**${cell(r.target)}**`, '', '| checks | cause | example | replay |', '|---:|---|---|---|');
    for (const cause of r.causes ?? []) {
      const example = r.checks.find((c) => c.id === cause.checks[0]);
      const replay = example?.replay?.split('\n')[0];
      out.push(`| ${cause.checks.length} | ${cell(cause.title)} | \`${cause.checks[0]}\` | ${replay ? `\`${cell(replay)}\`` : ''} |`);
    }
  }
  return out;
}

export function causeTitle(result: ConformanceResultView, key: string | undefined): string | undefined {
  return key === undefined ? undefined : result.causes?.find((c) => c.key === key)?.title;
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
