// `npm start` is the README's first quick-start command: it must keep working and passing.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { BEANLAB_BIN as BIN } from '../helpers/beanlab-cli.js';

const workDir = mkdtempSync(join(tmpdir(), 'beanlab-start-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

it('beanlab start runs conform, sim and load on the embedded server and links the three reports', () => {
  const run = spawnSync(process.execPath, [BIN, 'start'], { cwd: workDir, encoding: 'utf8', timeout: 120_000 });
  expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
  expect(run.status).toBe(0);
  expect(run.stdout).toMatch(/PASS {2}Conformance/);
  expect(run.stdout).toMatch(/PASS {2}Simulation/);
  expect(run.stdout).toMatch(/PASS {2}Load/);
  // The sim and load parts are a few lines each, within 100 columns (their tables are in the reports).
  const simAndLoad = run.stdout.slice(run.stdout.indexOf('beanlab start 2/3'), run.stdout.indexOf('PASS  Conformance'));
  // A busy machine adds the load generator's warnings (two lines each) before `details:`: the
  // few lines are about the run itself.
  const withoutWarnings = simAndLoad.replace(/\n {6}warning:[\s\S]*?(?=\n {6}details:)/g, '');
  expect(withoutWarnings.trimEnd().split('\n').length).toBeLessThanOrEqual(14);
  expect(simAndLoad.split('\n').filter((line) => line.length > 100)).toEqual([]);
  expect(simAndLoad).toContain('details: reports/latest/sim/report.md');
  expect(simAndLoad).toContain('details: reports/latest/load/report.md');
  const index = readFileSync(join(workDir, 'reports/latest/index.html'), 'utf8');
  for (const part of ['conform', 'sim', 'load']) {
    expect(index).toContain(`href="${part}/report.html"`);
    expect(readFileSync(join(workDir, 'reports/latest', part, 'report.html'), 'utf8')).toMatch(/^<!doctype html>/i);
    expect(JSON.parse(readFileSync(join(workDir, 'reports/latest', part, 'result.json'), 'utf8'))).toHaveProperty('kind');
  }
}, 150_000);
