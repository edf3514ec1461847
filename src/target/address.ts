// Target addresses and free loopback ports.
import net from 'node:net';

export interface Address {
  host: string;
  port: number;
}

export const LOOPBACK = '127.0.0.1';

/**
 * Parses `host:port`, `:port` or `port` (host defaults to 127.0.0.1). An IPv6 host goes in
 * brackets: `[::1]:11300`. Throws an Error with a one-line message on bad input.
 */
export function parseTarget(text: string): Address {
  const m = /^(?:(\[[^\]]+\]|[^:]*):)?(\d+)$/.exec(text.trim());
  if (!m) throw new Error(`bad target "${text}" (want HOST:PORT)`);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new Error(`bad port in target "${text}" (1..65535)`);
  const host = m[1] ? m[1].replace(/^\[(.*)\]$/, '$1') : LOOPBACK;
  return { host, port };
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

/** Resolves true once a TCP connection to the address succeeds within `timeoutMs`. */
export function canConnect(address: Address, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.createConnection(address);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
