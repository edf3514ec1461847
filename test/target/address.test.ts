import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { canConnect, formatAddress, freePort, freeSocketPath, parseTarget } from '../../src/target/address.js';

describe('parseTarget', () => {
  it.each([
    ['127.0.0.1:11300', { host: '127.0.0.1', port: 11300 }],
    ['localhost:1', { host: 'localhost', port: 1 }],
    [':11300', { host: '127.0.0.1', port: 11300 }],
    ['11300', { host: '127.0.0.1', port: 11300 }],
    ['[::1]:11300', { host: '::1', port: 11300 }],
    ['unix:/run/beanstalkd.sock', { path: '/run/beanstalkd.sock' }],
    ['unix:relative.sock', { path: 'relative.sock' }],
  ])('reads %s', (text, address) => {
    expect(parseTarget(text)).toEqual(address);
  });

  it('writes an address back as the user would', () => {
    expect(formatAddress({ host: '127.0.0.1', port: 11300 })).toBe('127.0.0.1:11300');
    expect(formatAddress({ path: '/tmp/b.sock' })).toBe('unix:/tmp/b.sock');
  });

  it.each(['', 'host', 'host:', 'host:0', 'host:65536', 'host:12x', '::1:11300', 'unix:'])('rejects %j', (text) => {
    expect(() => parseTarget(text)).toThrow(/target/);
  });
});

describe('freePort and canConnect', () => {
  it('gives a port that can be listened on, and sees when something listens there', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    expect(await canConnect({ host: '127.0.0.1', port }, 500)).toBe(false);
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      expect(await canConnect({ host: '127.0.0.1', port }, 500)).toBe(true);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('freeSocketPath and canConnect over a UNIX-domain socket', () => {
  it('gives a fresh path, and sees when something listens there', async () => {
    const path = freeSocketPath();
    expect(path).not.toBe(freeSocketPath());
    expect(await canConnect({ path }, 500)).toBe(false);
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(path, resolve));
    try {
      expect(await canConnect({ path }, 500)).toBe(true);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
