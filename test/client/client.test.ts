import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Client, ConnectionError, UnexpectedReplyError } from '../../src/client/client.js';
import { Pool } from '../../src/client/pool.js';
import { freePort } from '../../src/target/address.js';
import { TARGETS } from './targets.js';

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');

for (const target of TARGETS) {
  describe.skipIf(!target.available)(`Client against ${target.name}`, () => {
    let server: { port: number; stop(): Promise<void> };
    const clients: Client[] = [];
    const connect = async (): Promise<Client> => {
      const client = await Client.connect({ port: server.port, timeoutMs: 5000 });
      clients.push(client);
      return client;
    };

    beforeAll(async () => {
      server = await target.start();
    });
    afterEach(async () => {
      await Promise.all(clients.splice(0).map((client) => client.close()));
    });
    afterAll(async () => {
      await server?.stop();
    });

    it('puts, reserves and deletes a binary body', async () => {
      const client = await connect();
      await client.use('roundtrip');
      await client.watch('roundtrip');
      const body = Uint8Array.from([0, 13, 10, 255, 65]);
      const id = await client.put(body, { pri: 7, ttrSeconds: 30 });
      const job = await client.reserveWithTimeout(0);
      expect(job).not.toBe('TIMED_OUT');
      if (typeof job === 'string') throw new Error(job);
      expect(job.id).toBe(id);
      expect([...job.body]).toEqual([...body]);
      const stats = await client.statsJob(id);
      expect(stats?.get('pri')).toBe('7');
      expect(stats?.get('state')).toBe('reserved');
      expect(await client.delete(id)).toBe(true);
      expect(await client.delete(id)).toBe(false);
      expect(await client.statsJob(id)).toBeNull();
    });

    it('pipelines 5000 puts and matches every reply to its request', async () => {
      const client = await connect();
      await client.use('pipelined');
      const ids = await Promise.all(Array.from({ length: 5000 }, (_, i) => client.put(`job ${i}`)));
      for (let i = 1; i < ids.length; i++) expect(ids[i]).toBe(ids[0] + i);
      expect(client.outstanding).toBe(0);
      const tube = await client.statsTube('pipelined');
      expect(tube?.get('current-jobs-ready')).toBe('5000');
      // The bodies went out in order too: the first and last job hold what was put.
      expect(text((await client.peek(ids[0]))!.body)).toBe('job 0');
      expect(text((await client.peek(ids[4999]))!.body)).toBe('job 4999');
    });

    it('covers the tube, peek, bury, kick, touch and release helpers', async () => {
      const client = await connect();
      expect(await client.use('helpers')).toBe('helpers');
      expect(await client.listTubeUsed()).toBe('helpers');
      expect(await client.watch('helpers')).toBe(2);
      expect(await client.ignore('default')).toBe(1);
      expect(await client.ignore('helpers')).toBe('NOT_IGNORED');
      expect(await client.listTubesWatched()).toEqual(['helpers']);
      expect(await client.listTubes()).toContain('helpers');

      const a = await client.put('a', { pri: 5 });
      const b = await client.put('b', { pri: 5, delaySeconds: 100 });
      expect((await client.peekReady())?.id).toBe(a);
      expect((await client.peekDelayed())?.id).toBe(b);
      expect(await client.peekBuried()).toBeNull();

      const reserved = await client.reserveJob(a);
      expect(reserved?.id).toBe(a);
      expect(await client.touch(a)).toBe(true);
      expect(await client.bury(a, 9)).toBe(true);
      expect((await client.peekBuried())?.id).toBe(a);
      expect(await client.kick(10)).toBe(1);
      expect(await client.kickJob(b)).toBe(true);
      expect(await client.kickJob(b)).toBe(false);

      const job = await client.reserve({ timeoutMs: 2000 });
      if (typeof job === 'string') throw new Error(job);
      expect(await client.release(job.id, { pri: 1, delaySeconds: 0 })).toBe(true);
      expect(await client.release(job.id)).toBe(false);
      expect(await client.pauseTube('helpers', 0)).toBe(true);
      expect(await client.pauseTube('no-such-tube', 1)).toBe(false);
      expect((await client.stats()).get('current-connections')).toBeDefined();
      expect(await client.reserveJob(999_999)).toBeNull();
    });

    it('throws UnexpectedReplyError with the reply, and the connection stays usable', async () => {
      const client = await connect();
      const error = await client.put(new Uint8Array(65536)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnexpectedReplyError);
      expect((error as UnexpectedReplyError).reply.kind).toBe('JOB_TOO_BIG');
      expect(await client.listTubeUsed()).toBe('default');
    });

    it('send answers through its callback, in order, never inside the call, and with the error after close', async () => {
      const client = await connect();
      await client.use('callbacks');
      const answers: string[] = [];
      let inside = true;
      const sent = new Promise<void>((resolve) => {
        client.send({ kind: 'put', pri: 1, delaySeconds: 0, ttrSeconds: 5, body: Buffer.from('a') }, (error, reply) => {
          answers.push(inside ? 'inside' : `${error?.name ?? reply!.kind}`);
        });
        client.send({ kind: 'delete', id: 0 }, (error, reply) => {
          answers.push(`${error?.name ?? reply!.kind}`);
          resolve();
        });
      });
      inside = false;
      await sent;
      expect(answers).toEqual(['INSERTED', 'NOT_FOUND']);
      await client.close();
      inside = true;
      const afterClose = new Promise<string>((resolve) => {
        client.send({ kind: 'stats' }, (error) => resolve(inside ? 'inside' : `${error instanceof ConnectionError}`));
      });
      inside = false;
      expect(await afterClose).toBe('true');
    });

    it('quit waits for the server to close, and later requests reject', async () => {
      const client = await connect();
      await client.quit({ timeoutMs: 2000 });
      await expect(client.listTubeUsed()).rejects.toBeInstanceOf(ConnectionError);
    });

    it('a pool hands out its clients round robin', async () => {
      const pool = await Pool.connect({ port: server.port, size: 3 });
      try {
        const picked = [pool.next(), pool.next(), pool.next(), pool.next()];
        expect(new Set(picked.slice(0, 3)).size).toBe(3);
        expect(picked[3]).toBe(picked[0]);
        await Promise.all(pool.clients.map((client, i) => client.use(`pool-${i}`)));
        expect(await Promise.all(pool.clients.map((client) => client.listTubeUsed()))).toEqual(['pool-0', 'pool-1', 'pool-2']);
      } finally {
        await pool.close();
      }
    });
  });
}

