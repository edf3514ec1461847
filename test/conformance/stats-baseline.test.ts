// The global-stats property on a shared server (--target --exclusive) counts only its own
// commands: commands and closes of connections other checks have finished with, arriving late
// (a TCP forwarder that delays them), and checks still running beside it (the corpus), are not
// in its deltas. Against a real beanstalkd behind test/helpers/tcp-forwarder.ts.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Harness } from '../../src/conformance/properties/harness.js';
import type { Op } from '../../src/conformance/properties/ops.js';
import { runProperties } from '../../src/conformance/properties/run.js';
import { nextEvent } from '../../src/target/connection.js';
import { addressTarget } from '../../src/target/sessions.js';
import { spawnBeanstalkd, type SpawnedServer } from '../../src/target/spawn.js';
import { TcpConnection } from '../../src/target/tcp-connection.js';
import { describeWithBeanstalkd } from '../helpers/beanstalkd.js';
import { startForwarder, type Forwarder } from '../helpers/tcp-forwarder.js';

/** What the forwarder adds to a close on its way to the server. */
const CLOSE_DELAY_MS = 600;

describeWithBeanstalkd('the stats baseline on a shared server', (binary) => {
  let server: SpawnedServer;
  let forwarder: Forwarder;
  beforeAll(async () => {
    server = await spawnBeanstalkd({ binary });
    forwarder = await startForwarder(server, { closeDelayMs: CLOSE_DELAY_MS });
  });
  afterAll(async () => {
    await forwarder?.close();
    await server?.stop();
  });

  it('waits for the server to see an earlier connection close before taking it', async () => {
    // An earlier check's connection: it used a tube and put a job there, deleted it, and closed.
    // Its close reaches the server CLOSE_DELAY_MS later, and then the tube goes away.
    const earlier = await TcpConnection.connect(forwarder, 2000);
    earlier.send(Buffer.from('use bl-earlier\r\nput 0 0 10 1\r\nx\r\n'));
    expect((await nextEvent(earlier, 2000))?.kind).toBe('reply');
    const inserted = await nextEvent(earlier, 2000);
    const id = inserted?.kind === 'reply' && inserted.reply.kind === 'INSERTED' ? inserted.reply.id : undefined;
    earlier.send(Buffer.from(`delete ${id}\r\n`));
    expect(await nextEvent(earlier, 2000)).toMatchObject({ kind: 'reply', reply: { kind: 'DELETED' } });
    earlier.close();

    const target = addressTarget(forwarder);
    const session = await target.open({ profile: '1.12' });
    const harness = new Harness({ profile: '1.12', session, tubePrefix: 'blq', maxJobSize: 65535, globalStats: true, shared: true, replyTimeoutMs: 2000 });
    const ops: Op[] = [
      { op: 'stats', conn: 0 },
      { op: 'sleep', ms: CLOSE_DELAY_MS + 300 },
      { op: 'stats', conn: 0 },
    ];
    try {
      for (const op of ops) await harness.run(op);
      await harness.finish();
    } finally {
      await harness.close();
      await session.close();
    }
  });

  it('the stats property starts only when the other checks of the run are done', { timeout: 60_000 }, async () => {
    // Another check of the same run (a corpus case on the shared server) still at work.
    const other = await TcpConnection.connect(forwarder, 2000);
    let busy = true;
    const noise = (async () => {
      while (busy) {
        other.send(Buffer.from('stats-tube default\r\n'));
        await nextEvent(other, 2000);
      }
      other.close();
    })();
    const othersDone = new Promise<void>((resolve) =>
      setTimeout(() => {
        busy = false;
        resolve(noise);
      }, 4000),
    );
    const results = await runProperties(addressTarget(forwarder), {
      profile: '1.12',
      seed: 11,
      numRuns: 10,
      maxCommands: 15,
      timeLimitMs: 20_000,
      concurrency: 4,
      exclusive: true,
      tubeNonce: 'quiet',
      maxJobSize: 65535,
      only: 'stats/counters/property-stats-counters',
      othersDone,
    });
    busy = false;
    await noise;
    expect(results).toHaveLength(1);
    expect(results[0], `${results[0].expected}\n${results[0].actual}`).toMatchObject({ status: 'pass' });
  });
});
