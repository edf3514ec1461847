// `beanlab serve` as a real subprocess, driven by a third-party client (jackd 2.2).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, UnexpectedReplyError } from '../../src/client/client.js';
import { spawnEmbeddedServer, type ServerProcess } from '../helpers/server-process.js';
import { runBeanlab } from '../helpers/beanlab-cli.js';

// jackd is CommonJS with `module.exports = JackdClient`; require() gets the class the same
// way under vitest and under plain node, where ESM interop differs.
const JackdClient: typeof import('jackd').JackdClient = createRequire(import.meta.url)('jackd');
const beanlab = (args: string[]) => runBeanlab(args, { timeoutMs: 20_000 });

describe('beanlab serve (subprocess)', () => {
  let serve: ServerProcess;
  beforeAll(async () => {
    serve = await spawnEmbeddedServer({ args: ['--profile', '1.13'] });
  });
  afterAll(async () => {
    await serve?.stop();
  });

  it('serves jackd: put, reserve and delete one job', async () => {
    expect(serve.host).toBe('127.0.0.1');
    expect(serve.port).toBeGreaterThan(0);
    const jackd = new JackdClient();
    await jackd.connect({ host: serve.host, port: serve.port });
    try {
      // jackd JSON-encodes objects (Buffers included); a string goes over as its UTF-8 bytes.
      const id = await jackd.put('hello from jackd', { priority: 3, ttr: 30 });
      expect(id).toMatch(/^\d+$/);
      const job = await jackd.reserve();
      expect(job.id).toBe(id);
      expect(Buffer.from(job.payload).toString('utf8')).toBe('hello from jackd');
      await jackd.delete(id);
      await expect(jackd.delete(id)).rejects.toThrow(/NOT_FOUND/);
    } finally {
      await jackd.disconnect();
    }
  });

  it('SIGUSR1 enters drain mode, as in beanstalkd', async () => {
    const other = await spawnEmbeddedServer();
    const client = await Client.connect({ port: other.port });
    try {
      expect(await client.put('before')).toBe(1);
      process.kill(other.pid, 'SIGUSR1');
      // The signal is asynchronous: poll until the server reports draining, bounded.
      for (let i = 0; i < 100 && (await client.stats()).get('draining') !== 'true'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const error = await client.put('after').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnexpectedReplyError);
      expect((error as UnexpectedReplyError).reply.kind).toBe('DRAINING');
    } finally {
      await client.close();
      await other.stop();
    }
  });

  it('exits 0 on SIGTERM', async () => {
    const other = await spawnEmbeddedServer();
    expect(await other.stop()).toBe(0);
  });
});

describe('beanlab serve arguments', () => {
  it.each([
    [['--port', '70000'], /--port must be an integer from 0 to 65535, got '70000'/],
    [['--port', 'abc'], /--port must be an integer/],
    [['--max-job-size', '-1'], /--max-job-size must be an integer/],
    [['--profile', '1.11'], /--profile must be one of 1\.12, 1\.13, got '1\.11'/],
  ])('serve %j exits 2 with a one-line error', async (args, message) => {
    const { code, stdout, stderr } = await beanlab(['serve', ...args]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  it('--help describes the options', async () => {
    const { code, stdout } = await beanlab(['serve', '--help']);
    expect(code).toBe(0);
    for (const option of ['--host', '--port', '--unix', '--max-job-size', '--profile']) expect(stdout).toContain(option);
  });
});

describe('beanlab serve --unix', () => {
  const dir = mkdtempSync(join(tmpdir(), 'beanlab-serve-unix-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a path where another kind of file exists, as beanstalkd does, and leaves it alone', async () => {
    const path = join(dir, 'regular.sock');
    writeFileSync(path, 'keep me');
    const { code, stderr } = await beanlab(['serve', '--unix', path]);
    expect(code).toBe(2);
    expect(stderr.trim()).toBe(`beanlab: cannot listen on unix:${path}: another file already exists at ${path}`);
    expect(readFileSync(path, 'utf8')).toBe('keep me');
  });

  it('refuses a socket a live server answers on, rather than taking it over', async () => {
    const path = join(dir, 'live.sock');
    const live = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => live.listen(path, resolve));
    try {
      const { code, stderr } = await beanlab(['serve', '--unix', path]);
      expect(code).toBe(2);
      expect(stderr.trim()).toBe(`beanlab: cannot listen on unix:${path}: a server is listening on ${path}`);
    } finally {
      await new Promise((resolve) => live.close(resolve));
    }
  });
});

describe('beanlab serve --binlog with a damaged record', () => {
  const dir = mkdtempSync(join(tmpdir(), 'beanlab-serve-binlog-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses to start, naming the record; --binlog-skip-corrupt starts and says how many were skipped', { timeout: 60_000 }, async () => {
    const first = await spawnEmbeddedServer({ args: ['--binlog', dir] });
    const client = await Client.connect({ port: first.port });
    for (const body of ['one', 'two', 'three']) await client.put(body);
    await client.close();
    expect(await first.stop()).toBe(0);
    const [segment] = readdirSync(dir).filter((name) => name.endsWith('.bl'));
    const bytes = readFileSync(join(dir, segment));
    bytes[bytes.indexOf('two')] ^= 0x20; // 't' -> 'T' inside job 2's body
    writeFileSync(join(dir, segment), bytes);

    const refused = await beanlab(['serve', '--port', '0', '--binlog', dir]);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toMatch(new RegExp(`^beanlab: ${segment.replace('.', '\\.')}: record 2 \\(byte \\d+\\) is corrupt \\(checksum mismatch\\); start with --binlog-skip-corrupt`));
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);

    const skipping = await spawnEmbeddedServer({ args: ['--binlog', dir, '--binlog-skip-corrupt'] });
    try {
      expect(skipping.stderr()).toMatch(/^beanlab serve: warning: skipped 1 corrupt binlog record: binlog-\d+\.bl record 2 /);
      const after = await Client.connect({ port: skipping.port });
      expect(Buffer.from((await after.peek(1))!.body).toString()).toBe('one');
      expect(await after.peek(2)).toBeNull();
      expect(Buffer.from((await after.peek(3))!.body).toString()).toBe('three');
      await after.close();
    } finally {
      await skipping.stop();
    }
  });

  it('--binlog-skip-corrupt without --binlog is a usage error', async () => {
    const { code, stderr } = await beanlab(['serve', '--binlog-skip-corrupt']);
    expect(code).toBe(2);
    expect(stderr.trim()).toBe('beanlab: --binlog-skip-corrupt needs --binlog DIR');
  });
});
