// Target addresses (TCP, or a UNIX-domain socket as beanstalkd 1.12 offers with -l unix:PATH)
// and free loopback ports.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { timeoutAfterIo } from '../client/timeout.js';

export interface TcpAddress {
  host: string;
  port: number;
  path?: undefined;
}

export interface UnixAddress {
  path: string;
  host?: undefined;
  port?: undefined;
}

export type Address = TcpAddress | UnixAddress;

export const LOOPBACK = '127.0.0.1';

/**
 * Parses `host:port`, `:port` or `port` (host defaults to 127.0.0.1), or `unix:PATH` for a
 * UNIX-domain socket. An IPv6 host goes in brackets: `[::1]:11300`. Throws an Error with a
 * one-line message on bad input.
 */
export function parseTarget(text: string): Address {
  const unix = /^unix:(.+)$/.exec(text.trim());
  if (unix) return { path: unix[1] };
  const m = /^(?:(\[[^\]]+\]|[^:]*):)?(\d+)$/.exec(text.trim());
  if (!m) throw new Error(`bad target "${text}" (want HOST:PORT or unix:PATH)`);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new Error(`bad port in target "${text}" (1..65535)`);
  const host = m[1] ? m[1].replace(/^\[(.*)\]$/, '$1') : LOOPBACK;
  return { host, port };
}

/** As a user writes it: `127.0.0.1:11300` or `unix:/run/beanstalkd.sock`. */
export function formatAddress(address: Address): string {
  return address.path !== undefined ? `unix:${address.path}` : `${address.host}:${address.port}`;
}

/** What net.connect takes for the address. */
export function connectOptions(address: Address): net.NetConnectOpts {
  return address.path !== undefined ? { path: address.path } : { host: address.host, port: address.port };
}

/** A fresh socket path in the temporary directory (short: a UNIX socket path is limited to 107 bytes). */
export function freeSocketPath(): string {
  return join(tmpdir(), `beanlab-${process.pid}-${randomBytes(4).toString('hex')}.sock`);
}

/** A TCP port that was free on 127.0.0.1 a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

/** Resolves true once a connection to the address succeeds within `timeoutMs`. */
export function canConnect(address: Address, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.createConnection(connectOptions(address));
    const done = (ok: boolean) => {
      cancelTimeout();
      socket.destroy();
      resolve(ok);
    };
    const cancelTimeout = timeoutAfterIo(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
