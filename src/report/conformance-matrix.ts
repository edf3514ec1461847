// Several servers side by side, as Autobahn's WebSocket report does: one row per check, one
// column per server, plus the per-section summary and the notes where beanstalkd and
// protocol.txt disagree. Pure: results in, text out.
import type { ConformanceCheckView, ConformanceResultView } from './conformance-table.js';

export type CellStatus = ConformanceCheckView['status'] | 'absent';

export interface MatrixRow {
  id: string;
  section: string;
  cells: CellStatus[];
}

/**
 * Rows grouped by section (sections in name order, as in the terminal table; checks in
 * first-seen order within a section); a check a run did not have is 'absent'.
 */
export function matrixRows(results: readonly ConformanceResultView[]): MatrixRow[] {
  const rows = new Map<string, MatrixRow>();
  results.forEach((result, column) => {
    for (const check of result.checks) {
      let row = rows.get(check.id);
      if (!row) {
        row = { id: check.id, section: check.section, cells: results.map(() => 'absent' as CellStatus) };
        rows.set(check.id, row);
      }
      row.cells[column] = check.status;
    }
  });
  // A stable sort: the corpus lists some sections in several files (basics.txt first).
  return [...rows.values()].sort((a, b) => (a.section < b.section ? -1 : a.section > b.section ? 1 : 0));
}

const MARK: Record<CellStatus, string> = { pass: 'pass', fail: 'FAIL', skip: 'skip', 'not-checked': 'n/c', absent: '-' };

/** The terminal matrix: sections, then every check that is not a pass on every server. */
export function formatConformanceMatrix(results: readonly ConformanceResultView[]): string {
  const rows = matrixRows(results);
  const headers = results.map((r, i) => `[${i + 1}]`);
  const out = ['conformance matrix', ''];
  results.forEach((r, i) => out.push(`  [${i + 1}] ${r.target} (profile ${r.profile}): ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`));
  const sections = [...new Set(rows.map((r) => r.section))].sort();
  const width = Math.max('section'.length, ...sections.map((s) => s.length), ...rows.map((r) => r.id.length));
  const line = (name: string, cells: string[]) => `${name.padEnd(width)}  ${cells.map((c) => c.padStart(9)).join(' ')}`.trimEnd();
  out.push('', line('section (failed/total)', headers));
  for (const section of sections) {
    const inSection = rows.filter((r) => r.section === section);
    const cells = results.map((_, i) => {
      const failed = inSection.filter((r) => r.cells[i] === 'fail').length;
      const total = inSection.filter((r) => r.cells[i] === 'pass' || r.cells[i] === 'fail').length;
      return `${failed}/${total}`;
    });
    out.push(line(section, cells));
  }
  const differing = rows.filter((r) => r.cells.some((c) => c !== 'pass'));
  if (differing.length > 0) {
    out.push('', line('checks not passing everywhere', headers));
    for (const row of differing) out.push(line(row.id, row.cells.map((c) => MARK[c])));
  }
  return out.join('\n') + '\n';
}

/** SPEC:/DIFF: notes of every check, once each: where beanstalkd and protocol.txt (or 1.12 and 1.13) differ. */
export function specNotes(results: readonly ConformanceResultView[]): Array<{ id: string; note: string }> {
  const seen = new Set<string>();
  const notes: Array<{ id: string; note: string }> = [];
  for (const result of results) {
    for (const check of result.checks) {
      for (const note of check.notes ?? []) {
        const key = `${check.id}\n${note}`;
        if (seen.has(key)) continue;
        seen.add(key);
        notes.push({ id: check.id, note });
      }
    }
  }
  return notes;
}
