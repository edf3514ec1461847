// Servers started as child processes: any command with a {port} (or {socket}) placeholder, or beanstalkd.
// Each is stopped by its own PID; `exec` makes the shell replace itself with the server, so
// that PID is the server's.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readdirSync, readFileSync, readlinkSync, readSync, rmSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { canConnect, formatAddress, freePort, freeSocketPath, LOOPBACK, type Address, type TcpAddress } from './address.js';
import { shellQuote } from './shell.js';

/** How and when a server ended on its own (not stopped by beanlab). */
export interface ServerExit {
  /** `on SIGUSR1`, `with status 3`. */
  how: string;
  /** performance.now() when the exit was seen. */
  atMs: number;
}

export type SpawnedServer = Address & {
  pid: number;
  /** SIGTERM, then SIGKILL if it has not exited after stopTimeoutMs. */
  stop(): Promise<void>;
  /**
   * How the server ended if it did so on its own; waits a moment for one that is dying (a dead
   * process refuses connections before its exit is reported). Undefined while it runs or after stop().
   */
  exit(): Promise<ServerExit | undefined>;
  /** What the server wrote to stderr so far (capped). */
  stderr(): string;
};

export interface SpawnOptions {
  /** Default: a free loopback port. */
  port?: number;
  /** For a {socket} command. Default: a fresh path in the temporary directory, removed after stop. */
  socketPath?: string;
  /** What a {binlog} placeholder stands for: the server's binlog directory (required with one). */
  binlogDir?: string;
  /** What a {max_job_size} placeholder stands for (beanstalkd -z); default 65535, beanstalkd's own default. */
  maxJobSize?: number;
  /** How long to wait for the server to accept connections on its port or socket. */
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
}

/** Stands for the largest job body the server must accept: `beanstalkd -z {max_job_size}`. */
export const MAX_JOB_SIZE_PLACEHOLDER = '{max_job_size}';
/** beanstalkd's -z default (semantics a.1). */
const DEFAULT_MAX_JOB_SIZE = 65535;
const STDERR_CAP_BYTES = 16 * 1024;
const POLL_INTERVAL_MS = 25;
/**
 * A server that starts answers at once; this only bounds one that never does. It is generous
 * because `beanlab serve` itself may first bundle its sources (a fresh checkout) on a busy machine.
 */
const DEFAULT_START_TIMEOUT_MS = 15_000;

/**
 * Servers started here and not yet exited. When this process exits (process.exit, the end of
 * the event loop, or SIGTERM / SIGHUP, which would otherwise end it without an 'exit' event)
 * they are killed, by their own PIDs, so no server outlives the run that started it. They run in
 * process groups of their own, so a terminal's signals reach only beanlab: SIGINT is left to the
 * commands, which write partial results and exit (and so kill these).
 */
const running = new Set<ChildProcess>();
let exitHooksInstalled = false;

/** Socket paths beanlab made up for servers still running: removed with them at exit (beanstalkd leaves its file). */
const ownSocketPaths = new Set<string>();

function killRunning(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
  for (const path of ownSocketPaths) rmSync(path, { force: true });
  ownSocketPaths.clear();
}

function track(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.once('exit', killRunning);
  for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killRunning();
      // With this one-shot listener gone and no other, the signal now ends the process as usual.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

/** Another process already answers on the free port picked for a server (it was taken between probe and bind). */
class PortTakenError extends Error {
  override name = 'PortTakenError';
}

/** How often a server start is tried again on a new port when another process took the first one. */
const PORT_TAKEN_RETRIES = 3;

/**
 * Starts `commandTemplate` with `{port}` replaced by a free loopback port, or `{socket}` by a
 * UNIX-socket path (e.g. `beanstalkd -l unix:{socket}`), and waits until it accepts connections.
 * A free port can be taken by another process before the server binds it, and then a connection
 * succeeds to the wrong server: the readiness check looks up who listens (whoListens) and
 * starts again on a new port when it is someone else.
 */
export async function spawnServer(commandTemplate: string, opts: SpawnOptions = {}): Promise<SpawnedServer> {
  const usesPort = commandTemplate.includes('{port}');
  const usesSocket = commandTemplate.includes('{socket}');
  if (usesPort === usesSocket) {
    throw new Error(`spawn command needs a {port} or a {socket} placeholder (one of them): "${commandTemplate}"`);
  }
  if (commandTemplate.includes('{binlog}') && opts.binlogDir === undefined) {
    throw new Error(`spawn command has a {binlog} placeholder but no binlog directory was given: "${commandTemplate}"`);
  }
  if (usesSocket) return startOnce(commandTemplate, opts, { path: opts.socketPath ?? freeSocketPath() }, opts.socketPath === undefined);
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(commandTemplate, opts, { host: LOOPBACK, port: opts.port ?? (await freePort()) }, false);
    } catch (error) {
      if (!(error instanceof PortTakenError) || opts.port !== undefined || attempt >= PORT_TAKEN_RETRIES) throw error;
    }
  }
}

