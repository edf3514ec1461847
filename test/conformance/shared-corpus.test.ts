// The whole transcript corpus against ONE server shared by every case (a plain host:port
// target), as `beanlab conform --target` runs it: each case in its own tube namespace, cases
// that cannot be isolated skipped. Cases run concurrently, so they also act as each other's
// "other clients". Afterwards the server must hold no job the cases created.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCorpus } from '../../src/conformance/corpus.js';
import { runCase, skipReason } from '../../src/conformance/corpus-runner.js';
import { casePrefix, randomRunPrefix } from '../../src/conformance/tube-namespace.js';
import { parseStatsYaml } from '../../src/protocol/stats-yaml.js';
import type { Address } from '../../src/target/address.js';
import { nextEvent } from '../../src/target/connection.js';
import { startEmbedded } from '../../src/target/embedded.js';
import { addressTarget, type TargetFactory } from '../../src/target/sessions.js';
import { spawnBeanstalkd } from '../../src/target/spawn.js';
import { TcpConnection } from '../../src/target/tcp-connection.js';
import { describeWithBeanstalkd } from '../helpers/beanstalkd.js';

const cases = loadCorpus();
const PROFILE = '1.12';
/**
 * Cases a shared server cannot run (global stats, list-tubes, literal ids, 200-byte names, drain,
 * options). Keep it small. 71: stats/stats/field-names sends `stats` (its field names would hold
 * on a shared server, but the skip rule looks at the commands a case sends).
 */
const MAX_SHARED_SKIPS = 71;
const STATS_TIMEOUT_MS = 2000;

async function serverStats(address: Address): Promise<Map<string, string>> {
  const conn = await TcpConnection.connect(address, STATS_TIMEOUT_MS);
  try {
    conn.send(Buffer.from('stats\r\n'));
    const event = await nextEvent(conn, STATS_TIMEOUT_MS);
    if (event?.kind !== 'reply' || event.reply.kind !== 'OK') throw new Error(`stats failed: ${JSON.stringify(event)}`);
    return parseStatsYaml(Buffer.from(event.reply.body).toString('latin1'));
  } finally {
    conn.close();
  }
}

/** Per-case tests on the shared server at `address()` (known only once beforeAll ran), then the leftovers check. */
function sharedCorpusTests(address: () => Address): void {
  const target = (): TargetFactory => addressTarget(address());
  const label = addressTarget({ host: '127.0.0.1', port: 1 });
  const runPrefix = randomRunPrefix();
  // The persistence cases need a server beanlab restarts, which no host:port is, and the
  // `needs: direct` ones a connection with no proxy in between, which a host:port may have; they
  // are not limits of sharing, so they are left out of the count (corpus.test.ts and
  // closed-pipeline.test.ts check their skips).
  const skipped = cases.filter((c) => skipReason(c, label, PROFILE) !== undefined);
  const sharingSkips = skipped.filter((c) => !c.server.binlog && !c.needsDirect);

  describe.concurrent('cases', () => {
    // Cases a shared server cannot run get no test of their own: the count test below covers them.
    cases.forEach((c, i) => {
      if (skipped.includes(c)) return;
      it(c.id, async () => {
        const result = await runCase(c, target(), { profile: PROFILE }, casePrefix(runPrefix, i));
        expect(result.status, `${c.file}:${c.line}\n  expected: ${result.expected}\n  actual:   ${result.actual}`).toBe('pass');
      });
    });
  });

  it(`skips few cases (at most ${MAX_SHARED_SKIPS})`, () => {
    const reasons = new Map<string, number>();
    for (const c of sharingSkips) {
      const reason = skipReason(c, label, PROFILE)!.replace('127.0.0.1:1', 'a host:port');
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
    console.log(`shared server: ${sharingSkips.length} of ${cases.length} cases skipped\n${[...reasons].map(([r, n]) => `  ${n} ${r}`).join('\n')}`);
    expect(sharingSkips.length).toBeLessThanOrEqual(MAX_SHARED_SKIPS);
  });

  it('leaves no job and no tube behind', async () => {
    const stats = await serverStats(address());
    for (const field of ['current-jobs-ready', 'current-jobs-reserved', 'current-jobs-delayed', 'current-jobs-buried']) {
      expect(stats.get(field), field).toBe('0');
    }
    expect(stats.get('current-tubes')).toBe('1');
  });
}

describe('corpus on one shared embedded server, profile 1.12', () => {
  let server: Awaited<ReturnType<typeof startEmbedded>>;
  beforeAll(async () => {
    server = await startEmbedded({ profile: PROFILE });
  });
  afterAll(() => server?.stop());
  sharedCorpusTests(() => server);
});

describeWithBeanstalkd('corpus on one shared beanstalkd, profile 1.12', (binary) => {
  let server: Awaited<ReturnType<typeof spawnBeanstalkd>>;
  beforeAll(async () => {
    server = await spawnBeanstalkd({ binary });
  });
  afterAll(() => server?.stop());
  sharedCorpusTests(() => server);
});
