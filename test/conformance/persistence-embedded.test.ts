// The persistence cases (corpus/persistence.txt) against the embedded server with a binlog
// (`beanlab serve --binlog {binlog}`), plus what conform's SIGTERM restart cannot show: a
// SIGKILLed server loses nothing it answered, and a directory holds one server at a time.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runConform } from '../../src/cli/conform.js';
import { Client } from '../../src/client/client.js';
import { spawnServer, type SpawnedServer } from '../../src/target/spawn.js';
import { BEANLAB_BIN } from '../helpers/beanlab-cli.js';

const SERVE_WITH_BINLOG = `${process.execPath} ${BEANLAB_BIN} serve --binlog {binlog} --port {port}`;
const EXIT_TIMEOUT_MS = 10_000;

const dirs: string[] = [];
const servers: SpawnedServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'beanlab-binlog-e2e-'));
  dirs.push(dir);
  return dir;
}

async function serve(binlogDir: string): Promise<SpawnedServer> {
  const server = await spawnServer(SERVE_WITH_BINLOG, { binlogDir, startTimeoutMs: 15_000 });
  servers.push(server);
  return server;
}

/** Resolves once `pid` is gone (the spawner reaps its children), or rejects after timeoutMs. */
async function waitGone(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    if (Date.now() > deadline) throw new Error(`process ${pid} still there after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('beanlab serve --binlog: the persistence cases', () => {
  it('passes all seven, restarts included', { timeout: 120_000 }, async () => {
    let text = '';
    const code = await runConform(
      { profile: '1.12', concurrency: 2, quick: true, spawn: SERVE_WITH_BINLOG, only: 'persistence/', replayDir: `${tmpdir()}/beanlab-persistence-embedded-replays` },
      (t) => (text += t),
    );
    expect(code, text).toBe(0);
    expect(text).toContain('7 checks: 7 passed, 0 failed, 0 skipped');
  });
});

describe('beanlab serve --binlog: crashes and a shared directory', () => {
  it('keeps a job it answered INSERTED for even when SIGKILLed right after', { timeout: 60_000 }, async () => {
    const dir = freshDir();
    const first = await serve(dir);
    const client = await Client.connect({ port: first.port as number, timeoutMs: 5000 });
    await client.use('crash');
    const id = await client.put('survivor', { pri: 3 });
    await client.close();
    process.kill(first.pid, 'SIGKILL');
    await waitGone(first.pid, EXIT_TIMEOUT_MS);

    // The dead server's lock file is still there; the new one takes it over.
    const second = await serve(dir);
    const after = await Client.connect({ port: second.port as number, timeoutMs: 5000 });
    try {
      expect(new TextDecoder().decode((await after.peek(id))?.body)).toBe('survivor');
      expect(Object.fromEntries((await after.statsJob(id)) ?? [])).toMatchObject({ tube: 'crash', state: 'ready', pri: '3' });
    } finally {
      await after.close();
    }
  });

  it('refuses a second server on a directory in use: exit status 2 and one line', { timeout: 60_000 }, async () => {
    const dir = freshDir();
    const first = await serve(dir);
    const second = spawn(process.execPath, [BEANLAB_BIN, 'serve', '--binlog', dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    second.stdout.on('data', (chunk: Buffer) => (output += chunk));
    second.stderr.on('data', (chunk: Buffer) => (output += chunk));
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        second.kill('SIGKILL');
        reject(new Error(`second server still running after ${EXIT_TIMEOUT_MS} ms: ${output}`));
      }, EXIT_TIMEOUT_MS);
      second.once('exit', (status) => {
        clearTimeout(timer);
        resolve(status);
      });
    });
    expect(code).toBe(2);
    expect(output.trim().split('\n')).toHaveLength(1);
    expect(output).toContain(`binlog directory ${dir} is in use by process ${first.pid}`);
  });
});
