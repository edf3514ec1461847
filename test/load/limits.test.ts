// A thousand workers at `ulimit -n 1024` (issue 9, item 10): with a soft limit of 1024 under a
// higher hard limit the run goes ahead (Node raises its soft limit to the hard one at start, and
// the server beanlab spawns inherits that); when the hard limit is short too, beanlab says so in
// one line and exits 2 before any load starts (it used to die half-way through connecting, with
// an EMFILE stack trace).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseOpenFilesLimit } from '../../src/load/fd-limit.js';
import { loadResultSchema } from '../../src/metrics/load-result.js';
import { BEANLAB_BIN, type BeanlabRun } from '../helpers/beanlab-cli.js';
import { describeWithBeanstalkd } from '../helpers/beanstalkd.js';

const dir = mkdtempSync(join(tmpdir(), 'beanlab-load-fd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const scenarioFile = join(dir, 'many.yaml');
writeFileSync(
  scenarioFile,
  `name: many-workers
durationSeconds: 0.5
producers: [{ tube: t, arrival: { process: constant, ratePerSecond: 200 } }]
workers: [{ count: 1000, watch: [t], service: { distribution: constant, seconds: 0 } }]
load: { drainSeconds: 5 }
`,
);

/** beanlab under `ulimit` settings made by a shell first (soft, then hard when given). */
function underLimit(limits: string, args: string[], timeoutMs: number): Promise<BeanlabRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', `${limits} && exec "$@"`, 'sh', process.execPath, BEANLAB_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`beanlab ${args.join(' ')} did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('the open-files limit', () => {
  it('reads soft and hard limits from /proc/self/limits', () => {
    const text = 'Limit                     Soft Limit           Hard Limit           Units     \nMax open files            1024                 524288               files     \n';
    expect(parseOpenFilesLimit(text)).toEqual({ soft: 1024, hard: 524288 });
    expect(parseOpenFilesLimit('Max open files            unlimited            unlimited            files')).toEqual({ soft: Infinity, hard: Infinity });
    expect(parseOpenFilesLimit('nothing here')).toBeUndefined();
  });

  it('refuses in one line, exit 2, before any load, when the hard limit is short', async () => {
    const run = await underLimit('ulimit -n 1024', ['load', scenarioFile], 20_000);
    expect(run.code).toBe(2);
    const lines = run.stderr.trim().split('\n');
    expect(lines, run.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^beanlab: this run needs about 1\d{3} open files \(1 producer and 1000 worker connections, plus its own\) and the limit is 1024 \(hard limit 1024\): raise it \(ulimit -n 1\d{3}\)/);
    expect(run.stdout).toBe('');
  });
});

describeWithBeanstalkd('a thousand workers at a soft limit of 1024', (binary) => {
  it('runs: the soft limit is raised to the hard one for beanlab and the server it spawns', async () => {
    const hard = parseOpenFilesLimit(readFileSync('/proc/self/limits', 'utf8'))!.hard;
    expect(hard, 'this test needs a hard limit above 2100').toBeGreaterThan(2100);
    const json = join(dir, 'many.json');
    const run = await underLimit('ulimit -S -n 1024', ['load', scenarioFile, '--spawn', `${binary} -l 127.0.0.1 -p {port}`, '--json', json], 60_000);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/EMFILE/);
    const result = loadResultSchema.parse(JSON.parse(readFileSync(json, 'utf8')));
    expect(result.load.workerConnections).toBe(1000);
    expect(result.jobs.put).toBeGreaterThan(50);
    expect(result.jobs.completed).toBe(result.jobs.put);
  }, 90_000);
});
