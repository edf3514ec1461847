// Differential property test (foundation issue, item 8): random command streams, random packet
// splits, malformed and over-long input go to the embedded server and to a real beanstalkd 1.12
// side by side; their reply streams must be identical, with only per-run stats fields masked.
//
// Pacing: commands on different connections must be serialised (semantics h.3), so after each
// command we wait until both servers have sent as many replies as the reference model (on a
// virtual clock) predicts. The model only paces; the comparison is server against server.
// Time: no delay, TTR or timeout in the stream can expire within a run (delays and pauses of
// 100 s, TTRs of at least 5 s, reserve-with-timeout 0), so the right answer never depends on
// timing.
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { parseStatsYaml } from '../../src/protocol/stats-yaml.js';
import { spawnBeanstalkd } from '../../src/target/spawn.js';
import { startEmbedded } from '../../src/target/embedded.js';
import { TcpConnection } from '../../src/target/tcp-connection.js';
import { VirtualServer } from '../../src/target/virtual.js';
import type { ConnEvent, RawConnection } from '../../src/target/connection.js';
import { describeWithBeanstalkd } from '../helpers/beanstalkd.js';

/** Small, so that JOB_TOO_BIG is cheap to reach. */
const MAX_JOB_SIZE = 32;
const CONNECTIONS = 3;
const REPLY_TIMEOUT_MS = 2000;
const RUNS = Number(process.env.DIFF_RUNS ?? 40);
const SEED = Number(process.env.DIFF_SEED ?? Date.now() % 2 ** 31);

/** Fields that differ between any two server processes (semantics h.10). */
const VOLATILE_STATS = new Set([
  'pid', 'hostname', 'os', 'platform', 'rusage-utime', 'rusage-stime', 'uptime',
  'total-connections',
]);
/** Whole seconds, truncated; two servers a few ms apart may straddle a second (h.6). */
const SECONDS_FIELDS = new Set(['age', 'time-left', 'pause-time-left']);

const ascii = (s: string) => Buffer.from(s, 'latin1');

const jobId = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 8 }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom('18446744073709551615', '18446744073709551616', '-1', '+2', '02', '1x', 'abc') },
);
const pri = fc.oneof(
  fc.integer({ min: 0, max: 2000 }).map(String),
  fc.constantFrom('0', '1023', '1024', '4294967295', '4294967296', '-1', '01', 'x'),
);
const delay = fc.constantFrom('0', '0', '0', '100', '4294967296', '-1');
const ttr = fc.constantFrom('5', '100', '4294967295', '4294967296');
const tube = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('default', 'a', 'b', 'c') },
  { weight: 1, arbitrary: fc.constantFrom('-bad', 'x*y', 'a b', 't'.repeat(200), 't'.repeat(201), '') },
);
const body = fc.uint8Array({ minLength: 0, maxLength: MAX_JOB_SIZE + 4 });

const put = fc.tuple(pri, delay, ttr, body, fc.integer({ min: -2, max: 2 })).map(([p, d, t, b, lengthError]) => {
  // Mostly honest lengths; sometimes a wrong one (EXPECTED_CRLF, or the next command eaten).
  const declared = lengthError === 0 || b.length + lengthError < 0 ? b.length : b.length + lengthError;
  return Buffer.concat([ascii(`put ${p} ${d} ${t} ${declared}\r\n`), b, ascii('\r\n')]);
});

const line = (...parts: fc.Arbitrary<string>[]) => fc.tuple(...parts).map((p) => ascii(p.join('') + '\r\n'));
const lit = (s: string) => fc.constant(s);

