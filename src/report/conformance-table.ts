// The conformance result in the terminal. By default it is short whatever the server: pass /
// fail counts per area (per section when a run has only a few), then one entry per root cause of the failures (most checks first) with
// one replay command, then one line each for what was not checked, skipped, warned about or
// noted. `verbose` adds the table per protocol section, every failure in full (rule, expected,
// actual, replay transcript), the spec notes and every skip. Pure: the result in, text out. The
// input type is structural so report needs nothing from conformance (report imports only metrics).

export type ConformanceStatus = 'pass' | 'fail' | 'skip' | 'not-checked';

export interface ConformanceCheckView {
  id: string;
  section: string;
  status: ConformanceStatus;
  rule: string;
  expected: string;
  actual: string;
  replay?: string;
  notes?: readonly string[];
  /** The key of the failure's root cause (one of the result's causes). */
  cause?: string;
  warnings?: readonly string[];
}

export interface ConformanceCauseView {
  key: string;
  title: string;
  checks: readonly string[];
}

export interface ConformanceResultView {
  target: string;
  profile: string;
  /** The seed of the generated (property) checks, when there were any. */
  seed?: number | null;
  passed: number;
  failed: number;
  skipped: number;
  notChecked?: number;
  causes?: readonly ConformanceCauseView[];
  capabilities?: { missing: readonly string[]; integerIds: boolean; idExample?: string };
  /** Ctrl-C stopped the run: only the checks that finished are here. */
  interrupted?: boolean;
  checks: readonly ConformanceCheckView[];
}

export interface TableOptions {
  /** Every section, every failure in full, every note and skip. */
  verbose?: boolean;
  /** The seed was printed already (the command's first line): a run prints it once. */
  seedPrinted?: boolean;
}

/** Terminal width the report keeps to. */
const COLUMNS = 100;
/** A run with more sections than this (the whole suite has about 45) shows areas unless verbose. */
const MAX_SECTION_ROWS = 12;

type Counts = Record<ConformanceStatus, number>;

export function formatConformanceTable(result: ConformanceResultView, opts: TableOptions = {}): string {
  const out = [`conformance: ${result.target}, profile ${result.profile}`];
  if (result.seed !== undefined && result.seed !== null && !opts.seedPrinted) out.push(`seed: ${result.seed} (rerun with --seed ${result.seed})`);
  const probe = probeLine(result);
  if (probe) out.push(probe);
  const withNotChecked = result.checks.some((c) => c.status === 'not-checked');
  out.push('');
  const sections = new Set(result.checks.map((c) => c.section)).size;
  if (opts.verbose || sections <= MAX_SECTION_ROWS) out.push(...sectionTable(result.checks, withNotChecked));
  else out.push(...areaTable(result.checks, withNotChecked));
  out.push(...causeLines(result));
  if (opts.verbose) out.push(...failureDetails(result));
  out.push(...otherLines(result, Boolean(opts.verbose)));
  out.push('', summaryLine(result));
  return out.join('\n') + '\n';
}

export function summaryLine(result: ConformanceResultView): string {
  const total = result.passed + result.failed + result.skipped + (result.notChecked ?? 0);
  const notChecked = result.notChecked ? `, ${result.notChecked} not checked` : '';
  const early = result.interrupted ? ' (interrupted: only the checks that finished)' : '';
  return `${total} checks: ${result.passed} passed, ${result.failed} failed, ${result.skipped} skipped${notChecked}${early}`;
}

/** What the probe found that differs from beanstalkd, in one line (nothing when nothing does). */
function probeLine(result: ConformanceResultView): string | undefined {
  const caps = result.capabilities;
  if (!caps) return undefined;
  const parts: string[] = [];
  if (!caps.integerIds) parts.push(`ids are not integers (${clip(`INSERTED ${caps.idExample ?? '?'}`, 40)})`);
  if (caps.missing.length > 0) parts.push(`lacks ${caps.missing.join(', ')}`);
  return parts.length === 0 ? undefined : clip(`probe: ${parts.join('; ')}`, COLUMNS);
}

