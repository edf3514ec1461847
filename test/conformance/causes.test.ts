// Root causes: each failure is attributed to one cause, failures are grouped by it (most checks
// first), and the terminal shows one entry per cause, so a server with a dozen differences
// reads in one screen whatever number of checks they break.
import { describe, expect, it } from 'vitest';
import { BEANSTALKD_CAPABILITIES } from '../../src/conformance/capabilities.js';
import { causeOf, groupCauses, SentLines } from '../../src/conformance/causes.js';
import { formatConformanceHtml } from '../../src/report/conformance-html.js';
import { formatConformanceMarkdown } from '../../src/report/conformance-markdown.js';
import { formatConformanceTable, type ConformanceResultView } from '../../src/report/conformance-table.js';

const caps = BEANSTALKD_CAPABILITIES;

describe('causeOf', () => {
  it('names a command the server lacks, whatever the reply', () => {
    const noPeek = { missing: ['peek' as const], integerIds: true };
    expect(causeOf({ command: 'peek', expected: 'FOUND $a 1\\r\\nx', actual: 'UNKNOWN_COMMAND' }, noPeek)).toEqual({ key: 'missing:peek', title: 'peek not implemented' });
  });

  it('blames the id format for a case with literal ids on a server whose ids are not integers, and only then', () => {
    const uuid = { missing: [], integerIds: false };
    const facts = { command: 'peek', expected: 'NOT_FOUND', actual: 'BAD_FORMAT' };
    expect(causeOf(facts, uuid, { literalIds: true }).title).toBe('ids are not integers');
    expect(causeOf(facts, uuid, { literalIds: false }).title).toBe('peek: BAD_FORMAT instead of NOT_FOUND');
    expect(causeOf(facts, caps, { literalIds: true }).title).toBe('peek: BAD_FORMAT instead of NOT_FOUND');
  });

  it('says stats lag when the re-read matched', () => {
    expect(causeOf({ command: 'stats', expected: 'map current-workers=0', actual: 'map current-workers=1', fields: ['current-workers'], statsLag: true }, caps).title).toBe(
      'stats lag behind the commands',
    );
  });

  it('groups by command and reply shape', () => {
    expect(causeOf({ command: 'kick', expected: 'KICKED 2', actual: 'KICKED 1' }, caps)).toEqual({ key: 'reply:kick:KICKED', title: 'kick: KICKED differs' });
    expect(causeOf({ command: 'reserve-with-timeout', expected: 'TIMED_OUT', actual: 'no reply within 2000 ms' }, caps).title).toBe(
      'reserve-with-timeout: no reply instead of TIMED_OUT',
    );
    expect(causeOf({ command: 'stats-job', expected: 'map ttr=1', actual: 'map ttr=9', fields: ['ttr', 'pri'] }, caps).title).toBe('stats-job: pri, ttr differ');
    // An error answered as another error is one parser rule, across commands.
    const a = causeOf({ command: 'put', expected: 'BAD_FORMAT', actual: 'UNKNOWN_COMMAND' }, caps);
    const b = causeOf({ command: 'delete', expected: 'BAD_FORMAT', actual: 'UNKNOWN_COMMAND' }, caps);
    expect(a).toEqual(b);
  });
});

describe('groupCauses', () => {
  it('orders causes by the number of checks, capability causes first among equals', () => {
    const check = (id: string, key: string, status = 'fail') => ({ id, status, cause: { key, title: key } });
    const groups = groupCauses([
      check('a', 'reply:x'),
      check('b', 'missing:peek'),
      check('c', 'ids'),
      check('d', 'ids'),
      check('e', 'reply:x', 'pass'),
      check('f', 'ids'),
    ]);
    expect(groups.map((g) => [g.key, g.checks])).toEqual([
      ['ids', ['c', 'd', 'f']],
      ['missing:peek', ['b']],
      ['reply:x', ['a']],
    ]);
  });
});

describe('SentLines: which command a reply answers', () => {
  it('follows command lines in order, skipping put bodies (also bodies that look like commands)', () => {
    const lines = new SentLines();
    lines.push(Buffer.from('put 0 0 10 9\r\npeek 1\r\nx\r\nres'));
    lines.push(Buffer.from('erve\r\nput  1  0  10  1\r\nx\r\nstats'));
    expect(lines.head()).toBe('put 0 0 10 9');
    lines.answered();
    expect(lines.head()).toBe('reserve');
    lines.answered();
    expect(lines.head()).toBe('put  1  0  10  1');
    lines.answered();
    expect(lines.head()).toBeUndefined();
  });
});

/** A whole-suite-sized result: 46 sections, `causes` causes over `failing` checks. */
function bigResult(causes: number, failing: number): ConformanceResultView {
  const checks = Array.from({ length: 307 }, (_, i) => {
    const section = `area${i % 11}/section-number-${i % 46}`;
    const fail = i < failing;
    return {
      id: `${section}/check-${i}`,
      section,
      status: fail ? ('fail' as const) : ('pass' as const),
      rule: 'a rule',
      expected: 'line 3: A< RESERVED $a 1\\r\\nx',
      actual: 'TIMED_OUT',
      notes: i % 15 === 0 ? ['SPEC: protocol.txt says otherwise'] : [],
      ...(fail ? { cause: `cause-${i % causes}`, replay: `beanlab replay reports/replays/check-${i}.txt --profile 1.12\ncase x\nA> put\nA< INSERTED $a` } : {}),
    };
  });
  const groups = Array.from({ length: causes }, (_, k) => ({
    key: `cause-${k}`,
    title: `reserve-with-timeout: a reply shape number ${k} instead of another one`,
    checks: checks.filter((c) => c.cause === `cause-${k}`).map((c) => c.id),
  }))
    .filter((g) => g.checks.length > 0)
    .sort((a, b) => b.checks.length - a.checks.length);
  return {
    target: 'a server', profile: '1.12', seed: 5, passed: 307 - failing, failed: failing, skipped: 0, notChecked: 0, causes: groups, checks,
  };
}

