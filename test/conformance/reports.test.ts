// The report formatters: the checks × servers matrix, Markdown and HTML, spec notes, mutation score.
import { describe, expect, it } from 'vitest';
import { formatConformanceHtml } from '../../src/report/conformance-html.js';
import { formatConformanceMarkdown, formatMutationTable } from '../../src/report/conformance-markdown.js';
import { formatConformanceMatrix, matrixRows } from '../../src/report/conformance-matrix.js';

const check = (id: string, status: 'pass' | 'fail' | 'skip', notes?: string[]) => ({
  id, section: id.slice(0, id.lastIndexOf('/')), status, rule: `rule of ${id}`, expected: status === 'fail' ? 'A< X' : '', actual: status === 'fail' ? 'Y' : '',
  ...(status === 'fail' ? { replay: 'beanlab replay f.txt\ncase x' } : {}), ...(notes ? { notes } : {}),
});
const a = { target: 'beanstalkd', profile: '1.12', passed: 2, failed: 0, skipped: 0, checks: [check('w/r/one', 'pass'), check('w/d/two', 'pass', ['SPEC: ready jobs are deletable'])] };
const b = { target: 'other <srv>', profile: '1.12', passed: 1, failed: 1, skipped: 0, checks: [check('w/r/one', 'fail'), check('w/d/two', 'pass', ['SPEC: ready jobs are deletable'])] };

describe('conformance reports', () => {
  it('builds one row per check with a cell per server', () => {
    // Grouped by section in name order, whatever order the checks ran in.
    expect(matrixRows([a, b])).toEqual([
      { id: 'w/d/two', section: 'w/d', cells: ['pass', 'pass'] },
      { id: 'w/r/one', section: 'w/r', cells: ['pass', 'fail'] },
    ]);
    const text = formatConformanceMatrix([a, b]);
    expect(text).toMatch(/^w\/r\s+0\/1\s+1\/1$/m);
    expect(text).toMatch(/^w\/r\/one\s+pass\s+FAIL$/m);
    expect(text).not.toMatch(/^w\/d\/two/m);
  });

  it('writes Markdown with the matrix, failures with replay, and spec notes (not failures)', () => {
    const md = formatConformanceMarkdown({ seed: 7, results: [a, b] });
    expect(md).toContain('| `w/r/one` | ✅ pass | ❌ FAIL |');
    expect(md).toContain('### `w/r/one` on other <srv>');
    expect(md).toContain('beanlab replay f.txt');
    expect(md).toContain('## Notes: where beanstalkd and protocol.txt disagree');
    expect(md.match(/SPEC: ready jobs are deletable/g)).toHaveLength(1);
  });

  it('lists what the suite does not cover, in Markdown and HTML', () => {
    const notCovered = ['2 testserv.c tests (a, b): <unix> sockets'];
    expect(formatConformanceMarkdown({ seed: 7, results: [a], notCovered })).toContain(
      '## Not covered: beanstalkd tests this suite has no case for\n\n* 2 testserv.c tests (a, b): <unix> sockets',
    );
    expect(formatConformanceHtml({ seed: 7, results: [a], notCovered })).toContain('<li>2 testserv.c tests (a, b): &lt;unix&gt; sockets</li>');
    expect(formatConformanceMarkdown({ seed: 7, results: [a] })).not.toContain('Not covered');
  });

  it('writes a self-contained, escaped HTML page', () => {
    const html = formatConformanceHtml({ seed: 7, results: [a, b] });
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('other &lt;srv&gt;');
    expect(html).not.toMatch(/<script|<link|src=/);
  });

  it('prints the mutation score', () => {
    const text = formatMutationTable({ faults: [
      { name: 'f1', description: 'd1', caught: true, failing: ['x/y/z'] },
      { name: 'f2', description: 'd2', caught: false, failing: [] },
    ] });
    expect(text).toContain('f1  caught  x/y/z');
    expect(text).toContain('f2  MISSED');
    expect(text).toContain('mutation score: 1/2 faults caught');
  });
});
