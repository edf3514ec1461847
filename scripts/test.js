#!/usr/bin/env node
// `npm test`: runs vitest with its usual output plus the JSON reporter, then prints the one
// closing line CI reads ("N passed, N failed"), counted from the JSON, not from vitest's summary.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const resultsFile = join(process.cwd(), '.vitest-results.json');
rmSync(resultsFile, { force: true });
// Tests start `beanlab serve` and other commands as processes, many at once. The first run of
// bin/beanlab.js after a checkout or an edit bundles the sources; do it once here, not inside
// a test racing a server start timeout on a busy machine.
spawnSync(process.execPath, [join(process.cwd(), 'bin', 'beanlab.js'), '--help'], { stdio: 'ignore', timeout: 120_000 });
const vitest = join(process.cwd(), 'node_modules', 'vitest', 'vitest.mjs');
const run = spawnSync(
  process.execPath,
  [vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${resultsFile}`, ...process.argv.slice(2)],
  { stdio: 'inherit' },
);

let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const results = JSON.parse(readFileSync(resultsFile, 'utf8'));
  passed = results.numPassedTests;
  failed = results.numFailedTests;
  skipped = results.numPendingTests + results.numTodoTests;
  // A suite that failed to load has no tests in the counts; count it as a failure.
  for (const suite of results.testResults ?? []) {
    if (suite.status === 'failed' && (suite.assertionResults ?? []).length === 0) failed += 1;
  }
} catch {
  failed += 1; // no JSON: vitest itself failed
}
const status = run.status ?? 1;
if (status !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : status);
