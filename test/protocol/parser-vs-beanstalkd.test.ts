// Differential test against the real server: random, framing-heavy byte streams (overlong
// lines, bare CRs, NULs, puts with wrong sizes or over max-job-size) go to beanstalkd, and its
// replies must be exactly those implied by the Requests RequestParser makes of the same bytes.
// The command alphabet is chosen so each request's reply is known without a full model.
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeReply } from '../../src/protocol/encode.js';
import { ReplyParser } from '../../src/protocol/reply-parser.js';
import type { Profile, Reply, Request } from '../../src/protocol/types.js';
import { bytes, parseAll, testSeed } from './helpers.js';
import { BEANSTALKD_PATH, beanstalkdAvailable, exchange, startBeanstalkd, type RunningBeanstalkd } from './real-beanstalkd.js';

const MAX_JOB_SIZE = 10; // -z 10: oversized puts are cheap to generate
const ABSENT_ID = 99999999; // far above any id this test's puts reach
const available = beanstalkdAvailable();
if (!available && process.env.CI === 'true') {
  throw new Error(`CI=true but no beanstalkd at ${BEANSTALKD_PATH}: this test must not be skipped`);
}

/** Replies on one fresh connection: it uses and watches only `default` at first. */
class ReplyOracle {
  private used = 'default';
  private readonly watched = ['default'];
  constructor(private nextId: number) {}

  /** The id a put-begin took, for the put that completes it. */
  private inFlightId: number | undefined;

  /** undefined: the request gets no reply (yet). */
  replyTo(request: Request): Reply | undefined {
    switch (request.kind) {
      case 'error':
        return { kind: request.reply };
      case 'put-begin':
        this.inFlightId = this.nextId++; // the id is allocated at the put line
        return undefined;
      case 'put': {
        const id = this.inFlightId ?? this.nextId++;
        this.inFlightId = undefined;
        return { kind: 'INSERTED', id };
      }
      case 'put-expected-crlf':
        if (this.inFlightId === undefined) this.nextId++; // the id was allocated at the put line
        this.inFlightId = undefined;
        return { kind: 'EXPECTED_CRLF' };
      case 'put-too-big-begin':
        return undefined;
      case 'put-too-big':
        return { kind: 'JOB_TOO_BIG' };
      case 'use':
        this.used = request.tube;
        return { kind: 'USING', tube: request.tube };
      case 'list-tube-used':
        return { kind: 'USING', tube: this.used };
      case 'watch':
        if (!this.watched.includes(request.tube)) this.watched.push(request.tube);
        return { kind: 'WATCHING', count: this.watched.length };
      case 'ignore': {
        const at = this.watched.indexOf(request.tube);
        if (at !== -1 && this.watched.length === 1) return { kind: 'NOT_IGNORED' };
        if (at !== -1) this.watched.splice(at, 1);
        return { kind: 'WATCHING', count: this.watched.length };
      }
      case 'kick': // every put here is ready at once: nothing is ever buried or delayed
        return { kind: 'KICKED', count: 0 };
      case 'peek-delayed':
      case 'peek-buried':
      case 'stats-tube':
      case 'pause-tube':
        return { kind: 'NOT_FOUND' }; // stats-tube / pause-tube only ever name `nosuch`
      case 'stats':
      case 'list-tubes':
      case 'list-tubes-watched':
        return { kind: 'OK', body: new Uint8Array(0) }; // compared by kind only
      case 'peek':
      case 'stats-job':
      case 'delete':
      case 'touch':
      case 'kick-job':
      case 'reserve-job':
      case 'release':
      case 'bury':
        if (request.id !== ABSENT_ID) throw new Error(`unexpected id in ${JSON.stringify(request)}`);
        return { kind: 'NOT_FOUND' };
      default:
        throw new Error(`the generator should not produce ${JSON.stringify(request)}`);
    }
  }
}

const COMMAND_LINES = [
  'list-tube-used', 'use foo', 'use bar', 'watch foo', 'ignore foo', 'ignore nosuch', 'ignore default',
  `peek ${ABSENT_ID}`, `stats-job ${ABSENT_ID}`, `delete ${ABSENT_ID}`, `touch ${ABSENT_ID}`,
  `kick-job ${ABSENT_ID}`, `reserve-job ${ABSENT_ID}`, `release ${ABSENT_ID} 1 0`, `bury ${ABSENT_ID} 1`,
  'kick 5', 'kick -1', 'kick 1x', 'stats-tube nosuch', 'pause-tube nosuch 1', 'pause-tube -x 1', 'pause-tubenosuch 0',
  'stats', 'list-tubes', 'list-tubes-watched', 'peek-delayed', 'peek-buried',
  // error lines
  'put', 'PUT 1', 'statsx', 'reserve ', 'reserve-with-timeout', 'reserve-with-timeout 99999999999999999999',
  `delete ${ABSENT_ID} `, 'use -foo', '', 'put 1 0 10 1x', 'put 4294967296 0 10 1', 'peek 18446744073709551616',
];

