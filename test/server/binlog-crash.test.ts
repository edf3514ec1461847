// `beanlab serve --binlog` SIGKILLed again and again under a pipelined producer that also
// deletes, with small segments so compaction runs all the time: no job the server answered
// INSERTED for (and did not answer DELETED for) may be missing after the restart, and no job it
// answered DELETED for may come back (issue 13: "the kill -9 checks still hold").
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/client.js';
import { spawnEmbeddedServer, type ServerProcess } from '../helpers/server-process.js';

const ROUNDS = 10;
const IN_FLIGHT = 64;
const SEGMENT_BYTES = 64 * 1024;
/** Acknowledged puts before a round's kill can come: ~1 MB of records, 16 segments. */
const PUTS_PER_ROUND = 1500;

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
      // mulberry32: small, seedable, and exact in doubles.
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
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
      // Killed at a random moment once this round has put enough, whatever the machine's speed.
      const killAfterMs = random(300);
      let ackedThisRound = 0;
      let stop = false;
      const producer = Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (!stop) {
            const body = `job ${serial++} ${'b'.repeat(200 + random(800))}`;
            writtenBytes += body.length;
            const id = await client.put(body);
            ackedThisRound += 1;
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
      for (const giveUpAt = Date.now() + 30_000; ackedThisRound < PUTS_PER_ROUND; ) {
        if (Date.now() > giveUpAt) throw new Error(`round ${round}: only ${ackedThisRound} puts in 30 s`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await new Promise((resolve) => setTimeout(resolve, killAfterMs));
      process.kill(server.pid, 'SIGKILL');
      stop = true;
      await producer;
      await client.close().catch(() => undefined);
      await server.stop();
      running.splice(running.indexOf(server), 1);
    }
    // The segments hold about what lives, of all that was written.
    const dirBytes = readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
    console.log(`${serial} puts (${writtenBytes} bytes), ${deleted.size} deleted, ${live.size} live; binlog directory ${dirBytes} bytes`);
    expect(deleted.size).toBeGreaterThan(100);
    expect(live.size).toBeGreaterThan(10);
    // A last start checks the last round's jobs too.
    const server = await spawnEmbeddedServer({ args: ['--binlog', dir, '--binlog-segment-bytes', String(SEGMENT_BYTES)] });
    running.push(server);
    const client = await Client.connect({ port: server.port });
    await expectJobs(client, live, deleted, 'the last start');
    // Live at the last kill: the jobs there are now (puts the kill cut off before their answer
    // count too), plus up to two per loop in flight (a put, a delete); at most 1,300 bytes each.
    const jobs = Number((await client.stats()).get('current-jobs-ready'));
    await client.close();
    const liveBytes = (jobs + IN_FLIGHT * 2) * 1300;
    // Compaction keeps 2 x live + 2 segments when a segment fills; one more is being filled,
    // and one more is margin.
    expect(dirBytes).toBeLessThan(2 * liveBytes + 4 * SEGMENT_BYTES);
    // ...a bound the run wrote more than (each round puts PUTS_PER_ROUND at least), or it shows nothing.
    expect(writtenBytes).toBeGreaterThan(2 * liveBytes + 4 * SEGMENT_BYTES);
  });
});
