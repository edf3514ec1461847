// `beanlab ...` as a terminal runs it: the leader of its own process group, so a Ctrl-C can be
// sent the way a terminal sends it, to every process in the group (`kill(-pgid, SIGINT)`).
// Bounded: the whole group gets SIGKILL if it has not exited by timeoutMs.
import { spawn } from 'node:child_process';
import { BEANLAB_BIN, type BeanlabRun } from './beanlab-cli.js';

export function runBeanlabInGroup(
  args: string[],
  opts: {
    timeoutMs: number;
    /** afterMs counts from the start, or from when stderr first matches `after` (the run is under way). */
    ctrlC?: { afterMs: number; times?: number; everyMs?: number; after?: RegExp };
    env?: NodeJS.ProcessEnv;
  },
): Promise<BeanlabRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BEANLAB_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: opts.env ?? process.env });
    const group = -child.pid!;
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
    const timers: NodeJS.Timeout[] = [];
    const signal = (name: NodeJS.Signals) => {
      try {
        process.kill(group, name);
      } catch {
        // The group is gone already.
      }
    };
    const ctrlC = opts.ctrlC;
    const pressCtrlC = () => {
      if (!ctrlC) return;
      for (let k = 0; k < (ctrlC.times ?? 1); k++) timers.push(setTimeout(() => signal('SIGINT'), ctrlC.afterMs + k * (ctrlC.everyMs ?? 0)));
    };
    if (ctrlC?.after) {
      const listen = (): void => {
        if (!ctrlC.after!.test(stderr)) return;
        child.stderr!.off('data', listen);
        pressCtrlC();
      };
      child.stderr!.on('data', listen);
    } else pressCtrlC();
    timers.push(
      setTimeout(() => {
        signal('SIGKILL');
        reject(new Error(`beanlab ${args.join(' ')} did not exit within ${opts.timeoutMs} ms`));
      }, opts.timeoutMs),
    );
    child.once('exit', (code) => {
      for (const timer of timers) clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