const command: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 8, arbitrary: put },
  { weight: 4, arbitrary: line(lit('reserve-with-timeout 0')) },
  { weight: 1, arbitrary: line(lit('reserve')) },
  { weight: 3, arbitrary: line(lit('reserve-job '), jobId) },
  { weight: 3, arbitrary: line(lit('delete '), jobId) },
  { weight: 3, arbitrary: line(lit('release '), jobId, lit(' '), pri, lit(' '), delay) },
  { weight: 3, arbitrary: line(lit('bury '), jobId, lit(' '), pri) },
  { weight: 2, arbitrary: line(lit('touch '), jobId) },
  { weight: 2, arbitrary: line(lit('kick-job '), jobId) },
  { weight: 2, arbitrary: line(lit('kick '), fc.constantFrom('0', '1', '2', '10', '-1', '1x', '+1', 'abc')) },
  { weight: 2, arbitrary: line(lit('peek '), jobId) },
  { weight: 2, arbitrary: line(fc.constantFrom('peek-ready', 'peek-delayed', 'peek-buried')) },
  { weight: 2, arbitrary: line(lit('stats-job '), jobId) },
  { weight: 2, arbitrary: line(lit('stats-tube '), tube) },
  { weight: 1, arbitrary: line(lit('stats')) },
  { weight: 3, arbitrary: line(fc.constantFrom('use ', 'watch ', 'ignore '), tube) },
  { weight: 2, arbitrary: line(fc.constantFrom('list-tubes', 'list-tube-used', 'list-tubes-watched')) },
  { weight: 1, arbitrary: line(lit('pause-tube '), tube, lit(' '), fc.constantFrom('0', '100', 'x')) },
  {
    weight: 2,
    arbitrary: fc.oneof(
      line(fc.constantFrom('', 'PUT 0 0 1 1', 'reservex', 'stats ', 'list-tubesx', 'peek', 'use', 'kick', 'foo bar')),
      fc.integer({ min: 200, max: 300 }).map((n) => ascii('x'.repeat(n) + '\r\n')),
      fc.constant(ascii('use a\0b\r\n')),
    ),
  },
  { weight: 1, arbitrary: line(lit('quit')) },
);

interface Step {
  conn: number;
  bytes: Buffer;
  /** Where to cut the bytes into separate writes (fractions of the length). */
  cuts: number[];
}

const step: fc.Arbitrary<Step> = fc.record({
  conn: fc.integer({ min: 0, max: CONNECTIONS - 1 }),
  bytes: command,
  cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 2 }),
});

function chunks({ bytes, cuts }: Step): Buffer[] {
  const at = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].filter((i) => i > 0 && i < bytes.length).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const i of [...at, bytes.length]) {
    out.push(bytes.subarray(from, i));
    from = i;
  }
  return out;
}

/** One reply event as text: stats fields one per line (volatile ones masked), everything else as exact bytes. */
function comparable(event: ConnEvent | undefined): string {
  if (!event) return '(no reply)';
  if (event.kind === 'closed') return '(closed)';
  if (event.kind === 'garbage') return `(garbage ${JSON.stringify(event.raw.toString('latin1'))})`;
  const raw = event.raw.toString('latin1');
  if (event.reply.kind !== 'OK') return raw;
  const text = Buffer.from(event.reply.body).toString('latin1');
  if (!/^---\n[a-z-]+: /.test(text)) return raw; // a list (list-tubes): exact bytes
  const fields = [...parseStatsYaml(text)].map(([key, value]) => `${key}: ${isVolatile(key, value) ? '*' : value}`);
  return `OK (stats)\n${fields.join('\n')}`;
}

function isVolatile(key: string, value: string): boolean {
  // `id` in `stats` is the server's random instance id; in `stats-job` it is the job id.
  return VOLATILE_STATS.has(key) || (key === 'id' && /^[0-9a-f]{16}$/.test(value));
}

/** Equal, except that whole-second fields may differ by one between two servers (h.6). */
function sameReply(a: string, b: string): boolean {
  if (a === b) return true;
  const linesA = a.split('\n');
  const linesB = b.split('\n');
  if (linesA[0] !== 'OK (stats)' || linesA.length !== linesB.length) return false;
  return linesA.every((lineA, i) => {
    const [keyA, valueA] = lineA.split(': ');
    const [keyB, valueB] = linesB[i].split(': ');
    if (keyA !== keyB) return false;
    if (valueA === valueB) return true;
    return SECONDS_FIELDS.has(keyA) && Math.abs(Number(valueA) - Number(valueB)) <= 1;
  });
}

function printable(bytes: Buffer): string {
  return JSON.stringify(bytes.toString('latin1')).slice(1, -1);
}

