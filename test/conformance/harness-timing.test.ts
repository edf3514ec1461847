// The model-based harness keeps every command it sends a margin away from every deadline the
// model knows, measured when the command goes out: time spent opening a connection (slow on a
// busy machine) must not fall between the margin check and the send. Against a real beanstalkd
// that is held (SIGSTOP) for a moment after a put, so its deadline lies later than the model's
// by less than the margin, as a busy machine makes it.
import { expect, it } from 'vitest';
import { Harness } from '../../src/conformance/properties/harness.js';
import type { Op } from '../../src/conformance/properties/ops.js';
import { addressTarget, TcpSession, type Session } from '../../src/target/sessions.js';
import { spawnBeanstalkd } from '../../src/target/spawn.js';
import { describeWithBeanstalkd } from '../helpers/beanstalkd.js';
import { startForwarder } from '../helpers/tcp-forwarder.js';

/** How long the server is held after the put is sent: its delay then ends this much after the model's. */
const HELD_MS = 150;
/** How long opening the second connection takes (a busy machine). */
const SLOW_CONNECT_MS = 450;

describeWithBeanstalkd('the harness on a busy machine', (binary) => {
  it('checks the margin again after opening a connection, before the command goes out', async () => {
    const server = await spawnBeanstalkd({ binary });
    const inner = new TcpSession(server, { stop: () => server.stop() });
    let connects = 0;
    const session: Session = Object.assign(Object.create(inner) as Session, {
      connect: async () => {
        if (++connects === 2) await new Promise((resolve) => setTimeout(resolve, SLOW_CONNECT_MS));
        return inner.connect();
      },
    });
    const harness = new Harness({ profile: '1.12', session, tubePrefix: 'slow', maxJobSize: 65535, globalStats: false, shared: false, replyTimeoutMs: 3000 });
    const ops: Op[] = [
      { op: 'put', conn: 0, pri: 1, delay: 1, ttr: 10, body: 'x' },
      // Now ~0.55 s before the model's deadline: far enough for the margin.
      { op: 'sleep', ms: 450 },
      // A new connection: opened in SLOW_CONNECT_MS, which would send the reserve ~0.1 s past the
      // model's deadline and before the server's.
      { op: 'reserve-with-timeout', conn: 1, seconds: 0 },
    ];
    try {
      await harness.run({ op: 'stats-tube', conn: 0, tube: 0 }); // connection 0 open before the timing starts
      process.kill(server.pid, 'SIGSTOP');
      const resume = setTimeout(() => process.kill(server.pid, 'SIGCONT'), HELD_MS);
      try {
        for (const op of ops) await harness.run(op);
        await harness.finish();
      } finally {
        clearTimeout(resume);
        process.kill(server.pid, 'SIGCONT');
      }
    } finally {
      await harness.close();
      await session.close();
    }
  }, 20_000);
});

describeWithBeanstalkd('the harness and the order of connections', (binary) => {
  it('lets the server see a reserve that waits before another connection looks (bytes may overtake across connections)', async () => {
    const server = await spawnBeanstalkd({ binary });
    // The second connection the harness opens (A, which will wait in reserve) reaches the server
    // 60 ms later than the first (B): B's next command overtakes A's reserve unless the harness waits.
    const forwarder = await startForwarder(server, { toServerDelayMs: (connection) => (connection === 1 ? 60 : 0) });
    const session = addressTarget(forwarder).open({ profile: '1.12' });
    const harness = new Harness({ profile: '1.12', session: await session, tubePrefix: 'order', maxJobSize: 65535, globalStats: false, shared: false, replyTimeoutMs: 3000 });
    try {
      await harness.run({ op: 'stats-tube', conn: 1, tube: 0 });
      await harness.run({ op: 'reserve', conn: 0 });
      // current-waiting: 1 only if A's reserve came first.
      await harness.run({ op: 'stats-tube', conn: 1, tube: 0 });
      await harness.finish();
    } finally {
      await harness.close();
      await (await session).close();
      await forwarder.close();
      await server.stop();
    }
  }, 20_000);
});
