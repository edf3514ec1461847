// `conform --junit FILE`: JUnit XML that CI systems read. Checked against the JUnit schema
// (xmllint, test/fixtures/junit.xsd) and read back by a real consumer (junitparser): one
// testcase per check, classname = section, skips with their reason, failures with expected,
// actual and replay; text no XML can hold is escaped, not written raw.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runConform } from '../../src/cli/conform.js';
import { formatConformanceJunit } from '../../src/report/conformance-junit.js';
import { describeWithJunitTools, readWithJunitparser, schemaErrors } from '../helpers/junit-tools.js';

const dir = mkdtempSync(join(tmpdir(), 'beanlab-junit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeWithJunitTools('conform --junit', () => {
  it('writes one testcase per check that the schema accepts and junitparser reads as the run had it', async () => {
    const junit = join(dir, 'run.xml');
    const json = join(dir, 'run.json');
    // A fault that some of these checks catch, and a case for the other profile: fail, pass and skip.
    const code = await runConform(
      { profile: '1.12', concurrency: 4, quick: true, runs: 2, only: 'worker/reserve-with-timeout/', fault: [{ name: 'bad-format-as-unknown' }], junit, json, replayDir: join(dir, 'replays') },
      () => {},
    );
    expect(code).toBe(1);
    expect(schemaErrors(junit)).toBe('');
    const result = JSON.parse(readFileSync(json, 'utf8'));
    const parsed = readWithJunitparser(junit);
    expect(parsed.suites).toEqual([
      {
        name: 'embedded server with fault bad-format-as-unknown (profile 1.12)',
        tests: result.checks.length,
        failures: result.failed,
        skipped: result.skipped,
        properties: { target: 'embedded server with fault bad-format-as-unknown', profile: '1.12', seed: String(result.seed) },
      },
    ]);
    expect(result.failed).toBeGreaterThan(0);
    expect(result.skipped).toBeGreaterThan(0);
    expect(parsed.cases.map((c) => [c.classname, c.name])).toEqual(result.checks.map((c: { section: string; id: string }) => [c.section, c.id]));
    for (const [i, check] of result.checks.entries()) {
      const { result: outcome } = parsed.cases[i];
      if (check.status === 'pass') expect(outcome, check.id).toEqual([]);
      if (check.status === 'skip') expect(outcome, check.id).toEqual([expect.objectContaining({ kind: 'Skipped', message: check.actual })]);
      if (check.status === 'fail') {
        expect(outcome, check.id).toEqual([expect.objectContaining({ kind: 'Failure', type: 'mismatch' })]);
        expect(outcome[0].message).toBe(`expected ${check.expected}; actual ${check.actual}`);
        expect(outcome[0].text).toContain(`expected: ${check.expected}\nactual: ${check.actual}\nreplay: ${check.replay}`);
      }
    }
  });

  it('a check the server could not be checked on (it lacks a helper command) is skipped with what it needs, not failed', () => {
    const xml = formatConformanceJunit({
      seed: 1,
      startedAt: new Date('2026-01-02T03:04:05Z'),
      hostname: 'h',
      durationsSeconds: [1],
      results: [
        {
          target: 'a server without peek',
          profile: '1.12',
          passed: 1,
          failed: 0,
          skipped: 0,
          notChecked: 1,
          checks: [
            { id: 'a/b/pass', section: 'a/b', status: 'pass', rule: 'r', expected: '', actual: '' },
            { id: 'a/b/needs-peek', section: 'a/b', status: 'not-checked', rule: 'r', expected: '', actual: 'needs peek' },
          ],
        },
      ],
    });
    const file = join(dir, 'not-checked.xml');
    writeFileSync(file, xml);
    expect(schemaErrors(file)).toBe('');
    const parsed = readWithJunitparser(file);
    expect(parsed.suites[0]).toMatchObject({ tests: 2, failures: 0, skipped: 1 });
    expect(parsed.cases[1].result).toEqual([expect.objectContaining({ kind: 'Skipped', message: 'not checked: needs peek' })]);
  });

  it('escapes what XML cannot hold: markup, quotes, control bytes, lone surrogates', () => {
    const nasty = 'a "quoted" <tag> & ]]> \x00\x1b\x7f \ud800 tab\there';
    const xml = formatConformanceJunit({
      seed: 1,
      startedAt: new Date('2026-01-02T03:04:05Z'),
      hostname: 'h',
      durationsSeconds: [1.5],
      results: [
        {
          target: 'srv "x" & <y>',
          profile: '1.12',
          passed: 0,
          failed: 1,
          skipped: 1,
          checks: [
            { id: 'a/b/fail', section: 'a/b', status: 'fail', rule: nasty, expected: 'line 1: A< OK', actual: nasty, replay: `cmd\n${nasty}` },
            { id: 'a/b/skip', section: 'a/b', status: 'skip', rule: 'r', expected: '', actual: `needs ${nasty}` },
          ],
        },
      ],
      mutation: { faults: [{ name: 'f1', description: 'd <1>', caught: false, failing: [] }, { name: 'f2', description: 'd2', caught: true, failing: ['a/b/fail'] }] },
    });
    const file = join(dir, 'nasty.xml');
    writeFileSync(file, xml);
    expect(schemaErrors(file)).toBe('');
    // The schema is not a formality: a testcase without its classname, or a count that is not one, is refused.
    const bad = join(dir, 'bad.xml');
    writeFileSync(bad, xml.replace(' classname="a/b" name="a/b/skip"', ' name="a/b/skip"').replace('tests="2"', 'tests="two"'));
    expect(schemaErrors(bad)).toMatch(/classname[\s\S]*two|two[\s\S]*classname/);
    const parsed = readWithJunitparser(file);
    const shown = 'a "quoted" <tag> & ]]> \\x00\\x1b\x7f \\ud800 tab\there';
    expect(parsed.cases[0].result[0].message).toBe(`expected line 1: A< OK; actual ${shown}`);
    expect(parsed.cases[1].result[0].message).toBe(`needs ${shown}`);
    expect(parsed.suites.map((s) => [s.name, s.tests, s.failures])).toEqual([
      ['srv "x" & <y> (profile 1.12)', 2, 1],
      ['mutation score: embedded server with each fault', 2, 1],
    ]);
    expect(parsed.cases.slice(2).map((c) => [c.classname, c.name, c.result.map((r) => r.kind)])).toEqual([
      ['mutation', 'f1', ['Failure']],
      ['mutation', 'f2', []],
    ]);
  });
});