async function waitForEvents(conn: RawConnection, events: ConnEvent[], count: number): Promise<void> {
  const deadline = Date.now() + REPLY_TIMEOUT_MS;
  for (;;) {
    for (let e = conn.take(); e; e = conn.take()) events.push(e);
    if (events.length >= count || Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

async function runScript(steps: Step[]): Promise<void> {
  const beanstalkd = await spawnBeanstalkd({ maxJobSize: MAX_JOB_SIZE });
  const embedded = await startEmbedded({ profile: '1.12', maxJobSize: MAX_JOB_SIZE });
  const oracle = new VirtualServer({ profile: '1.12', maxJobSize: MAX_JOB_SIZE });
  const real: RawConnection[] = [];
  const emb: RawConnection[] = [];
  try {
    const oracleConns = Array.from({ length: CONNECTIONS }, () => oracle.connect());
    for (let c = 0; c < CONNECTIONS; c++) {
      real.push(await TcpConnection.connect(beanstalkd, REPLY_TIMEOUT_MS));
      emb.push(await TcpConnection.connect(embedded, REPLY_TIMEOUT_MS));
    }
    // Both servers must have accepted every connection before the first `stats` counts them.
    for (const conn of [...real, ...emb]) {
      conn.send(ascii('list-tube-used\r\n'));
      const synced: ConnEvent[] = [];
      await waitForEvents(conn, synced, 1);
      expect(comparable(synced[0])).toBe('USING default\r\n');
    }
    const expectedCount = new Array<number>(CONNECTIONS).fill(0);
    const realEvents: ConnEvent[][] = real.map(() => []);
    const embEvents: ConnEvent[][] = emb.map(() => []);
    const closed = new Array<boolean>(CONNECTIONS).fill(false);
    const transcript: string[] = [];
    for (const s of steps) {
      if (closed[s.conn]) continue;
      transcript.push(`${'ABC'[s.conn]}> ${printable(s.bytes)}`);
      oracleConns[s.conn].send(s.bytes);
      for (const part of chunks(s)) {
        real[s.conn].send(part);
        emb[s.conn].send(part);
        // A pause makes the parts arrive as separate reads.
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      for (let c = 0; c < CONNECTIONS; c++) {
        for (let e = oracleConns[c].take(); e; e = oracleConns[c].take()) {
          expectedCount[c]++;
          if (e.kind === 'closed') closed[c] = true;
        }
        await waitForEvents(real[c], realEvents[c], expectedCount[c]);
        await waitForEvents(emb[c], embEvents[c], expectedCount[c]);
        const n = Math.max(realEvents[c].length, embEvents[c].length);
        for (let i = 0; i < n; i++) {
          const want = comparable(realEvents[c][i]);
          const got = comparable(embEvents[c][i]);
          if (!sameReply(want, got)) {
            throw new Error(
              `connection ${'ABC'[c]}, reply ${i + 1} differs\n--- beanstalkd 1.12:\n${want}\n--- embedded:\n${got}\n` +
                `--- stream so far (-z ${MAX_JOB_SIZE}):\n${transcript.join('\n')}`,
            );
          }
        }
      }
    }
  } finally {
    [...real, ...emb].forEach((c) => c.close());
    await Promise.all([beanstalkd.stop(), embedded.stop()]);
  }
}

describeWithBeanstalkd('embedded server vs beanstalkd 1.12, random streams', () => {
  it(`gives identical replies (seed ${SEED}, ${RUNS} runs; DIFF_SEED/DIFF_RUNS to change)`, async () => {
    console.log(`differential test seed: ${SEED} (DIFF_SEED=${SEED} reproduces it)`);
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 60 }), (steps) => runScript(steps)),
      { seed: SEED, numRuns: RUNS, interruptAfterTimeLimit: 100_000, markInterruptAsFailure: false },
    );
  }, 180_000);

  it('notices a difference (the comparison can fail)', () => {
    const found = (raw: string): ConnEvent => ({ kind: 'reply', reply: { kind: 'NOT_FOUND' }, raw: ascii(raw) });
    expect(sameReply(comparable(found('NOT_FOUND\r\n')), comparable(found('BAD_FORMAT\r\n')))).toBe(false);
    const stats = (yaml: string): ConnEvent => ({
      kind: 'reply',
      reply: { kind: 'OK', body: ascii(yaml) },
      raw: ascii(`OK ${yaml.length}\r\n${yaml}\r\n`),
    });
    // Volatile fields are masked, counters are not.
    const same = (a: string, b: string) => sameReply(comparable(stats(a)), comparable(stats(b)));
    expect(same('---\npid: 1\ncmd-put: 2\n', '---\npid: 7\ncmd-put: 2\n')).toBe(true);
    expect(same('---\npid: 1\ncmd-put: 2\n', '---\npid: 1\ncmd-put: 3\n')).toBe(false);
    // Whole seconds may straddle a boundary, by one at most.
    expect(same('---\nid: 1\ntime-left: 4\n', '---\nid: 1\ntime-left: 3\n')).toBe(true);
    expect(same('---\nid: 1\ntime-left: 4\n', '---\nid: 1\ntime-left: 2\n')).toBe(false);
  });
});
