// Ctrl-C during `beanlab conform` behaves the same for every target: the checks finished so far
// are printed and written (JSON, --report DIR), marked interrupted, and the exit status is 130.
// The SIGINT goes to the whole process group, as a terminal sends it: the servers beanlab
// started must not die from it under the checks still running (no failure caused by Ctrl-C),
// and none outlives the run.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnBeanstalkd, type SpawnedServer } from '../../src/target/spawn.js';
import { BEANLAB_BIN as BIN } from '../helpers/beanlab-cli.js';
import { describeWithBeanstalkd } from '../helpers/beanstalkd.js';

const dir = mkdtempSync(join(tmpdir(), 'beanlab-conform-int-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Interrupted {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  result: { kind: string; interrupted?: boolean; passed: number; failed: number; skipped: number; checks: Array<{ id: string; status: string; actual: string }> };
  report: string;
}

/** beanlab conform in a process group of its own, SIGINT to the whole group once checks have finished. */
async function interruptConform(name: string, args: string[], afterMs: number, env: NodeJS.ProcessEnv = process.env): Promise<Interrupted> {
  const report = join(dir, name);
  const json = join(dir, `${name}.json`);
  // cwd: any replay files go to the temporary folder.
  const child = spawn(process.execPath, [BIN, 'conform', ...args, '--json', json, '--report', report], {
    cwd: dir,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
  // Interrupt once the run has certainly started (its first line is printed before any check).
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  await new Promise((resolve) => setTimeout(resolve, afterMs));
  process.kill(-child.pid!, 'SIGINT');
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 30_000);
  const [code, signal] = await exited;
  clearTimeout(timer);
  const result = existsSync(json) ? JSON.parse(readFileSync(json, 'utf8')) : undefined;
  return { code, signal, stdout, result, report };
}

function expectInterruptedReport(run: Interrupted): void {
  expect(run.signal, run.stdout.slice(-2000)).toBeNull();
  expect(run.code, run.stdout.slice(-2000)).toBe(130);
  expect(run.stdout).toContain('interrupted (Ctrl-C): the checks finished so far');
  expect(run.stdout).toMatch(/\d+ checks: \d+ passed, \d+ failed, \d+ skipped \(interrupted: only the checks that finished\)/);
  expect(run.result).toMatchObject({ kind: 'conformance', interrupted: true });
  expect(run.result.checks.length).toBeGreaterThan(0);
  expect(run.result.passed + run.result.failed + run.result.skipped).toBe(run.result.checks.length);
  // Nothing failed because of the Ctrl-C itself.
  expect(run.result.checks.filter((c) => c.status === 'fail').map((c) => `${c.id}: ${c.actual}`)).toEqual([]);
  expect(readdirSync(run.report).sort()).toEqual(['report.html', 'report.md', 'result.json']);
  expect(JSON.parse(readFileSync(join(run.report, 'result.json'), 'utf8'))).toMatchObject({ interrupted: true });
  expect(readFileSync(join(run.report, 'report.md'), 'utf8')).toContain('Interrupted (Ctrl-C)');
}

/** Whether the process exists and is not a zombie (Linux /proc; a dead child of init waits there to be reaped). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('Ctrl-C during conform', () => {
  it('on the embedded server: exit 130, the report written and marked interrupted', async () => {
    expectInterruptedReport(await interruptConform('embedded', [], 2500));
  }, 60_000);
});

describeWithBeanstalkd('Ctrl-C during conform against real servers', (binary) => {
  it('with --spawn: exit 130, no server killed by the SIGINT under a check, none left running', async () => {
    // Each server writes its PID (the shell execs it) to a file, so the test can see it ended.
    const pids = join(dir, 'pids');
    const command = `sh -c 'mkdir -p ${pids}; echo $$ > ${pids}/$$; exec ${binary} -l 127.0.0.1 -p $0' {port}`;
    const run = await interruptConform('spawn', ['--spawn', command], 3000);
    expectInterruptedReport(run);
    const started = readdirSync(pids).map(Number);
    expect(started.length).toBeGreaterThan(1);
    // Killed (SIGKILL) as beanlab exits: give the kernel a moment to end them.
    let alive = started;
    for (let i = 0; i < 30 && alive.length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      alive = started.filter(running);
    }
    expect(alive).toEqual([]);
  }, 60_000);

  it('with {socket} and {binlog}: no socket file or binlog directory left behind', async () => {
    const tmp = mkdtempSync(join(dir, 'tmp-'));
    const run = await interruptConform('socket', ['--spawn', `${binary} -b {binlog} -l unix:{socket}`], 3000, { ...process.env, TMPDIR: tmp });
    expectInterruptedReport(run);
    expect(readdirSync(tmp)).toEqual([]);
  }, 60_000);

  describe('with --target', () => {
    let server: SpawnedServer;
    afterAll(() => server?.stop());
    it('exit 130 and the report marked interrupted', async () => {
      server = await spawnBeanstalkd({ binary });
      expectInterruptedReport(await interruptConform('target', ['--target', `127.0.0.1:${server.port}`], 2500));
    }, 60_000);
  });
});
