import net from 'node:net';
import os from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/client.js';
import { FLUSH_BYTES } from '../../src/server/engine.js';
import { startServer } from '../../src/server/tcp.js';

let server: Awaited<ReturnType<typeof startTcp>>;
const startTcp = () => startServer({ port: 0 });
const clients: Client[] = [];
const sockets: net.Socket[] = [];

beforeEach(async () => {
  server = await startTcp();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  for (const socket of sockets.splice(0)) socket.destroy();
  await server.close();
});

async function connect(): Promise<Client> {
  const client = await Client.connect({ port: server.port, timeoutMs: 5000 });
  clients.push(client);
  return client;
}

/** A raw loopback socket, for byte-level input the client would never send. */
async function rawSocket(): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port: server.port, allowHalfOpen: true });
  sockets.push(socket);
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return socket;
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    }),
  ]);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('embedded TCP server', () => {
  it('binds loopback and reports this process in stats', async () => {
    expect(server.host).toBe('127.0.0.1');
    const stats = await (await connect()).stats();
    expect(stats.get('pid')).toBe(String(process.pid));
    expect(stats.get('hostname')?.replace(/"/g, '')).toBe(os.hostname());
    expect(stats.get('id')?.replace(/"/g, '')).toMatch(/^[0-9a-f]{16}$/);
  });

  it('answers reserve-with-timeout 1 with TIMED_OUT after about a second (the timer follows nextDeadline)', async () => {
    const client = await connect();
    const startedMs = performance.now();
    expect(await client.reserveWithTimeout(1)).toBe('TIMED_OUT');
    const elapsedMs = performance.now() - startedMs;
    expect(elapsedMs).toBeGreaterThanOrEqual(990);
    expect(elapsedMs).toBeLessThan(1300);
  });

  it('a blocking reserve holds later pipelined commands until another connection puts a job', async () => {
    const worker = await connect();
    const producer = await connect();
    const order: string[] = [];
    const reserved = worker.reserve({ timeoutMs: 5000 }).then((job) => (order.push('reserved'), job));
    const used = worker.listTubeUsed().then((tube) => (order.push('used'), tube));
    await sleep(100);
    expect(order).toEqual([]);
    const id = await producer.put('wake up');
    const job = await within(reserved, 2000, 'the reservation');
    expect(job).toMatchObject({ id });
    expect(await used).toBe('default');
    expect(order).toEqual(['reserved', 'used']);
  });

  it('a FIN while waiting in reserve gets TIMED_OUT, then the server closes', async () => {
    const socket = await rawSocket();
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    const ended = new Promise<void>((resolve) => socket.once('end', () => resolve()));
    socket.write('reserve\r\n');
    await sleep(50);
    expect(received).toBe('');
    socket.end();
    await within(ended, 2000, 'the server to close');
    expect(received).toBe('TIMED_OUT\r\n');
  });

  it('stops reading from a client that never reads its replies', async () => {
    const socket = await rawSocket();
    socket.pause(); // never read: the replies pile up in the server
    // 20 MB of `stats` would make gigabytes of replies; the server must stop reading long
    // before that. What it does not read stays in our socket's buffer.
    const input = Buffer.from('stats\r\n'.repeat(3_000_000));
    const sentBytes = input.length;
    socket.write(input);
    await sleep(300);
    const [first] = server.connections();
    expect(first.readingPaused).toBe(true);
    expect(server.readPauseCount()).toBeGreaterThanOrEqual(1);
    // The server stopped reading well short of everything sent...
    expect(first.bytesRead).toBeLessThan(sentBytes / 2);
    // ...and holds at most one flush of replies (plus the one that crossed it) unsent.
    const stats = await (await connect()).stats();
    expect(first.unsentBytes).toBeLessThan(2 * FLUSH_BYTES);
    // It stays stopped: nothing more is read while the client does not read.
    await sleep(300);
    expect(server.connections()[0].bytesRead).toBe(first.bytesRead);
    // Other connections are served meanwhile.
    expect(stats.get('current-connections')).toBe('2');
  });

  it('garbage on one connection does not disturb another', async () => {
    const seed = Number(process.env.BEANLAB_SEED ?? Date.now() % 2 ** 31);
    console.log(`garbage test seed=${seed} (set BEANLAB_SEED to reproduce)`);
    let state = seed;
    const random = (): number => {
      // mulberry32: small, seedable, good enough for byte noise.
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const good = await connect();
    // Its own tube, so a garbage connection that happens to reserve cannot take its jobs.
    await good.use('isolated');
    const pieces = ['put 0 0 1 4294967295\r\n', 'put 1 0 1 3\r\nabcXX', '\r', '\0', 'reserve-with-timeout -1\r\n', 'kick -1\r\n', 'quit'];
    const garbageSockets = await Promise.all(Array.from({ length: 4 }, () => rawSocket()));
    for (const socket of garbageSockets) {
      const bytes: Buffer[] = [];
      for (let i = 0; i < 200; i++) {
        if (random() < 0.2) bytes.push(Buffer.from(pieces[Math.floor(random() * pieces.length)]));
        else bytes.push(Buffer.from(Array.from({ length: 1 + Math.floor(random() * 300) }, () => Math.floor(random() * 256))));
      }
      socket.write(Buffer.concat(bytes));
    }
    for (let i = 0; i < 50; i++) {
      const id = await good.put(`ok ${i}`);
      const job = await good.reserveJob(id);
      expect(job?.id).toBe(id);
      expect(await good.delete(id)).toBe(true);
    }
    garbageSockets[0].destroy();
    expect(await good.listTubeUsed()).toBe('isolated');
    // The server still accepts new connections.
    expect(await (await connect()).listTubeUsed()).toBe('default');
  });

  it('close() drops every connection and rejects their outstanding requests', async () => {
    const client = await connect();
    const pending = client.reserve({ timeoutMs: 5000 });
    await sleep(50);
    await server.close();
    await expect(within(pending, 2000, 'the rejection')).rejects.toThrow(/closed/);
    server = await startServer({ port: 0 }); // for afterEach
  });
});

describe('fault-injection seam', () => {
  it('a sink interceptor sees every reply before the socket does', async () => {
    const seen: string[] = [];
    const intercepted = await startServer({
      port: 0,
      intercept: {
        sink: (sink) => ({
          write: (conn, bytes) => {
            seen.push(Buffer.from(bytes).toString('latin1'));
            sink.write(conn, bytes);
          },
          close: (conn) => sink.close(conn),
        }),
      },
    });
    const client = await Client.connect({ port: intercepted.port });
    try {
      expect(await client.use('seam')).toBe('seam');
      expect(seen).toEqual(['USING seam\r\n']);
    } finally {
      await client.close();
      await intercepted.close();
    }
  });
});
