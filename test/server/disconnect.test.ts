// What a server does with pipelined commands of a client that closes its socket, and the time
// each command of one chunk sees (issue 13, items 3 and 4): the embedded server against a real
// beanstalkd, the same bytes sent to both.
//
// beanstalkd writes each reply before it applies the next command and stops at the first
// write that fails. A client that closed (not just half-closed) its socket answers the first
// reply sent after its FIN with a reset, so the command after that reply still runs, and the
// next one does not: `reserve-with-timeout 60`, `list-tubes`, `delete N`, close leaves job N.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnBeanstalkd } from '../../src/target/spawn.js';
import { startServer } from '../../src/server/tcp.js';
import { describeWithBeanstalkd } from '../helpers/beanstalkd.js';
import { openSocket, roundTrip } from '../helpers/hostile-clients.js';

type Server = { label: string; port: number; stop(): Promise<unknown> };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A YAML field of a stats reply. */
function field(reply: string, key: string): string | undefined {
  return new RegExp(`\\n${key}: (\\S+)`).exec(reply)?.[1];
}

let tubeCounter = 0;

interface Outcome {
  /** The state of a job in another tube, which the closing client tries to delete, or NOT_FOUND. */
  jobState: string;
  /** Jobs that the closing client's pipelined put added. */
  putsInserted: number;
  deletes: number;
  listTubes: number;
}

/**
 * A job waits in tube `other`; a client watching an empty tube of its own sends `pipeline`
 * (JOB replaced by the job's id) in one write, then ends its socket as `how` says.
 */
async function disconnectScenario(server: Server, pipeline: string, how: 'close' | 'half-close'): Promise<Outcome> {
  const admin = await openSocket({ port: server.port });
  try {
    const id = /INSERTED (\d+)/.exec(await roundTrip(admin, 'use other\r\nput 0 0 60 1\r\nx\r\n', /INSERTED \d+\r\n/))![1];
    const before = await roundTrip(admin, 'stats\r\n', /\n\r\n$/);
    const tube = `closing${tubeCounter++}`;
    const client = await openSocket({ port: server.port });
    await roundTrip(client, `watch ${tube}\r\nignore default\r\nuse ${tube}\r\n`, /USING \S+\r\n$/);
    client.write(pipeline.replace('JOB', id));
    await sleep(50); // the reserve is waiting now (a slower server reads the close with it: the same)
    if (how === 'close') client.destroy();
    else client.end();
    // Done with the client once the server dropped it: only `admin` is left.
    for (const deadline = Date.now() + 10_000; ; ) {
      if (field(await roundTrip(admin, 'stats\r\n', /\n\r\n$/), 'current-connections') === '1') break;
      if (Date.now() > deadline) throw new Error(`${server.label} kept the closed connection for 10 s`);
      await sleep(20);
    }
    const job = await roundTrip(admin, `stats-job ${id}\r\n`, /(\n\r\n|NOT_FOUND\r\n)$/);
    const after = await roundTrip(admin, 'stats\r\n', /\n\r\n$/);
    const delta = (key: string): number => Number(field(after, key)) - Number(field(before, key));
    if (job.startsWith('OK')) await roundTrip(admin, `delete ${id}\r\n`, /\r\n$/);
    return {
      jobState: field(job, 'state') ?? job.trim(),
      putsInserted: delta('total-jobs'),
      deletes: delta('cmd-delete'),
      listTubes: delta('cmd-list-tubes'),
    };
  } finally {
    admin.destroy();
  }
}

