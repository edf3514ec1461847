// Clients that abuse a server the way a careless one would (issue 13), for the tests and for
// `npm run bench:server`, against beanstalkd and the embedded server alike: they pipeline
// without ever reading, loop reserve/release on one job, or close in the middle of a pipeline.
// Each one is bounded (a fixed amount of input, then it waits to be stopped), and each has a
// stop() that ends its sockets.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';

export interface Address {
  host?: string;
  port: number;
}

/** The resident set of a process, from /proc (Linux), in KiB. */
export function rssKiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

/** A raw socket, connected, with errors swallowed (the server may reset it, which is the point). */
export function openSocket(address: Address, timeoutMs = 5000): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: address.host ?? '127.0.0.1', port: address.port, allowHalfOpen: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect to port ${address.port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.on('error', () => {});
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}

/** Sends `text` and collects what arrives until `until` matches it (or the time runs out). */
export async function roundTrip(socket: net.Socket, text: string | Buffer, until: RegExp, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const onData = (chunk: Buffer): void => {
      received += chunk.toString('latin1');
      if (until.test(received)) finish(null);
    };
    const timer = setTimeout(() => finish(new Error(`no reply matching ${until} within ${timeoutMs} ms (got ${JSON.stringify(received.slice(0, 200))})`)), timeoutMs);
    const finish = (error: Error | null): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      if (error) reject(error);
      else resolve(received);
    };
    socket.on('data', onData);
    socket.write(text);
  });
}

export interface Hostile {
  /** Bytes the clients handed to their sockets. */
  sentBytes: number;
  stop(): void;
}

/**
 * `connections` sockets that each send `command` `count` times in one write and never read a
 * reply (issue 13: 6 x 5,461 `peek-ready` of a 60,000-byte job took beanlab to 2.25 GiB).
 */
export async function neverReadingPipeliners(
  address: Address,
  opts: { connections: number; command: string; count: number },
): Promise<Hostile> {
  const sockets = await Promise.all(Array.from({ length: opts.connections }, () => openSocket(address)));
  const input = Buffer.from(`${opts.command}\r\n`.repeat(opts.count), 'latin1');
  for (const socket of sockets) {
    socket.pause(); // never read: the replies pile up on the server's side
    socket.write(input);
  }
  return { sentBytes: input.length * sockets.length, stop: () => sockets.forEach((s) => s.destroy()) };
}

/**
 * One socket that loops `reserve-with-timeout 0` + `release <id> 0 0` on job `jobId` `count`
 * times in one write and never reads (issue 13: 257 MiB on one connection).
 */
export async function reserveReleaseLoop(address: Address, opts: { jobId: number; count: number }): Promise<Hostile> {
  const socket = await openSocket(address);
  socket.pause();
  const input = Buffer.from(`reserve-with-timeout 0\r\nrelease ${opts.jobId} 0 0\r\n`.repeat(opts.count), 'latin1');
  socket.write(input);
  return { sentBytes: input.length, stop: () => socket.destroy() };
}

/** Puts one job of `bodyBytes` bytes into `tube` and returns its id. */
export async function putJob(address: Address, opts: { bodyBytes: number; tube?: string }): Promise<number> {
  const socket = await openSocket(address);
  try {
    const use = opts.tube === undefined ? '' : `use ${opts.tube}\r\n`;
    const reply = await roundTrip(socket, Buffer.concat([Buffer.from(`${use}put 0 0 600 ${opts.bodyBytes}\r\n`), Buffer.alloc(opts.bodyBytes, 'j'), Buffer.from('\r\n')]), /INSERTED \d+\r\n/);
    return Number(/INSERTED (\d+)/.exec(reply)![1]);
  } finally {
    socket.destroy();
  }
}

export interface ProbeResult {
  /** Round-trip times in ms, in order. */
  latenciesMs: number[];
  /** A connect and its first reply, ms. */
  firstReplyMs: number;
}

/**
 * A well-behaved client beside the hostile ones: connects, then does `list-tube-used` round
 * trips one after the other for `durationMs` (at most `maxRoundTrips`).
 */
export async function probeLatency(address: Address, opts: { durationMs: number; maxRoundTrips?: number; timeoutMs?: number }): Promise<ProbeResult> {
  const startedMs = performance.now();
  const socket = await openSocket(address, opts.timeoutMs);
  try {
    await roundTrip(socket, 'list-tube-used\r\n', /USING \S+\r\n/, opts.timeoutMs);
    const firstReplyMs = performance.now() - startedMs;
    const latenciesMs: number[] = [];
    const stopAtMs = performance.now() + opts.durationMs;
    while (performance.now() < stopAtMs && latenciesMs.length < (opts.maxRoundTrips ?? 100_000)) {
      const sentMs = performance.now();
      await roundTrip(socket, 'list-tube-used\r\n', /USING \S+\r\n/, opts.timeoutMs);
      latenciesMs.push(performance.now() - sentMs);
    }
    return { latenciesMs, firstReplyMs };
  } finally {
    socket.destroy();
  }
}

/** The q-quantile (0..1) of `values`, nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** Polls `condition` every 20 ms until it holds or `timeoutMs` passes; returns whether it held. */
export async function eventually(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadlineMs = performance.now() + timeoutMs;
  for (;;) {
    if (condition()) return true;
    if (performance.now() > deadlineMs) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