function countBy(checks: readonly ConformanceCheckView[], key: (c: ConformanceCheckView) => string): Map<string, Counts> {
  const rows = new Map<string, Counts>();
  for (const check of checks) {
    const name = key(check);
    const row = rows.get(name) ?? { pass: 0, fail: 0, skip: 0, 'not-checked': 0 };
    row[check.status] += 1;
    rows.set(name, row);
  }
  return new Map([...rows].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function cells(row: Counts, withNotChecked: boolean): string[] {
  const counts = [row.pass, row.fail, ...(withNotChecked ? [row['not-checked']] : []), row.skip];
  return counts.map((n) => String(n));
}

function header(withNotChecked: boolean): string[] {
  return ['pass', 'fail', ...(withNotChecked ? ['n/c'] : []), 'skip'];
}

/** One row per protocol section (verbose). */
function sectionTable(checks: readonly ConformanceCheckView[], withNotChecked: boolean): string[] {
  const rows = countBy(checks, (c) => c.section);
  const width = Math.max('section'.length, ...[...rows.keys()].map((n) => n.length));
  const line = (name: string, values: string[], mark: string) =>
    `${name.padEnd(width)}  ${values.map((v) => v.padStart(4)).join('  ')}  ${mark}`.trimEnd();
  const out = [line('section', header(withNotChecked), '')];
  for (const [name, row] of rows) out.push(line(name, cells(row, withNotChecked), row.fail > 0 ? 'FAIL' : ''));
  return out;
}

/** One cell per area (the first part of a check id), two areas to a line. */
function areaTable(checks: readonly ConformanceCheckView[], withNotChecked: boolean): string[] {
  const rows = [...countBy(checks, (c) => c.section.split('/')[0])];
  const width = Math.max('area'.length, ...rows.map(([n]) => n.length));
  const cell = (name: string, values: string[], mark: string) =>
    `${name.padEnd(width)} ${values.map((v) => v.padStart(5)).join('')}${mark ? ` ${mark}` : '     '}`;
  const head = cell('area', header(withNotChecked), '');
  const body = rows.map(([name, row]) => cell(name, cells(row, withNotChecked), row.fail > 0 ? 'FAIL' : ''));
  const half = Math.ceil(body.length / 2);
  const out = [`${head}    ${head}`.trimEnd()];
  for (let i = 0; i < half; i++) out.push(`${body[i]}${body[i + half] ? `    ${body[i + half]}` : ''}`.trimEnd());
  return out;
}

/** One entry per root cause: count, title, an example check and its replay command. */
function causeLines(result: ConformanceResultView): string[] {
  const causes = (result.causes ?? []).filter((c) => c.checks.length > 0);
  if (causes.length === 0) return [];
  const byId = new Map(result.checks.map((c) => [c.id, c]));
  const width = String(causes[0].checks.length).length;
  const out = ['', `causes of the ${result.failed} failed ${result.failed === 1 ? 'check' : 'checks'}, most checks first (each failure in full: --verbose):`];
  for (const cause of causes) {
    const n = cause.checks.length;
    const example = byId.get(cause.checks[0]);
    const more = n > 1 ? ` and ${n - 1} more` : '';
    out.push(clip(`  ${String(n).padStart(width)}  ${cause.title}: FAIL ${cause.checks[0]}${more}`, COLUMNS));
    const replay = example?.replay?.split('\n')[0];
    if (replay) out.push(...shellLines(`${' '.repeat(width + 4)}`, replay));
  }
  return out;
}

/** A command as shell lines of at most COLUMNS columns (continued with ` \\`), so it still pastes. */
function shellLines(indent: string, command: string): string[] {
  const lines: string[] = [];
  let line = indent;
  for (const word of shellWords(command)) {
    if (line.trim() !== '' && line.length + 1 + word.length + 2 > COLUMNS) {
      lines.push(`${line} \\`);
      line = `${indent}  `;
    }
    line += line.trim() === '' ? word : ` ${word}`;
  }
  lines.push(line);
  return lines;
}

function failureDetails(result: ConformanceResultView): string[] {
  const titles = new Map((result.causes ?? []).map((c) => [c.key, c.title]));
  const out: string[] = [];
  for (const check of result.checks.filter((c) => c.status === 'fail')) {
    out.push('', `FAIL ${check.id}`, `  rule:     ${check.rule}`);
    for (const note of check.notes ?? []) out.push(`  note:     ${note}`);
    out.push(`  expected: ${check.expected}`, `  actual:   ${check.actual}`);
    const cause = check.cause === undefined ? undefined : titles.get(check.cause);
    if (cause) out.push(`  cause:    ${cause}`);
    if (check.replay) {
      const [command, ...transcript] = check.replay.split('\n');
      out.push(`  replay:   ${command}`, ...transcript.map((l) => `    | ${l}`));
    }
  }
  return out;
}

/** Not checked, warnings, skips and spec notes: one line per reason by default, every check verbose. */
function otherLines(result: ConformanceResultView, verbose: boolean): string[] {
  const out: string[] = [];
  const listed = (status: ConformanceStatus, title: string) => {
    const checks = result.checks.filter((c) => c.status === status);
    if (checks.length === 0) return;
    if (verbose) {
      out.push('', `${title}:`, ...checks.map((c) => `  ${c.id}: ${c.actual}`));
      return;
    }
    const reasons = new Map<string, number>();
    for (const c of checks) reasons.set(c.actual, (reasons.get(c.actual) ?? 0) + 1);
    if (reasons.size === 1) {
      out.push(clip(`${title}: ${checks.length} (${checks[0].actual})`, COLUMNS));
      return;
    }
    out.push(`${title}: ${checks.length}`);
    for (const [reason, n] of [...reasons].sort((a, b) => b[1] - a[1])) out.push(clip(`  ${String(n).padStart(3)}  ${reason}`, COLUMNS));
  };
  if (verbose) listed('not-checked', 'not checked (needs a command the server lacks, and is not about it)');
  else out.push(...notCheckedLine(result.checks));
  const warned = result.checks.filter((c) => (c.warnings ?? []).length > 0);
  if (warned.length > 0) {
    out.push(...(verbose ? [''] : []), 'warnings (extensions beanstalkd does not have; not failures):');
    for (const c of warned) for (const w of c.warnings ?? []) out.push(clip(`  ${c.id}: ${w}`, verbose ? Infinity : COLUMNS));
  }
  listed('skip', 'skipped');
  // Where beanstalkd and protocol.txt disagree (semantics a.5, h): notes, never failures.
  const noted = result.checks.filter((c) => c.status !== 'fail' && (c.notes ?? []).some((n) => n.startsWith('SPEC:')));
  if (noted.length > 0 && verbose) {
    out.push('', 'notes (beanstalkd differs from protocol.txt; the suite follows the server):');
    for (const check of noted) for (const note of check.notes ?? []) if (note.startsWith('SPEC:')) out.push(`  ${check.id}: ${note}`);
  } else if (noted.length > 0) {
    out.push(`notes: ${noted.length} checks where beanstalkd differs from protocol.txt (in the report; --verbose)`);
  }
  // By default the one-line entries form one block.
  return verbose || out.length === 0 ? out : ['', ...out];
}

/** Not-checked checks in one line: how many need each missing command (`needs peek, stats`). */
function notCheckedLine(checks: readonly ConformanceCheckView[]): string[] {
  const notChecked = checks.filter((c) => c.status === 'not-checked');
  if (notChecked.length === 0) return [];
  const perCommand = new Map<string, number>();
  for (const c of notChecked) {
    for (const command of c.actual.replace(/^needs /, '').split(', ')) perCommand.set(command, (perCommand.get(command) ?? 0) + 1);
  }
  const counts = [...perCommand].sort((a, b) => b[1] - a[1]).map(([command, n]) => `${command} ${n}`);
  const line = `not checked: ${notChecked.length} (they use a command the server lacks: ${counts.join(', ')})`;
  const lines: string[] = [];
  let current = '';
  for (const word of line.split(' ')) {
    if (current && current.length + 1 + word.length > COLUMNS) {
      lines.push(current);
      current = `  ${word}`;
    } else {
      current = current ? `${current} ${word}` : word;
    }
  }
  return [...lines, current];
}

/** The words of a command line, a single-quoted part (`--spawn 'beanstalkd -p {port}'`) never split. */
function shellWords(command: string): string[] {
  const words: string[] = [];
  let word = '';
  let quoted = false;
  for (const ch of command) {
    if (ch === "'") quoted = !quoted;
    if (ch === ' ' && !quoted) {
      if (word) words.push(word);
      word = '';
    } else {
      word += ch;
    }
  }
  if (word) words.push(word);
  return words;
}

function clip(text: string, columns: number): string {
  return text.length <= columns ? text : `${text.slice(0, columns - 1)}…`;
}
