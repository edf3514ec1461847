import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nextEvent } from '../../src/target/connection.js';
import { freePort } from '../../src/target/address.js';
import { listeningInodes, spawnBeanstalkd, spawnServer, whoListens } from '../../src/target/spawn.js';
import { TcpConnection } from '../../src/target/tcp-connection.js';
import { describeWithBeanstalkd } from '../helpers/beanstalkd.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('spawnServer', () => {
  it('needs a {port} or a {socket} placeholder, not both', async () => {
    await expect(spawnServer('beanstalkd -p 11300')).rejects.toThrow(/needs a \{port\} or a \{socket\} placeholder/);
    await expect(spawnServer('x -p {port} -l unix:{socket}')).rejects.toThrow(/one of them/);
  });

  it('starts a {socket} command on a fresh UNIX-socket path, and removes the file after stop', async () => {
    const server = await spawnServer(`${process.execPath} -e "require('net').createServer((s) => s.end()).listen(process.argv[1])" {socket}`);
    try {
      expect(server.path).toMatch(/beanlab-\d+-[0-9a-f]{8}\.sock$/);
      expect(existsSync(server.path!)).toBe(true);
    } finally {
      await server.stop();
    }
    // Killed by SIGTERM, node leaves its socket file; the path was beanlab's, so beanlab removes it.
    expect(existsSync(server.path!)).toBe(false);
  });

  it('reports the exit status and stderr of a server that dies at start', async () => {
    await expect(spawnServer(`sh -c 'echo no such option >&2; exit 5' {port}`)).rejects.toThrow(
      /ended \(exit status 5\) before accepting connections: no such option/,
    );
  });

  it('does not take another process answering on its port for the server it started', async () => {
    // A port taken between probe and bind: someone else's server (this test's) listens there.
    const foreign = net.createServer((socket) => socket.end());
    await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
    const port = (foreign.address() as net.AddressInfo).port;
    try {
      const error: Error = await spawnServer('sleep 30 {port}', { port }).then(() => new Error('resolved'), (e: Error) => e);
      expect(error.message).toContain(`port ${port} is taken by another process`);
    } finally {
      await new Promise((resolve) => foreign.close(resolve));
    }
  });

  it('reads only the listening rows at the head of a /proc/net/tcp table, not the TIME_WAIT rows after them', () => {
    // Linux lists listening sockets first; a busy machine has thousands of other rows after them.
    const dir = mkdtempSync(join(tmpdir(), 'beanlab-proc-'));
    const row = (i: number, port: number, state: string, inode: number) =>
      `${String(i).padStart(4)}: 0100007F:${port.toString(16).toUpperCase().padStart(4, '0')} 00000000:0000 ${state} 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 100 0 0 10 0`;
    const lines = ['  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode'];
    lines.push(row(0, 11300, '0A', 501), row(1, 8080, '0A', 502));
    // After the listening rows: a TIME_WAIT row, then (never in a real table) a LISTEN row that
    // must not be reached, since it would mean reading the whole table.
    for (let i = 0; i < 5000; i++) lines.push(row(2 + i, 40000 + (i % 20000), '06', 0));
    lines.push(row(6000, 11300, '0A', 999));
    const table = join(dir, 'tcp');
    writeFileSync(table, lines.join('\n') + '\n');
    try {
      expect(listeningInodes(table, 11300)).toEqual(new Set(['501']));
      expect(listeningInodes(table, 8080)).toEqual(new Set(['502']));
      expect(listeningInodes(join(dir, 'missing'), 11300)).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('tells who listens on a port: the server started, another process, or nobody', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      expect(whoListens(port, process.pid)).toBe('ours');
      // Seen from a process this one does not descend from (init), the listener is foreign.
      expect(whoListens(port, 1)).toBe('foreign');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    // A connection that succeeded without a listener (a self-connect from the same ephemeral
    // port) is no server: readiness must not be taken from it.
    expect(whoListens(await freePort(), process.pid)).toBe('nobody');
  });

  it('gives up after startTimeoutMs on a server that never listens, and stops it', async () => {
    const error: Error = await spawnServer('sleep 30 {port}', { startTimeoutMs: 300 }).then(
      () => new Error('resolved'),
      (e: Error) => e,
    );
    expect(error.message).toMatch(/\(pid \d+, now stopped\) did not accept connections on 127\.0\.0\.1:\d+ within 300 ms/);
    const pid = Number(/pid (\d+)/.exec(error.message)![1]);
    expect(alive(pid)).toBe(false);
  });
});

