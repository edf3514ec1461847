// `beanlab serve` as a child process, for tests and benchmarks: ready once it prints its
// listening line, stopped by its own PID (never by name), its exit code returned. A real
// beanstalkd, and free ports, come from src/target (spawnBeanstalkd, freePort): one of each.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BEANLAB_BIN = fileURLToPath(new URL('../../bin/beanlab.js', import.meta.url));
const LISTENING_LINE = /^beanlab serve: listening on (\S+):(\d+) \(profile ([\d.]+)\)$/m;

export interface ServerProcess {
  pid: number;
  host: string;
  port: number;
  /** SIGTERM, then SIGKILL if it has not exited within the grace period; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  /** What the process wrote to stderr so far, for failure messages. */
  stderr(): string;
}

/** `node bin/beanlab.js serve --port 0 ARGS`, ready once it prints its listening line. */
export async function spawnEmbeddedServer(
  opts: { args?: string[]; nodeArgs?: string[]; startTimeoutMs?: number } = {},
): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), BEANLAB_BIN, 'serve', '--port', '0', ...(opts.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const placeholder = wrap(child, '127.0.0.1', 0);
  let stdout = '';
  const listening = new Promise<{ host: string; port: number }>((resolve) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const match = LISTENING_LINE.exec(stdout);
      if (match) resolve({ host: match[1], port: Number(match[2]) });
    });
  });
  const timeoutMs = opts.startTimeoutMs ?? 20_000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`beanlab serve printed no listening line within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const { host, port } = await Promise.race([listening, timedOut, exitedEarly(child, placeholder)]);
    return wrap(child, host, port, placeholder.stderr);
  } catch (error) {
    await placeholder.stop();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

function wrap(child: ChildProcess, host: string, port: number, stderrOf?: () => string): ServerProcess {
  let stderr = '';
  if (!stderrOf) {
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
  }
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
  return {
    pid: child.pid ?? -1,
    host,
    port,
    stderr: stderrOf ?? (() => stderr),
    async stop(graceMs = 5000) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

function exitedEarly(child: ChildProcess, proc: ServerProcess): Promise<never> {
  return new Promise((_, reject) => {
    const fail = (why: string): void => reject(new Error(`${why} before listening: ${proc.stderr().trim()}`));
    child.once('error', (error) => fail(`could not start (${error.message})`));
    child.once('exit', (code, signal) => fail(`exited with ${signal ?? code}`));
  });
}
