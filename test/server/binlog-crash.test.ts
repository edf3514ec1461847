// `beanlab serve --binlog` SIGKILLed again and again under a pipelined producer that also
// deletes, with small segments so compaction runs all the time: no job the server answered
// INSERTED for (and did not answer DELETED for) may be missing after the restart, and no job it
// answered DELETED for may come back (issue 13: "the kill -9 checks still hold").
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/client.js';
import { spawnEmbeddedServer, type ServerProcess } from '../../src/server/process.js';

const ROUNDS = 10;
const IN_FLIGHT = 64;
const SEGMENT_BYTES = 64 * 1024;

/** Every job in `live` is there with its body, none in `deleted` is (peeks pipelined). */
async function expectJobs(client: Client, live: Map<number, string>, deleted: Set<number>, when: string): Promise<void> {
  const found = await Promise.all([...live.keys()].map((id) => client.peek(id)));
  [...live].forEach(([id, body], i) => expect(found[i] && Buffer.from(found[i]!.body).toString(), `${when}: job ${id}`).toBe(body));
  const gone = await Promise.all([...deleted].map((id) => client.peek(id)));
  [...deleted].forEach((id, i) => expect(gone[i], `${when}: deleted job ${id}`).toBeNull());
}

describe('beanlab serve --binlog under SIGKILL, compacting', () => {
  const dir = mkdtempSync(join(tmpdir(), 'beanlab-binlog-kill-'));
  const running: ServerProcess[] = [];
  afterAll(async () => {
    await Promise.all(running.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it(`loses no acknowledged job and revives no deleted one over ${ROUNDS} kill -9 rounds`, { timeout: 180_000 }, async () => {
    const seed = Number(process.env.BEANLAB_SEED ?? Date.now() % 2 ** 31);
    console.log(`binlog kill -9 seed=${seed} (set BEANLAB_SEED to reproduce)`);
    let state = seed;
    const random = (n: number): number => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state % n;
    };
    /** Acknowledged and not deleted: id -> body. */
    const live = new Map<number, string>();
    const deleted = new Set<number>();
    /** Acknowledged jobs whose delete was sent but not answered: either outcome is right. */
    const deleting = new Map<number, string>();
    let serial = 0;
    let writtenBytes = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const server = await spawnEmbeddedServer({ args: ['--binlog', dir, '--binlog-segment-bytes', String(SEGMENT_BYTES)] });
      running.push(server);
      const client = await Client.connect({ port: server.port, timeoutMs: 10_000 });
      await expectJobs(client, live, deleted, `round ${round}`);
      // A delete without an answer before the kill may have happened or not: settle it.
      for (const [id, body] of deleting) {
        const job = await client.peek(id);
        if (job === null) deleted.add(id);
        else {
          expect(Buffer.from(job.body).toString(), `round ${round}: job ${id}`).toBe(body);
          live.set(id, body);
        }
      }
      deleting.clear();
      const killAfterMs = 150 + random(300);
      let stop = false;
      const producer = Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (!stop) {
            const body = `job ${serial++} ${'b'.repeat(200 + random(800))}`;
            writtenBytes += body.length;
            const id = await client.put(body);
            live.set(id, body);
            // Most jobs are deleted again: the segments fill with garbage compaction drops.
            if (random(20) < 19) {
              live.delete(id);
              deleting.set(id, body);
              if (await client.delete(id)) {
                deleting.delete(id);
                deleted.add(id);
              }
            }
          }
        }),
      ).catch(() => undefined); // the kill fails the outstanding requests
      await new Promise((resolve) => setTimeout(resolve, killAfterMs));
      process.kill(server.pid, 'SIGKILL');
      stop = true;
      await producer;
      await client.close().catch(() => undefined);
      await server.stop();
      running.splice(running.indexOf(server), 1);
    }
    // Far more was written than the segments hold at the end, and they hold about what lives.
    const dirBytes = readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
    // Live at the kill: the acknowledged jobs, plus up to two per loop in flight (a put, a delete).
    const liveBytes = [...live.values()].reduce((sum, body) => sum + body.length + 300, 0) + IN_FLIGHT * 2 * 1300;
    console.log(`${serial} puts (${writtenBytes} bytes), ${deleted.size} deleted, ${live.size} live; binlog directory ${dirBytes} bytes`);
    expect(writtenBytes).toBeGreaterThan(3 * dirBytes);
    // Compaction keeps 2 x live + 2 segments when a segment fills; one more is being filled,
    // and one more is margin.
    expect(dirBytes).toBeLessThan(2 * liveBytes + 4 * SEGMENT_BYTES);
    expect(deleted.size).toBeGreaterThan(100);
    expect(live.size).toBeGreaterThan(10);
    // A last start checks the last round's jobs too.
    const server = await spawnEmbeddedServer({ args: ['--binlog', dir, '--binlog-segment-bytes', String(SEGMENT_BYTES)] });
    running.push(server);
    const client = await Client.connect({ port: server.port });
    await expectJobs(client, live, deleted, 'the last start');
    await client.close();
  });
});
