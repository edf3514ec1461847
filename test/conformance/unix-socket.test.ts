// conform over UNIX-domain sockets (testserv.c peek_ok_unix and unix_auto_removal): the corpus
// runs over the socket of a {socket} command or a unix:PATH target, and a {socket} command gets
// the stale-socket check, which passes on beanstalkd 1.12 and on `beanlab serve --unix`, and
// fails on a server that binds over a stale file without removing it.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runConform } from '../../src/cli/conform.js';
import { STALE_SOCKET_CHECK_ID } from '../../src/conformance/unix-socket.js';
import { spawnServer } from '../../src/target/spawn.js';
import { describeWithBeanstalkd } from '../helpers/beanstalkd.js';
import { BEANLAB_BIN } from '../helpers/beanlab-cli.js';

const serveUnix = `${process.execPath} ${BEANLAB_BIN} serve --unix {socket}`;
const dir = mkdtempSync(join(tmpdir(), 'beanlab-unix-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function conform(options: Partial<Parameters<typeof runConform>[0]>): Promise<{ code: number; text: string }> {
  let text = '';
  const code = await runConform({ profile: '1.12', concurrency: 4, quick: true, verbose: true, replayDir: join(dir, 'replays'), ...options }, (t) => (text += t));
  return { code, text };
}

describe('conform over a UNIX-domain socket', () => {
  it('runs the peek cases (peek_ok among them) against `beanlab serve --unix {socket}`', { timeout: 60_000 }, async () => {
    const { code, text } = await conform({ spawn: serveUnix, only: 'peek/' });
    expect(code, text).toBe(0);
    expect(text).toContain('13 checks: 13 passed, 0 failed, 0 skipped');
  });

  it('passes the stale-socket check on `beanlab serve --unix {socket}`', { timeout: 60_000 }, async () => {
    const { code, text } = await conform({ spawn: serveUnix, only: STALE_SOCKET_CHECK_ID });
    expect(code, text).toBe(0);
    expect(text).toMatch(/^connections\/unix-socket\s+1\s+0\s+0$/m);
  });

  it('fails the stale-socket check on a server that binds over the stale file without removing it', { timeout: 60_000 }, async () => {
    // Answers like beanstalkd's list-tubes, but its bind fails with EADDRINUSE once a file is there.
    const script = join(dir, 'naive-server.cjs');
    writeFileSync(
      script,
      "require('net').createServer((s) => s.on('data', () => s.write('OK 14\\r\\n---\\n- default\\n\\r\\n'))).listen(process.argv[2]);\n",
    );
    const { code, text } = await conform({ spawn: `${process.execPath} ${script} {socket}`, only: STALE_SOCKET_CHECK_ID });
    expect(code).toBe(1);
    expect(text).toContain(`FAIL ${STALE_SOCKET_CHECK_ID}`);
    expect(text).toMatch(/expected: the second server to start on the stale socket file/);
  });

  it('runs against a unix:PATH target that is already running, and leaves no socket file behind', { timeout: 60_000 }, async () => {
    const server = await spawnServer(serveUnix, { startTimeoutMs: 30_000 });
    const path = server.path!;
    try {
      const { code, text } = await conform({ target: `unix:${path}`, only: 'peek/' });
      expect(code, text).toBe(0);
      expect(text).toContain(`conformance: unix:${path}, profile 1.12`);
    } finally {
      await server.stop();
    }
    expect(existsSync(path)).toBe(false);
  });
});

describeWithBeanstalkd('conform over a UNIX-domain socket: beanstalkd 1.12', (binary) => {
  it('passes the peek cases and the stale-socket check with -l unix:{socket}', { timeout: 60_000 }, async () => {
    const spawn = `${binary} -l unix:{socket}`;
    const peeks = await conform({ spawn, only: 'peek/' });
    expect(peeks.code, peeks.text).toBe(0);
    const stale = await conform({ spawn, only: STALE_SOCKET_CHECK_ID });
    expect(stale.code, stale.text).toBe(0);
    expect(stale.text).toMatch(/^connections\/unix-socket\s+1\s+0\s+0$/m);
  });

  it('runs the stale-socket check and the persistence cases with {socket} and {binlog} together', { timeout: 60_000 }, async () => {
    const both = await conform({ spawn: `${binary} -b {binlog} -l unix:{socket}`, only: 'connections/unix-socket' });
    expect(both.code, both.text).toBe(0);
    expect(both.text).toContain('1 checks: 1 passed, 0 failed, 0 skipped');
    const persistence = await conform({ spawn: `${binary} -b {binlog} -l unix:{socket}`, only: 'persistence/' });
    expect(persistence.code, persistence.text).toBe(0);
    expect(persistence.text).toContain('7 checks: 7 passed, 0 failed, 0 skipped');
  });
});