async function startOnce(commandTemplate: string, opts: SpawnOptions, address: Address, ownSocket: boolean): Promise<SpawnedServer> {
  // Paths are quoted for the shell (a TMPDIR may hold spaces); `unix:'/x y.sock'` is one word.
  const placed = address.path !== undefined ? commandTemplate.replaceAll('{socket}', shellQuote(address.path)) : commandTemplate.replaceAll('{port}', String(address.port));
  const withBinlog = opts.binlogDir !== undefined ? placed.replaceAll('{binlog}', shellQuote(opts.binlogDir)) : placed;
  const command = withBinlog.replaceAll(MAX_JOB_SIZE_PLACEHOLDER, String(opts.maxJobSize ?? DEFAULT_MAX_JOB_SIZE));
  // A process group of its own: the SIGINT a terminal sends to beanlab's group on Ctrl-C must not
  // end the server under the checks still running; beanlab reports, then stops it by its PID.
  const child = spawn('/bin/sh', ['-c', `exec ${command}`], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  track(child);
  if (ownSocket) ownSocketPaths.add(address.path!);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    if (stderr.length < STDERR_CAP_BYTES) stderr += chunk.toString('utf8');
  });
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `exit status ${code}`));
    child.once('error', (error) => resolve(error.message));
  });
  let exitStatus: string | undefined;
  void exited.then((status) => (exitStatus = status));
  let ownExit: ServerExit | undefined;
  let stopped = false;
  child.once('exit', (code, signal) => (ownExit = { how: signal ? `on ${signal}` : `with status ${code}`, atMs: performance.now() }));

  const server: SpawnedServer = {
    ...address,
    pid: child.pid ?? -1,
    stop: async () => {
      stopped = true;
      await stopChild(child, exited, opts.stopTimeoutMs ?? 2000);
      // beanstalkd leaves its socket file behind; a path beanlab made up is beanlab's to remove.
      if (ownSocket) removeOwnSocket(address.path!);
    },
    stderr: () => stderr,
    exit: async () => {
      if (stopped) return undefined;
      if (ownExit === undefined && child.pid !== undefined && isDead(child.pid)) {
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, EXIT_REPORT_WAIT_MS).unref())]);
      }
      return stopped ? undefined : ownExit;
    },
  };
  const startTimeoutMs = opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    if (exitStatus !== undefined) {
      if (ownSocket) removeOwnSocket(address.path!);
      const message = `"${command}" ended (${exitStatus}) before accepting connections${stderrTail(stderr)}`;
      // Another process bound the free port first, and the server said so (strerror(EADDRINUSE)).
      if (address.path === undefined && /address already in use/i.test(stderr)) throw new PortTakenError(message);
      throw new Error(message);
    }
    if (await canConnect(address, 200)) {
      // A socket path is ours alone; a port may have been taken by someone else in the meantime.
      const listener = address.path !== undefined ? 'ours' : whoListens(address.port, server.pid);
      if (listener === 'ours') return server;
      if (listener === 'foreign') {
        await server.stop();
        throw new PortTakenError(`port ${address.port} is taken by another process; "${command}" cannot serve on it`);
      }
      // 'nobody': the connection was not to a listener at all. A connect to a free port from an
      // ephemeral port that happens to be the same one connects to itself (TCP simultaneous open),
      // and then holds the port our server wants; keep waiting for the server (or its exit).
    }
    await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
  }
  await server.stop();
  throw new Error(
    `"${command}" (pid ${server.pid}, now stopped) did not accept connections on ${formatAddress(address)} within ${startTimeoutMs} ms${stderrTail(stderr)}`,
  );
}

/**
 * Who listens on the port, from Linux's /proc (the listening socket's inode, then which process
 * holds it): `ours` when `pid` or one of its descendants, `foreign` when another process,
 * `nobody` when no socket listens there. Asking the server itself (`stats` pid) would count a
 * command on a server that must look fresh. `ours` when /proc cannot tell (another OS, no
 * permission): the check only guards against a race, it is not required.
 */
export function whoListens(port: number, pid: number): 'ours' | 'foreign' | 'nobody' {
  const inodes = new Set<string>();
  let readAny = false;
  // IPv4 first: a server on 127.0.0.1 is found there, and IPv6's table need not be read at all.
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const found = listeningInodes(table, port);
    if (found === undefined) continue;
    readAny = true;
    found.forEach((inode) => inodes.add(inode));
    // Fast path: the server is the process we started (`exec` makes the shell become it).
    if (holdsSocket(pid, inodes)) return 'ours';
  }
  if (!readAny) return 'ours';
  if (inodes.size === 0) return 'nobody';
  let owner: number | undefined;
  try {
    owner = readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number)
      .find((candidate) => holdsSocket(candidate, inodes));
  } catch {
    return 'ours';
  }
  return owner === undefined || descendsFrom(owner, pid) ? 'ours' : 'foreign';
}

