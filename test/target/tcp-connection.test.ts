import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/client.js';
import { TcpConnection } from '../../src/target/tcp-connection.js';

describe('timeouts on a blocked event loop', () => {
  // The server runs in another process, as a real one does: an in-process one could only answer
  // when this process's loop turns, which is what the tests block.
  let server: ChildProcess;
  let port: number;
  beforeAll(async () => {
    const script =
      "const s=require('net').createServer(c=>{c.on('error',()=>{});c.on('data',()=>c.write('USING default\\r\\n'))});" +
      "s.listen(0,'127.0.0.1',()=>console.log(s.address().port))";
    server = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    port = await new Promise<number>((resolve, reject) => {
      server.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
      server.once('exit', () => reject(new Error('the test server exited')));
    });
  });
  afterAll(() => {
    server.kill();
  });

  /** A loop busy for longer than any timeout here (a loaded machine, a long synchronous step). */
  const blockLoop = (ms: number) => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      /* busy */
    }
  };

  it('TcpConnection: a connect that completed while the loop was blocked is not declared timed out', async () => {
    const connecting = TcpConnection.connect({ host: '127.0.0.1', port }, 50);
    // The kernel completes the loopback handshake meanwhile; the timer is due before the loop sees it.
    blockLoop(300);
    const conn = await connecting;
    conn.close();
  });

  it('Client: a connect that completed while the loop was blocked is not declared timed out', async () => {
    const connecting = Client.connect({ port, timeoutMs: 50 });
    blockLoop(300);
    const client = await connecting;
    await client.close();
  });

  it('Client: a reply that arrived while the loop was blocked is not declared missing', async () => {
    const client = await Client.connect({ port, timeoutMs: 50 });
    try {
      const answered = client.request({ kind: 'use', tube: 'default' });
      // The client writes at the end of the turn (nextTick); the loop is blocked after that.
      await new Promise((resolve) => process.nextTick(resolve));
      blockLoop(300);
      expect((await answered).kind).toBe('USING');
    } finally {
      await client.close();
    }
  });
});