describeWithBeanstalkd('spawnServer on a port another process binds first', (binary) => {
  it('starts again on a new port when the server says the address is in use', async () => {
    // The first start fails as beanstalkd does when the free port was taken before its bind.
    const dir = mkdtempSync(join(tmpdir(), 'beanlab-eaddrinuse-'));
    const flag = join(dir, 'tried');
    const command =
      `sh -c 'if [ ! -e ${flag} ]; then touch ${flag}; echo "beanstalkd: net.c:104 in make_inet_socket: bind(): Address already in use" >&2; exit 111; fi; ` +
      `exec ${binary} -l 127.0.0.1 -p $0' {port}`;
    try {
      const server = await spawnServer(command);
      expect(existsSync(flag)).toBe(true);
      await server.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeWithBeanstalkd('a spawned server and a terminal Ctrl-C', (binary) => {
  it("is in a process group of its own: the SIGINT to beanlab's group does not reach it", async () => {
    // A process that starts beanstalkd as conform does, in its own group; the SIGINT goes to that
    // whole group, as a terminal sends it. It reports whether the server is still up, then exits.
    const dir = mkdtempSync(join(tmpdir(), 'beanlab-sigint-'));
    const script = join(dir, 'start.mts');
    const spawnModule = new URL('../../src/target/spawn.ts', import.meta.url).href;
    writeFileSync(
      script,
      `import { readFileSync } from 'node:fs';
import { spawnBeanstalkd } from ${JSON.stringify(spawnModule)};
const server = await spawnBeanstalkd({ binary: ${JSON.stringify(binary)} });
const up = () => { try { return !readFileSync('/proc/' + server.pid + '/stat', 'latin1').split(') ')[1].startsWith('Z'); } catch { return false; } };
process.once('SIGINT', () => setTimeout(async () => { console.log(up() ? 'server up' : 'server gone'); await server.stop(); process.exit(130); }, 300));
console.log('ready');
setTimeout(() => process.exit(3), 20_000);
`,
    );
    const runTs = new URL('../../bin/run-ts.js', import.meta.url).pathname;
    const child = spawn(process.execPath, [runTs, script], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', () => out.includes('ready') && resolve());
        child.once('exit', () => reject(new Error(`exited early: ${out}`)));
      });
      process.kill(-child.pid!, 'SIGINT');
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      expect(out).toContain('server up');
      expect(code).toBe(130);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describeWithBeanstalkd('spawnBeanstalkd', (binary) => {
  it('starts beanstalkd on a free loopback port, talks, and stops it by PID', async () => {
    const server = await spawnBeanstalkd({ binary, maxJobSize: 10 });
    expect(server.host).toBe('127.0.0.1');
    expect(alive(server.pid)).toBe(true);
    try {
      const conn = await TcpConnection.connect(server, 1000);
      // A command split across two writes still gives one reply.
      conn.send(Buffer.from('stats-tube def'));
      conn.send(Buffer.from('ault\r\nput 0 0 10 11\r\n01234567890\r\n'));
      const stats = await nextEvent(conn, 1000);
      expect(stats?.kind === 'reply' && stats.reply.kind).toBe('OK');
      expect(await nextEvent(conn, 1000)).toMatchObject({ kind: 'reply', reply: { kind: 'JOB_TOO_BIG' } });
      // Half-close: beanstalkd reads EOF and closes its side.
      conn.halfClose();
      expect(await nextEvent(conn, 1000)).toEqual({ kind: 'closed' });
      conn.close();
    } finally {
      await server.stop();
    }
    expect(alive(server.pid)).toBe(false);
  });

  it('sees no reply within a timeout as undefined, not as a hang', async () => {
    const server = await spawnBeanstalkd({ binary });
    try {
      const conn = await TcpConnection.connect(server, 1000);
      conn.send(Buffer.from('reserve\r\n'));
      expect(await nextEvent(conn, 150)).toBeUndefined();
      conn.close();
    } finally {
      await server.stop();
    }
  });
});
