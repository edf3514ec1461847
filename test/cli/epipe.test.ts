// `beanlab conform --help | head -5`: a reader that goes away early ends the output, not the
// command with a stack trace (node's unhandled EPIPE 'error' event, seen on a terminal).
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BEANLAB_BIN } from '../helpers/beanlab-cli.js';

function runWithClosedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BEANLAB_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    // The read end closes before the command writes anything: every write of its gets EPIPE.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`beanlab ${args.join(' ')} did not exit within 60 s`));
    }, 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('a closed stdout (| head)', () => {
  it.each([[['conform', '--help']], [['--help']], [['--version']]])('beanlab %j exits 0 without a stack trace', { timeout: 90_000 }, async (args) => {
    const run = await runWithClosedStdout(args);
    expect(run.stderr).not.toMatch(/EPIPE|Unhandled|at /);
    expect(run.code).toBe(0);
  });
});
