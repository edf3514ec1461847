// `beanlab validate` as a user runs it, against the embedded server: it agrees with a sound server,
// disagrees with one made slow (and names the metrics), turns bad input into exit 2, and on Ctrl-C
// to the whole process group still prints and writes what it measured, exiting 1.
//
// The round trip is not calibrated yet (issue 11, phase B), and the embedded server shares two
// busy cores with the rest of the suite: these runs widen latency bands by --slack 10 (ms). What
// the bands are worth is tested without a clock in check.test.ts; this is the command around them.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BEANLAB_BIN, runBeanlab } from '../helpers/beanlab-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'beanlab-validate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function scenarioFile(name: string, durationSeconds: number): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `name: ${name}
durationSeconds: ${durationSeconds}
tubes: [jobs]
producers:
  - tube: jobs
    arrival: { process: poisson, ratePerSecond: 100 }
workers:
  - count: 4
    watch: [jobs]
    service: { distribution: exponential, meanSeconds: 0.01 }
load:
  drainSeconds: 5
`,
  );
  return file;
}

const light = scenarioFile('light', 2);
const SLACK = ['--slack', '10'];

/** The headline as one line (the terminal report wraps it at 100 columns). */
const unwrapped = (stdout: string) => stdout.replace(/\n {2}(?=\S)/g, ' ');

describe('beanlab validate on the embedded server', () => {
  it('agrees with a sound server: exit 0, the table, the JSON and the report', async () => {
    const json = join(dir, 'agree.json');
    const report = join(dir, 'agree-report');
    const run = await runBeanlab(['validate', light, ...SLACK, '--json', json, '--report', report], { timeoutMs: 90_000 });
    expect(run.stdout).toMatch(/^validate light: AGREE \(all \d+ checked metrics inside their bands\)$/m);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^simulating: 20 seeds \(2\.\.21\)$/m);
    expect(run.stderr).toMatch(/^measuring: real run 1 of 1 \(seed 1\) against embedded/m);
    for (const line of run.stdout.split('\n')) expect(line.length).toBeLessThanOrEqual(100);
    const v = JSON.parse(readFileSync(json, 'utf8'));
    expect(v).toMatchObject({ kind: 'validation', version: 1, scenario: 'light', durationSeconds: 2, agree: true });
    expect(v.simulated).toEqual({ firstSeed: 2, groups: 20, repeat: 1 });
    expect(v.measured.seeds).toEqual([1]);
    expect(v.rows.map((r: { metric: { id: string } }) => r.metric.id)).toContain('endToEnd.p90');
    expect(v.rows.every((r: { values: number[] }) => r.values.length === 20)).toBe(true);
    for (const f of ['validation.json', 'report.md', 'report.html']) expect(existsSync(join(report, f))).toBe(true);
  }, 120_000);

  it('disagrees with a server that answers 40 ms late, and says which metrics are off', async () => {
    const slow = `${process.execPath} ${BEANLAB_BIN} serve --port {port} --fault slow=40`;
    const run = await runBeanlab(['validate', light, ...SLACK, '--seeds', '10', '--spawn', slow], { timeoutMs: 90_000 });
    expect(run.code).toBe(1);
    expect(unwrapped(run.stdout)).toMatch(/^validate light: DISAGREE \(\d+ of \d+ checked metrics outside their bands: .*queue wait p50 above/m);
    expect(run.stdout).toMatch(/^queue wait p50 .* 10\/10 +ABOVE$/m);
    expect(run.stdout).toMatch(/^end to end mean .* 10\/10 +ABOVE$/m);
  }, 120_000);

  it('turns bad input into exit 2 with one line', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['validate', join(dir, 'missing.yaml')], /^beanlab: cannot read scenario .*missing\.yaml: ENOENT\n$/],
      [['validate', light, '--target', '127.0.0.1:1', '--spawn', 'x {port}'], /^beanlab: --target and --spawn exclude each other\n$/],
      [['validate', light, '--seeds', '1'], /^beanlab: --seeds must be a whole number from 2 to 10000, got '1'\n$/],
      [['validate', light, '--tolerance', '-3'], /^beanlab: --tolerance must be a number, 0 or more, got '-3'\n$/],
      [['validate', light, '--seeds', '2', '--target', '127.0.0.1:1'], /cannot connect to 127\.0\.0\.1:1\n$/],
      [['validate', 'scenarios/mmc.yaml'], /^beanlab: scenarios\/mmc\.yaml: no durationSeconds; give the real run's length with --duration SECONDS\n$/],
      [['validate', 'scenarios/put-max.yaml'], /^beanlab: scenarios\/put-max\.yaml: validate compares open-loop runs, and load\.mode is closed/],
    ];
    for (const [args, stderr] of cases) {
      const run = await runBeanlab(args, { timeoutMs: 60_000 });
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr.split('\n').filter((l) => l.startsWith('beanlab:'))).toHaveLength(1);
      expect(run.stderr).toMatch(stderr);
    }
  }, 120_000);

  it('on Ctrl-C to the process group mid-run: prints and writes the partial verdict, exit 1', async () => {
    const long = scenarioFile('long', 30);
    const json = join(dir, 'interrupted.json');
    const child = spawn(process.execPath, [BEANLAB_BIN, 'validate', long, ...SLACK, '--seeds', '5', '--json', json], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    const measuring = new Promise<void>((resolve) =>
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk;
        if (stderr.includes('measuring:')) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 90_000);
    try {
      await Promise.race([measuring, exited]);
      await new Promise((resolve) => setTimeout(resolve, 2500));
      // As a terminal sends it: to the whole foreground group, the embedded server included.
      process.kill(-child.pid!, 'SIGINT');
      const code = await exited;
      expect(stderr).toContain('stopping (Ctrl-C)');
      expect(code).toBe(1);
      expect(unwrapped(stdout)).toMatch(/^validate long: DISAGREE \(the real run was interrupted, so it is shorter than the prediction;/m);
      const v = JSON.parse(readFileSync(json, 'utf8'));
      expect(v.agree).toBe(false);
      expect(v.measured.interrupted).toBe(true);
    } finally {
      clearTimeout(timer);
    }
  }, 120_000);
});
