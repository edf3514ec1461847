// The JUnit XML consumers the tests hold `conform --junit` up against: xmllint (Debian's
// libxml2-utils) with test/fixtures/junit.xsd, and junitparser (Debian's python3-junitparser),
// a real reader of JUnit reports. Like beanstalkd (beanstalkd.ts): skipped when missing locally,
// FAILING under CI=true, where .ci/run installs both.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';

export const JUNIT_XSD = fileURLToPath(new URL('../fixtures/junit.xsd', import.meta.url));
/** Debian's Python, where python3-junitparser installs (another python3 on PATH may lack it). */
const PYTHON = '/usr/bin/python3';

function available(): string | undefined {
  if (spawnSync('xmllint', ['--version']).status !== 0) return 'xmllint (apt-get install libxml2-utils)';
  if (spawnSync(PYTHON, ['-c', 'import junitparser']).status !== 0) return 'junitparser (apt-get install python3-junitparser)';
  return undefined;
}

export function describeWithJunitTools(name: string, body: () => void): void {
  const missing = available();
  if (!missing) describe(name, body);
  else if (process.env.CI === 'true') {
    describe(name, () => {
      it('has the JUnit tools installed (required when CI=true)', () => {
        throw new Error(`${missing} is missing, and CI=true requires it`);
      });
    });
  } else describe.skip(`${name} (${missing} not installed)`, body);
}

/** xmllint's verdict on the file against the JUnit schema: '' when valid, else its messages. */
export function schemaErrors(file: string): string {
  const run = spawnSync('xmllint', ['--noout', '--schema', JUNIT_XSD, file], { encoding: 'utf8' });
  return run.status === 0 ? '' : `${run.stderr}${run.stdout}`.trim();
}

export interface ParsedCase {
  suite: string;
  classname: string;
  name: string;
  result: Array<{ kind: string; message: string | null; text: string | null; type: string | null }>;
}

/** The file as junitparser reads it: every testcase of every suite with its results. */
export function readWithJunitparser(file: string): { suites: Array<{ name: string; tests: number; failures: number; skipped: number; properties: Record<string, string> }>; cases: ParsedCase[] } {
  const script = `
import json, sys
from junitparser import JUnitXml, TestSuite
xml = JUnitXml.fromfile(sys.argv[1])
suites = [xml] if isinstance(xml, TestSuite) else list(xml)
out = {"suites": [], "cases": []}
for s in suites:
    out["suites"].append({"name": s.name, "tests": s.tests, "failures": s.failures, "skipped": s.skipped,
                          "properties": {p.name: p.value for p in s.properties()}})
    for c in s:
        out["cases"].append({"suite": s.name, "classname": c.classname, "name": c.name,
                             "result": [{"kind": type(r).__name__, "message": r.message, "text": r.text, "type": r.type} for r in c.result]})
print(json.dumps(out))
`;
  const run = spawnSync(PYTHON, ['-c', script, file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`junitparser could not read ${file}: ${run.stderr}`);
  return JSON.parse(run.stdout);
}
