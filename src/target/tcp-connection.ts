// A raw connection over TCP (or a UNIX-domain socket), for the embedded server, spawned servers
// and host:port or unix:PATH targets.
import net from 'node:net';
import { timeoutAfterIo } from '../client/timeout.js';
import { connectOptions, formatAddress, type Address } from './address.js';
import { QueuedConnection } from './connection.js';

export class TcpConnection extends QueuedConnection {
  private constructor(private readonly socket: net.Socket) {
    super();
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('end', () => this.serverClosed());
    socket.on('close', () => this.serverClosed());
    // A reset (the server closed with unread input) is just a close to the transcript.
    socket.on('error', () => this.serverClosed());
  }

  static connect(address: Address, timeoutMs: number): Promise<TcpConnection> {
    const label = formatAddress(address);
    return new Promise((resolve, reject) => {
      // allowHalfOpen: after our FIN (halfClose) we keep reading the server's replies.
      const socket = net.createConnection({ ...connectOptions(address), allowHalfOpen: true });
      const cancelTimeout = timeoutAfterIo(timeoutMs, () => {
        socket.destroy();
        reject(new Error(`connect to ${label} timed out after ${timeoutMs} ms`));
      });
      socket.once('error', (error) => {
        cancelTimeout();
        reject(new Error(`cannot connect to ${label}: ${error.message}`));
      });
      socket.once('connect', () => {
        cancelTimeout();
        socket.removeAllListeners('error');
        socket.setNoDelay(true);
        resolve(new TcpConnection(socket));
      });
    });
  }

  send(bytes: Uint8Array): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(bytes);
  }

  halfClose(): void {
    this.socket.end();
  }

  close(): void {
    this.socket.destroy();
  }
}