describeWithBeanstalkd('pipelines cut by a close, and the time of each command: beanlab serve as beanstalkd 1.12', (binary) => {
  const servers: Server[] = [];
  beforeAll(async () => {
    const real = await spawnBeanstalkd({ binary });
    servers.push({ label: 'beanstalkd', port: real.port, stop: () => real.stop() });
    const embedded = await startServer({ port: 0 });
    servers.push({ label: 'embedded', port: embedded.port, stop: () => embedded.close() });
  }, 30_000);
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  const cases: { name: string; pipeline: string; how: 'close' | 'half-close'; expected: Outcome }[] = [
    {
      name: 'reserve-with-timeout, list-tubes, delete, close: the delete never runs',
      pipeline: 'reserve-with-timeout 60\r\nlist-tubes\r\ndelete JOB\r\n',
      how: 'close',
      expected: { jobState: 'ready', putsInserted: 0, deletes: 0, listTubes: 1 },
    },
    {
      name: 'reserve-with-timeout, list-tubes, put, close: no job is inserted',
      pipeline: 'reserve-with-timeout 60\r\nlist-tubes\r\nput 0 0 60 1\r\nx\r\n',
      how: 'close',
      expected: { jobState: 'ready', putsInserted: 0, deletes: 0, listTubes: 1 },
    },
    {
      name: 'reserve-with-timeout, delete, close: the command right after the TIMED_OUT still runs',
      pipeline: 'reserve-with-timeout 60\r\ndelete JOB\r\n',
      how: 'close',
      expected: { jobState: 'NOT_FOUND', putsInserted: 0, deletes: 1, listTubes: 0 },
    },
    {
      name: 'reserve, list-tubes, list-tubes, delete, close: one list-tubes runs, nothing after it',
      pipeline: 'reserve\r\nlist-tubes\r\nlist-tubes\r\ndelete JOB\r\n',
      how: 'close',
      expected: { jobState: 'ready', putsInserted: 0, deletes: 0, listTubes: 1 },
    },
    {
      name: 'reserve-with-timeout, list-tubes, delete, half-close: everything runs',
      pipeline: 'reserve-with-timeout 60\r\nlist-tubes\r\ndelete JOB\r\n',
      how: 'half-close',
      expected: { jobState: 'NOT_FOUND', putsInserted: 0, deletes: 1, listTubes: 1 },
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      for (const server of servers) {
        expect(await disconnectScenario(server, c.pipeline, c.how), server.label).toEqual(c.expected);
      }
    });
  }

  /** The id the next put on `socket` will get (no other client puts meanwhile). */
  async function nextId(socket: net.Socket): Promise<number> {
    const id = Number(/INSERTED (\d+)/.exec(await roundTrip(socket, 'put 0 0 60 1\r\nd\r\n', /INSERTED \d+\r\n/))![1]);
    await roundTrip(socket, `delete ${id}\r\n`, /DELETED\r\n/);
    return id + 1;
  }

  it('put, reserve, release and pause-tube followed in the same write by a stats command: time-left 999 of 1000 s', async () => {
    for (const server of servers) {
      const tube = `times${tubeCounter++}`;
      const socket = await openSocket({ port: server.port });
      try {
        await roundTrip(socket, `use ${tube}\r\nwatch ${tube}\r\nignore default\r\n`, /WATCHING 1\r\n$/);
        let id = await nextId(socket);
        const afterPut = await roundTrip(socket, `put 0 1000 60 1\r\nx\r\nstats-job ${id}\r\n`, /\n\r\n$/);
        expect(field(afterPut, 'time-left'), `${server.label} after put`).toBe('999');
        await roundTrip(socket, `delete ${id}\r\n`, /DELETED\r\n/);
        id = await nextId(socket);
        const afterReserve = await roundTrip(socket, `put 0 0 1000 1\r\nx\r\nreserve\r\nstats-job ${id}\r\n`, /\n\r\n$/);
        expect(field(afterReserve, 'time-left'), `${server.label} after reserve`).toBe('999');
        const afterRelease = await roundTrip(socket, `release ${id} 0 1000\r\nstats-job ${id}\r\n`, /\n\r\n$/);
        expect(field(afterRelease, 'time-left'), `${server.label} after release`).toBe('999');
        await roundTrip(socket, `delete ${id}\r\n`, /DELETED\r\n/);
        const afterPause = await roundTrip(socket, `pause-tube ${tube} 1000\r\nstats-tube ${tube}\r\n`, /\n\r\n$/);
        expect(field(afterPause, 'pause-time-left'), `${server.label} after pause-tube`).toBe('999');
      } finally {
        socket.destroy();
      }
    }
  });
});

// The embedded server alone, against a socket that is reset rather than closed.
describe('the embedded server after a reset', () => {
  it('runs nothing more of a pipeline whose client reset the connection', async () => {
    const server = await startServer({ port: 0 });
    try {
      const admin = await openSocket({ port: server.port });
      const id = /INSERTED (\d+)/.exec(await roundTrip(admin, 'use other\r\nput 0 0 60 1\r\nx\r\n', /INSERTED \d+\r\n/))![1];
      const client = net.connect({ port: server.port, host: '127.0.0.1' });
      client.on('error', () => {});
      await new Promise<void>((resolve) => client.once('connect', () => resolve()));
      client.write(`watch empty\r\nignore default\r\nreserve-with-timeout 60\r\nlist-tubes\r\ndelete ${id}\r\n`);
      await sleep(50);
      client.resetAndDestroy();
      await sleep(200);
      expect(await roundTrip(admin, `stats-job ${id}\r\n`, /\n\r\n$/)).toMatch(/\nstate: ready\n/);
      admin.destroy();
    } finally {
      await server.close();
    }
  });
});
