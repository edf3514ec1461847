// A check no transcript can express, because it restarts the server: testserv.c's
// unix_auto_removal. A server on a UNIX-domain socket leaves the socket file behind when it is
// killed; started again on the same path it must replace that stale file and serve, where a
// naive bind fails with EADDRINUSE. Only a --spawn command with a {socket} placeholder can be
// started twice on one path, so only such targets get this check.
import { lstatSync, rmSync } from 'node:fs';
import { freeSocketPath } from '../target/address.js';
import { spawnServer } from '../target/spawn.js';
import { replayArgs } from '../target/spec.js';
import { nextEvent } from '../target/connection.js';
import { TcpConnection } from '../target/tcp-connection.js';
import { makeBinlogDir, removeBinlogDir } from '../target/temp-dir.js';
import type { CheckResult } from './corpus-runner.js';

export const STALE_SOCKET_CHECK_ID = 'connections/unix-socket/stale-socket-replaced';
const RULE = 'a socket file left by a killed server is replaced when the server starts again on the same path (testserv.c unix_auto_removal)';
const REPLY_TIMEOUT_MS = 2000;

/** Starts the command on one path, kills it with SIGKILL, starts it again, and asks for `list-tubes`. */
export async function checkStaleSocketReplaced(command: string): Promise<CheckResult> {
  const base = { id: STALE_SOCKET_CHECK_ID, section: 'connections/unix-socket', rule: RULE, notes: [] as string[] };
  const path = freeSocketPath();
  // A command that also takes {binlog} gets one directory for both starts, as a restart would.
  const binlogDir = command.includes('{binlog}') ? makeBinlogDir() : undefined;
  const fail = (expected: string, actual: string): CheckResult => ({
    ...base,
    status: 'fail',
    expected,
    actual,
    replay: `beanlab conform --only ${STALE_SOCKET_CHECK_ID} ${replayArgs({ kind: 'spawn', command })}`,
  });
  try {
    const first = await spawnServer(command, { socketPath: path, binlogDir });
    // SIGKILL: the server gets no chance to tidy up, as after a crash.
    process.kill(first.pid, 'SIGKILL');
    await first.stop();
    if (!isSocket(path)) return { ...base, status: 'skip', expected: '', actual: 'the killed server left no socket file behind, so there was nothing stale to replace' };
    let second;
    try {
      second = await spawnServer(command, { socketPath: path, binlogDir });
    } catch (error) {
      return fail('the second server to start on the stale socket file', (error as Error).message);
    }
    try {
      const reply = await listTubes(path).catch((error: unknown) => `no connection: ${(error as Error).message}`);
      return reply.startsWith('OK ') ? { ...base, status: 'pass', expected: '', actual: '' } : fail('OK <bytes> (list-tubes)', JSON.stringify(reply));
    } finally {
      await second.stop();
    }
  } catch (error) {
    return fail('the server to start on a fresh socket path', (error as Error).message);
  } finally {
    rmSync(path, { force: true });
    if (binlogDir) removeBinlogDir(binlogDir);
  }
}

function isSocket(path: string): boolean {
  try {
    return lstatSync(path).isSocket();
  } catch {
    return false;
  }
}

/** The first line of the reply to `list-tubes`, or what came instead. */
async function listTubes(path: string): Promise<string> {
  const conn = await TcpConnection.connect({ path }, REPLY_TIMEOUT_MS);
  try {
    conn.send(Buffer.from('list-tubes\r\n'));
    const event = await nextEvent(conn, REPLY_TIMEOUT_MS);
    if (!event) return `no reply within ${REPLY_TIMEOUT_MS} ms`;
    return event.kind === 'closed' ? 'the connection was closed' : event.raw.toString('latin1').split('\r\n')[0];
  } finally {
    conn.close();
  }
}
