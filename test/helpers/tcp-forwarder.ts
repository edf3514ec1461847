// A plain TCP forwarder on a loopback port, as a container's published port or a TCP proxy puts
// between a client and a server: every connection accepted is a new connection to the target,
// bytes are copied both ways in order, and a close on one side closes the other. It can delay
// what reaches the server (bytes and closes alike, order kept), so that commands and closes of
// connections a client has already finished with arrive late, as through a busy proxy.
import net from 'node:net';
import { connectOptions, LOOPBACK, type Address, type TcpAddress } from '../../src/target/address.js';

export interface ForwarderOptions {
  /**
   * Added to every chunk and close going to the server (order kept within a connection), or a
   * delay per connection (numbered from 0 in the order accepted): bytes sent later on a faster
   * connection then reach the server first, as across CPUs on a busy machine. Default 0.
   */
  toServerDelayMs?: number | ((connection: number) => number);
  /** Added on top of that to a client's close, before the server sees it. Default 0. */
  closeDelayMs?: number;
}

export interface Forwarder extends TcpAddress {
  /** Connections open towards the server right now. */
  openUpstream(): number;
  close(): Promise<void>;
}

export async function startForwarder(target: Address, opts: ForwarderOptions = {}): Promise<Forwarder> {
  const delayOf = typeof opts.toServerDelayMs === 'function' ? opts.toServerDelayMs : () => (opts.toServerDelayMs as number | undefined) ?? 0;
  const closeDelayMs = opts.closeDelayMs ?? 0;
  let accepted = 0;
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  let upstreamOpen = 0;
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    const delayMs = delayOf(accepted++);
    const upstream = net.createConnection({ ...connectOptions(target), allowHalfOpen: true });
    const pair = { client, upstream };
    pairs.add(pair);
    upstreamOpen++;
    let upstreamClosed = false;
    upstream.once('close', () => {
      if (!upstreamClosed) upstreamOpen--;
      upstreamClosed = true;
      pairs.delete(pair);
      client.destroy();
    });
    // Later than `delayMs` for a close; the same delay keeps chunks in order (Node's timers of
    // one duration fire in the order they were set).
    const toServer = (action: () => void, extraMs = 0): void => {
      if (delayMs + extraMs === 0) action();
      else setTimeout(action, delayMs + extraMs);
    };
    client.on('data', (chunk: Buffer) => toServer(() => upstreamClosed || upstream.write(chunk)));
    client.on('end', () => toServer(() => upstreamClosed || upstream.end(), closeDelayMs));
    client.on('error', () => toServer(() => upstream.destroy(), closeDelayMs));
    client.on('close', () => toServer(() => upstream.destroy(), closeDelayMs));
    upstream.on('data', (chunk: Buffer) => client.writable && client.write(chunk));
    upstream.on('end', () => client.end());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, resolve);
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    host: LOOPBACK,
    port,
    openUpstream: () => upstreamOpen,
    close: async () => {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