const bodyByte = fc.constantFrom(...bytes('xy \r\n\0'));

const fragment: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...COMMAND_LINES).map((line) => bytes(`${line}\r\n`)) },
  {
    weight: 2,
    arbitrary: fc
      .record({
        body: fc.array(bodyByte, { maxLength: 12 }),
        sizeDelta: fc.constantFrom(0, 0, -1, 1),
        trailer: fc.constantFrom('\r\n', '\r\n', 'XY', '\n'),
      })
      .map(({ body, sizeDelta, trailer }) =>
        Buffer.concat([bytes(`put 1 0 10 ${Math.max(0, body.length + sizeDelta)}\r\n`), Buffer.from(body), bytes(trailer)]),
      ),
  },
  { weight: 1, arbitrary: fc.integer({ min: 215, max: 460 }).map((n) => bytes(`${'a'.repeat(n)}\r\n`)) },
  { weight: 1, arbitrary: fc.constantFrom(222, 223, 224, 446, 447).map((n) => bytes(`${'a'.repeat(n)}\r\n`)) },
  { weight: 1, arbitrary: fc.array(fc.constantFrom(...bytes('aaa\r\n\0')), { minLength: 1, maxLength: 500 }).map((b) => Buffer.from(b)) },
  { weight: 1, arbitrary: fc.constant(bytes('use a\rb\r\n')) },
);

function normalise(reply: Reply): Reply {
  return reply.kind === 'OK' ? { kind: 'OK', body: new Uint8Array(0) } : reply;
}

function readReplies(wire: Buffer): Reply[] {
  const parser = new ReplyParser();
  parser.push(wire);
  const out: Reply[] = [];
  for (let r = parser.next(); r !== undefined; r = parser.next()) out.push(normalise(r.reply));
  expect(parser.bufferedBytes()).toBe(0);
  return out;
}

describe.skipIf(!available)('RequestParser against a real beanstalkd', () => {
  let server: RunningBeanstalkd;
  let profile: Profile;

  beforeAll(async () => {
    server = await startBeanstalkd(['-z', String(MAX_JOB_SIZE)]);
    // `beanstalkd -v` prints e.g. `beanstalkd 1.12`; anything newer follows 1.13's rules.
    profile = execFileSync(BEANSTALKD_PATH, ['-v']).toString().includes(' 1.12') ? '1.12' : '1.13';
  });

  afterAll(async () => {
    await server?.stop();
  });

  /** The id the next put on the server will get (ids are global and never reused). */
  async function nextJobId(): Promise<number> {
    const [reply] = readReplies(await exchange(server.port, bytes('put 0 0 1 0\r\n\r\n')));
    if (reply?.kind !== 'INSERTED') throw new Error(`probe put got ${JSON.stringify(reply)}`);
    return reply.id + 1;
  }

  async function check(input: Buffer): Promise<void> {
    const oracle = new ReplyOracle(await nextJobId());
    const requests = parseAll(input, { profile, maxJobSize: MAX_JOB_SIZE });
    const expected = requests.flatMap((r) => oracle.replyTo(r) ?? []);
    const actual = readReplies(await exchange(server.port, input));
    const wireView = (replies: Reply[]): string => replies.map((r) => encodeReply(r).toString('latin1').trim()).join(' | ');
    expect(actual, `input ${JSON.stringify(input.toString('latin1'))}\nexpected ${wireView(expected)}\nactual   ${wireView(actual)}`).toEqual(expected);
  }

  test('the probe rows about framing, on the wire', async () => {
    await check(bytes(`${'a'.repeat(223)}\r\nlist-tube-used\r\nstats\r\n`));
    await check(bytes(`use a\rb\r\n${'list-tube-used\r\n'.repeat(14)}stats\r\n`));
    await check(bytes('put 0 0 10 3\r\nhello\r\nput 1 0 10 11\r\ndelete 9999\r\nlist-tube-used\r\n'));
    await check(bytes(`${'a'.repeat(224)}b\rc${'d'.repeat(221)}e\r\nlist-tube-used\r\n`));
  });

  test('random streams get exactly the replies their parsed requests imply', async () => {
    const seed = testSeed('parser vs real beanstalkd');
    await fc.assert(
      fc.asyncProperty(fc.array(fragment, { minLength: 1, maxLength: 25 }), async (parts) => {
        await check(Buffer.concat(parts));
      }),
      { seed, numRuns: 150 },
    );
  });
});