describe('formatConformanceTable', () => {
  it('fits a server with a dozen causes over 280 failing checks in 80 lines of at most 100 columns', () => {
    const text = formatConformanceTable(bigResult(12, 280));
    const lines = text.trimEnd().split('\n');
    expect(lines.length).toBeLessThanOrEqual(80);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(100);
    const causeLines = lines.filter((l) => /^ +\d+ {2}reserve-with-timeout: /.test(l));
    expect(causeLines).toHaveLength(12);
    // Most checks first, each with one replay command.
    const counts = causeLines.map((l) => Number(l.trim().split(' ')[0]));
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
    expect(lines.filter((l) => l.trim().startsWith('beanlab replay reports/replays/'))).toHaveLength(12);
  });

  it('prints every failure in full only with verbose', () => {
    const result = bigResult(2, 3);
    expect(formatConformanceTable(result)).not.toContain('  expected: ');
    const verbose = formatConformanceTable(result, { verbose: true });
    expect(verbose.match(/^FAIL /gm)).toHaveLength(3);
    expect(verbose).toContain('  cause:    reserve-with-timeout: a reply shape number 0 instead of another one');
  });

  it('keeps a passing whole-suite run short: areas, one line for the spec notes', () => {
    const text = formatConformanceTable(bigResult(1, 0));
    const lines = text.trimEnd().split('\n');
    expect(lines.length).toBeLessThanOrEqual(15);
    expect(text).not.toContain('SPEC:');
    expect(text).toMatch(/^notes: 21 checks where beanstalkd differs from protocol\.txt/m);
    expect(formatConformanceTable(bigResult(1, 0), { verbose: true }).match(/SPEC:/g)).toHaveLength(21);
  });

  it('shows not-checked checks as a column and one line per reason', () => {
    const result = bigResult(1, 0);
    const checks = result.checks.map((c, i) => (i < 4 ? { ...c, status: 'not-checked' as const, actual: i < 3 ? 'needs peek' : 'needs stats' } : c));
    const text = formatConformanceTable({ ...result, passed: 303, notChecked: 4, checks });
    expect(text).toMatch(/^area +pass +fail +n\/c +skip/m);
    expect(text).toMatch(/^not checked: 4 \(they use a command the server lacks: peek 3, stats 1\)$/m);
    expect(text).toContain('307 checks: 303 passed, 0 failed, 0 skipped, 4 not checked');
  });
});

describe('reports list causes', () => {
  it('Markdown and HTML have a Causes table, and each failure names its cause', () => {
    const result = bigResult(2, 3);
    const md = formatConformanceMarkdown({ seed: 5, results: [result] });
    expect(md).toMatch(/## Causes[\s\S]*\| 2 \| reserve-with-timeout: a reply shape number 0 instead of another one \| `area0\/section-number-0\/check-0` \|/);
    expect(md).toContain('* cause: reserve-with-timeout: a reply shape number 1 instead of another one');
    const html = formatConformanceHtml({ seed: 5, results: [result] });
    expect(html).toContain('<h2>Causes</h2>');
    expect(html).toContain('<td>2</td><td>reserve-with-timeout: a reply shape number 0 instead of another one</td>');
  });
});

describe('a long replay command', () => {
  it('is continued with backslashes within 100 columns, never inside a quoted argument', () => {
    const spawn = "--spawn '/usr/local/bin/beanstalkd-with-a-long-name -b {binlog} -l 127.0.0.1 -p {port} -z 1000000'";
    const replay = `beanlab replay reports/replays/worker__reserve-with-timeout__property-timeout.txt --profile 1.12 ${spawn}`;
    const result = { ...bigResult(1, 1) };
    result.checks = result.checks.map((c, i) => (i === 0 ? { ...c, replay: `${replay}\ncase x` } : c));
    const lines = formatConformanceTable(result).split('\n');
    const start = lines.findIndex((l) => l.includes('beanlab replay'));
    const command = lines.slice(start, start + 3);
    for (const line of command) expect(line.length, line).toBeLessThanOrEqual(100);
    expect(command[0]).toMatch(/ \\$/);
    const joined = command.join('\n').replace(/ \\\n +/g, ' ').trim();
    expect(joined).toBe(replay);
  });
});

describe('errorCause', () => {
  it('tells a server that would not take a connection from an error of the runner', async () => {
    const { errorCause } = await import('../../src/conformance/causes.js');
    expect(errorCause('connect to 127.0.0.1:3 timed out after 2000 ms').key).toBe('unreachable');
    expect(errorCause('cannot connect to 127.0.0.1:3: ECONNREFUSED').key).toBe('unreachable');
    expect(errorCause('$a is not bound').key).toBe('error');
  });
});
