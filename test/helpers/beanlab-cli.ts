// `beanlab ...` as a subprocess (bin/beanlab.js under this Node), for tests of exit codes and
// output: bounded by a timeout (SIGKILL, then the test fails), optionally sent SIGINT midway.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BEANLAB_BIN = fileURLToPath(new URL('../../bin/beanlab.js', import.meta.url));

export interface BeanlabRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runBeanlab(args: string[], opts: { timeoutMs: number; interruptAfterMs?: number }): Promise<BeanlabRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BEANLAB_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    const interrupt = opts.interruptAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGINT'), opts.interruptAfterMs);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`beanlab ${args.join(' ')} did not exit within ${opts.timeoutMs} ms`));
    }, opts.timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      clearTimeout(interrupt);
      resolve({ code, stdout, stderr });
    });
  });
}
