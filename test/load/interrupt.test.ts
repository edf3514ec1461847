// Ctrl-C in a terminal reaches the whole foreground process group (issue 9, item 7). The server
// under test, spawned or embedded, must not get it: beanlab audits its jobs on the server, writes
// the partial result, then stops the server itself. The message is printed once.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { loadResultSchema } from '../../src/metrics/load-result.js';
import { describeWithBeanstalkd } from '../helpers/beanstalkd.js';
import { runBeanlabInGroup } from '../helpers/process-group.js';
import { writeNoWorkersScenario } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'beanlab-load-int-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const scenarioFile = writeNoWorkersScenario(dir);

/** `times` Ctrl-Cs 200 ms apart: one keypress can arrive twice (npm forwards it to its child too). */
async function interrupted(target: string[], json: string, times = 1) {
  const run = await runBeanlabInGroup(['load', scenarioFile, ...target, '--json', json], { timeoutMs: 40_000, ctrlC: { afterMs: 3000, times, everyMs: 200 } });
  const result = loadResultSchema.parse(JSON.parse(readFileSync(json, 'utf8')));
  return { run, result };
}

function expectClean({ run, result }: Awaited<ReturnType<typeof interrupted>>): void {
  expect(run.code, run.stderr).toBe(1);
  expect(run.stderr.match(/stopping \(Ctrl-C\)/g)).toHaveLength(1);
  expect(result.load.interrupted).toBe(true);
  expect(result.load.errors).toEqual([]);
  expect(result.jobs.put).toBeGreaterThan(20);
  expect(result.jobs.lost).toBe(0);
  expect(result.jobs.unverified).toBe(0);
  expect(result.jobs.remaining).toBe(result.jobs.put);
  expect(run.stdout).not.toMatch(/LOST|UNVERIFIED/);
}

describeWithBeanstalkd('Ctrl-C to the process group', (binary) => {
  it('leaves a spawned beanstalkd running until the final audit is done', async () => {
    expectClean(await interrupted(['--spawn', `${binary} -l 127.0.0.1 -p {port}`], join(dir, 'spawned.json'), 2));
  }, 60_000);
});

it('leaves the embedded server running until the final audit is done', async () => {
  expectClean(await interrupted([], join(dir, 'embedded.json')));
}, 60_000);
