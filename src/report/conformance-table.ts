// The conformance result as a terminal table: one row per protocol section with pass / fail /
// skip counts, then every failing check with its rule, expected and actual, and how to replay
// it. Pure: the result in, text out. The input type is structural so report needs nothing from
// conformance (report imports only metrics).

export interface ConformanceCheckView {
  id: string;
  section: string;
  status: 'pass' | 'fail' | 'skip';
  rule: string;
  expected: string;
  actual: string;
  replay?: string;
  notes?: readonly string[];
}

export interface ConformanceResultView {
  target: string;
  profile: string;
  /** The seed of the generated (property) checks, when there were any. */
  seed?: number | null;
  passed: number;
  failed: number;
  skipped: number;
  /** Ctrl-C stopped the run: only the checks that finished are here. */
  interrupted?: boolean;
  checks: readonly ConformanceCheckView[];
}

export function formatConformanceTable(result: ConformanceResultView): string {
  const sections = new Map<string, { pass: number; fail: number; skip: number }>();
  for (const check of result.checks) {
    const row = sections.get(check.section) ?? { pass: 0, fail: 0, skip: 0 };
    row[check.status] += 1;
    sections.set(check.section, row);
  }
  const names = [...sections.keys()].sort();
  const width = Math.max('section'.length, ...names.map((n) => n.length));
  const line = (name: string, pass: string, fail: string, skip: string, mark: string) =>
    `${name.padEnd(width)}  ${pass.padStart(4)}  ${fail.padStart(4)}  ${skip.padStart(4)}  ${mark}`.trimEnd();
  const out = [`conformance: ${result.target}, profile ${result.profile}`];
  if (result.seed !== undefined && result.seed !== null) out.push(`seed: ${result.seed} (rerun with --seed ${result.seed})`);
  out.push('', line('section', 'pass', 'fail', 'skip', ''));
  for (const name of names) {
    const row = sections.get(name)!;
    out.push(line(name, String(row.pass), String(row.fail), String(row.skip), row.fail > 0 ? 'FAIL' : ''));
  }
  const failures = result.checks.filter((c) => c.status === 'fail');
  for (const check of failures) {
    out.push('', `FAIL ${check.id}`, `  rule:     ${check.rule}`);
    for (const note of check.notes ?? []) out.push(`  note:     ${note}`);
    out.push(`  expected: ${check.expected}`, `  actual:   ${check.actual}`);
    if (check.replay) {
      const [command, ...transcript] = check.replay.split('\n');
      out.push(`  replay:   ${command}`, ...transcript.map((l) => `    | ${l}`));
    }
  }
  // Where beanstalkd and protocol.txt disagree (semantics a.5, h): notes, never failures.
  const noted = result.checks.filter((c) => c.status !== 'fail' && (c.notes ?? []).some((n) => n.startsWith('SPEC:')));
  if (noted.length > 0) {
    out.push('', 'notes (beanstalkd differs from protocol.txt; the suite follows the server):');
    for (const check of noted) for (const note of check.notes ?? []) if (note.startsWith('SPEC:')) out.push(`  ${check.id}: ${note}`);
  }
  const skips = result.checks.filter((c) => c.status === 'skip');
  if (skips.length > 0) {
    out.push('', 'skipped:');
    for (const check of skips) out.push(`  ${check.id}: ${check.actual}`);
  }
  const total = result.passed + result.failed + result.skipped;
  const early = result.interrupted ? ' (interrupted: only the checks that finished)' : '';
  out.push('', `${total} checks: ${result.passed} passed, ${result.failed} failed, ${result.skipped} skipped${early}`);
  return out.join('\n') + '\n';
}