describe('Client failure handling (fake servers)', () => {
  let fake: net.Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (fake ? fake.close(() => resolve()) : resolve()));
    fake = undefined;
  });

  /** A loopback server that reads everything and answers with `reply` to each connection. */
  async function fakeServer(onSocket: (socket: net.Socket) => void): Promise<{ port: number; sockets: net.Socket[] }> {
    const sockets: net.Socket[] = [];
    fake = net.createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => {});
      onSocket(socket);
    });
    await new Promise<void>((resolve) => fake!.listen(0, '127.0.0.1', resolve));
    return { port: (fake.address() as net.AddressInfo).port, sockets };
  }

  it('rejects every outstanding request and drops the connection when one times out', async () => {
    const { port, sockets } = await fakeServer((socket) => socket.resume());
    const client = await Client.connect({ port, timeoutMs: 5000 });
    const startedMs = Date.now();
    const first = client.request({ kind: 'stats' }, { timeoutMs: 200 }).catch((e: unknown) => e);
    const second = client.request({ kind: 'list-tubes' }).catch((e: unknown) => e);
    const error = await first;
    const elapsedMs = Date.now() - startedMs;
    expect(error).toBeInstanceOf(ConnectionError);
    expect(String(error)).toMatch(/no reply to stats within its timeout/);
    expect(elapsedMs).toBeGreaterThanOrEqual(190);
    expect(elapsedMs).toBeLessThan(2000);
    expect(await second).toBe(error);
    await expect(client.request({ kind: 'stats' })).rejects.toBe(error);
    // The server sees the connection go.
    await new Promise<void>((resolve) => (sockets[0].destroyed ? resolve() : sockets[0].once('close', () => resolve())));
  });

  it('a reply nobody asked for fails the connection', async () => {
    const { port } = await fakeServer((socket) => {
      socket.resume();
      socket.write('INSERTED 1\r\n');
    });
    const client = await Client.connect({ port });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await expect(client.request({ kind: 'stats' })).rejects.toThrow(/no request outstanding/);
  });

  it('connect fails with a clear error when nothing listens', async () => {
    const port = await freePort();
    await expect(Client.connect({ port, timeoutMs: 2000 })).rejects.toThrow(new RegExp(`127.0.0.1:${port}`));
  });
});