/**
 * Inodes of the sockets listening on the port in one /proc/net/tcp* table; undefined if it
 * cannot be read. Only the head of the table is read: Linux lists the listening sockets first
 * (tcp_seq_start walks the listening hash, then the established one), and a busy machine holds
 * thousands of TIME_WAIT entries after them. Reading the whole of both tables (1 MB and more)
 * on every server start blocked the event loop for hundreds of milliseconds at a time, which
 * made timed checks late (worker/release/delayed-job-becomes-ready on a busy machine).
 */
export function listeningInodes(table: string, port: number): Set<string> | undefined {
  const rows = listeningRows(table);
  if (rows === undefined) return undefined;
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  // local_address is ADDR:PORT in hex; field 9 is the inode.
  return new Set(rows.filter((fields) => fields[1].endsWith(`:${hexPort}`)).map((fields) => fields[9]));
}

/** Small reads: the kernel fills each one as far as it goes, and the listening rows come first. */
const TABLE_CHUNK_BYTES = 4096;

/** The LISTEN (state 0A) rows at the head of a /proc/net/tcp* table, split into fields; undefined if unreadable. */
function listeningRows(table: string): string[][] | undefined {
  let fd: number;
  try {
    fd = openSync(table, 'r');
  } catch {
    return undefined;
  }
  try {
    const rows: string[][] = [];
    const chunk = Buffer.alloc(TABLE_CHUNK_BYTES);
    let pending = '';
    let header = true;
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) return rows;
      const lines = (pending + chunk.toString('latin1', 0, n)).split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        if (header) {
          header = false;
          continue;
        }
        const fields = line.trim().split(/\s+/);
        if (fields.length <= 9) continue;
        if (fields[3] !== '0A') return rows;
        rows.push(fields);
      }
    }
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

function holdsSocket(pid: number, inodes: Set<string>): boolean {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  for (const fd of fds) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (target.startsWith('socket:[') && inodes.has(target.slice(8, -1))) return true;
    } catch {
      // The descriptor closed meanwhile.
    }
  }
  return false;
}

/** Whether `pid` is `ancestor` or one of its descendants (Linux /proc); true when /proc cannot tell. */
function descendsFrom(pid: number, ancestor: number): boolean {
  for (let current = pid, depth = 0; depth < 32; depth++) {
    if (current === ancestor) return true;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${current}/stat`, 'utf8');
    } catch {
      return true;
    }
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ')'.
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!Number.isInteger(parent) || parent <= 1) return false;
    current = parent;
  }
  return false;
}

function removeOwnSocket(path: string): void {
  ownSocketPaths.delete(path);
  rmSync(path, { force: true });
}

/** A process that has died but whose exit Node has not reported yet is a zombie (Linux /proc), or gone. */
function isDead(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return process.platform === 'linux';
  }
}

/** How long exit() waits for Node to report the exit of a process that has died. */
const EXIT_REPORT_WAIT_MS = 2000;

async function stopChild(child: ChildProcess, exited: Promise<string>, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timedOut = Symbol('timeout');
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([exited, new Promise((r) => (timer = setTimeout(() => r(timedOut), timeoutMs)))]);
  clearTimeout(timer);
  if (outcome === timedOut) {
    child.kill('SIGKILL');
    await exited;
  }
}

function stderrTail(stderr: string): string {
  const text = stderr.trim();
  return text ? `: ${text.split('\n').slice(-5).join(' | ')}` : '';
}

/** The beanstalkd binary: $BEANSTALKD, else the first `beanstalkd` on PATH; undefined if none. */
export function findBeanstalkd(): string | undefined {
  const candidates = process.env.BEANSTALKD
    ? [process.env.BEANSTALKD]
    : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, 'beanstalkd'));
  return candidates.find((path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export interface BeanstalkdOptions extends SpawnOptions {
  maxJobSize?: number;
  extraArgs?: string[];
  binary?: string;
}

/** How often to retry when another process grabbed the free port between probe and bind. */
const PORT_RACE_RETRIES = 3;

/** Starts beanstalkd on a free loopback port (listening on 127.0.0.1 only). */
export async function spawnBeanstalkd(opts: BeanstalkdOptions = {}): Promise<SpawnedServer & TcpAddress> {
  const binary = opts.binary ?? findBeanstalkd();
  if (!binary) throw new Error('beanstalkd not found (set BEANSTALKD or put it on PATH)');
  const args = ['-l', LOOPBACK, '-p', '{port}'];
  if (opts.maxJobSize !== undefined) args.push('-z', String(opts.maxJobSize));
  args.push(...(opts.extraArgs ?? []));
  const command = [binary, ...args].map(shellQuote).join(' ');
  for (let attempt = 1; ; attempt++) {
    try {
      return (await spawnServer(command, opts)) as SpawnedServer & TcpAddress;
    } catch (error) {
      if (attempt >= PORT_RACE_RETRIES || opts.port !== undefined) throw error;
    }
  }
}
