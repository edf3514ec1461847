// Servers that are not beanstalkd but speak its protocol differ in basic ways: ids that are
// UUIDs, commands they lack, stats they cache, fields they add. Each gap must show up as its
// own root cause, once, and must hide nothing else: behind every gap the suite still catches
// every fault (the mutation score behind each gap equals the score without it), and a check
// that only uses a missing command is `not checked`, not failed. The gap servers are the
// embedded server (with or without a fault) behind test/helpers/gap-server.ts.
import { describe, expect, it } from 'vitest';
import { runConform } from '../../src/cli/conform.js';
import { runSuite } from '../../src/conformance/suite.js';
import { embeddedTarget } from '../../src/target/embedded.js';
import { integerIdsCheck, probeCapabilities } from '../../src/conformance/capabilities.js';
import { loadCorpus } from '../../src/conformance/corpus.js';
import { runCorpus, type CheckResult } from '../../src/conformance/corpus-runner.js';
import { PROPERTIES } from '../../src/conformance/properties/catalog.js';
import { runProperties } from '../../src/conformance/properties/run.js';
import type { ConformanceResult } from '../../src/conformance/result.js';
import { formatConformanceTable } from '../../src/report/conformance-table.js';
import { FAULTS } from '../../src/server/faults.js';
import { addressTarget } from '../../src/target/sessions.js';
import { spawnBeanstalkd } from '../../src/target/spawn.js';
import { describeWithBeanstalkd } from '../helpers/beanstalkd.js';
import { gapTarget, GAPS, startGapProxy, type Gap } from '../helpers/gap-server.js';
import { RELEVANT } from '../helpers/relevant-checks.js';

const SEED = Number(process.env.BEANLAB_SEED ?? Math.floor(Math.random() * 2 ** 31));
const corpus = loadCorpus();
const MUTANTS = FAULTS.filter((f) => f.mutant).map((f) => f.name);

/** The causes each gap may produce on its own: anything else would be a cascade or a false failure. */
const GAP_CAUSE: Record<Gap, (key: string) => boolean> = {
  'uuid-ids': (key) => key === 'ids',
  'no-peek': (key) => /^missing:peek(-ready|-delayed|-buried)?$/.test(key),
  'no-list': (key) => /^missing:list-(tubes|tube-used|tubes-watched)$/.test(key),
  'no-stats': (key) => key === 'missing:stats',
  'stats-cache': (key) => key === 'stats-lag',
  'extra-stats-field': () => false,
};

async function suite(gaps: readonly Gap[], faults: readonly string[] = []): Promise<ConformanceResult> {
  const spec = { kind: 'embedded', faults: faults.map((name) => ({ name })) } as const;
  return runSuite({ spec, factory: gapTarget(embeddedTarget(spec.faults), gaps) }, corpus, SEED, { profile: '1.12', concurrency: 8, quick: true });
}

const failing = (result: ConformanceResult) => result.checks.filter((c) => c.status === 'fail');
const explain = (result: ConformanceResult) => formatConformanceTable(result);

describe(`each gap is one root cause and nothing else (seed ${SEED})`, () => {
  it('UUID ids: one cause, "ids are not integers", from the id check and the cases that write ids literally', { timeout: 120_000 }, async () => {
    const result = await suite(['uuid-ids']);
    expect(result.causes.map((c) => c.title), explain(result)).toEqual(['ids are not integers']);
    expect(result.checks.find((c) => c.id === 'producer/put/integer-ids')).toMatchObject({ status: 'fail', actual: expect.stringMatching(/^INSERTED [0-9a-f]{8}-/) });
    // Ids are opaque to everything else: the basic cases and every property pass.
    expect(result.checks.find((c) => c.id === 'producer/put/basic-inserted-and-peek')?.status).toBe('pass');
    expect(result.checks.filter((c) => c.id.includes('/property-') && c.status !== 'pass').map((c) => c.id)).toEqual([]);
    expect(result.failed).toBeLessThan(40);
  });

  it('UUID ids and a TTR that never expires: the TTR difference is its own cause, found by the corpus and the properties', { timeout: 120_000 }, async () => {
    const result = await suite(['uuid-ids'], ['ttr-never-expires']);
    const other = failing(result).filter((c) => c.cause !== 'ids');
    expect(other.some((c) => /ttr|timing/.test(c.id)), explain(result)).toBe(true);
    expect(other.some((c) => c.id.includes('/property-')), explain(result)).toBe(true);
    expect(result.causes[0].title).toBe('ids are not integers');
  });

  it.each([
    ['no-peek', /^needs peek/, ['peek/peek/every-state', 'missing:peek']],
    ['no-list', /^needs list-/, ['tubes/list-tubes/basic-garbage-collected', 'missing:list-tubes']],
    ['no-stats', /^needs stats$/, ['stats/counters/property-stats-counters', 'missing:stats']],
  ] as const)('%s: the checks about it fail as "not implemented", the ones that use it are not checked', { timeout: 120_000 }, async (gap, reason, [about, cause]) => {
    const result = await suite([gap]);
    expect(result.causes.every((c) => GAP_CAUSE[gap](c.key)), explain(result)).toBe(true);
    expect(result.checks.find((c) => c.id === about)).toMatchObject({ status: 'fail', cause });
    expect(result.notChecked).toBeGreaterThan(0);
    for (const c of result.checks.filter((c) => c.status === 'not-checked')) expect(c.actual, c.id).toMatch(reason);
  });

  it('stats cached for 500 ms: the close, producer and worker-count cases say "stats lag behind the commands"', { timeout: 120_000 }, async () => {
    const result = await suite(['stats-cache']);
    expect(result.causes.map((c) => c.title), explain(result)).toEqual(['stats lag behind the commands']);
    const lagging = result.causes[0].checks;
    for (const id of ['connections/close/producer-and-worker-counts', 'worker/reserve/marks-worker', 'producer/put/marks-producer']) {
      expect(lagging, id).toContain(id);
    }
    expect(result.checks.find((c) => c.id === 'connections/close/producer-and-worker-counts')?.actual).toMatch(/1000 ms later as expected/);
  });

  it('an extra stats field is an extension: a warning, not a failure', { timeout: 120_000 }, async () => {
    const result = await suite(['extra-stats-field']);
    expect(result.failed, explain(result)).toBe(0);
    expect(result.checks.find((c) => c.id === 'stats/stats/field-names')).toMatchObject({
      status: 'pass',
      warnings: ['extension: stats has a field beanstalkd does not send: cmd-truncate'],
    });
    expect(explain(result)).toMatch(/^warnings \(extensions beanstalkd does not have; not failures\):\n {2}stats\/stats\/field-names: extension: .*cmd-truncate$/m);
  });
});

/**
 * The checks relevant to `fault` (RELEVANT) against the embedded server with the fault behind
 * `gap`, after the probe, as `conform` runs them: a fault counts as caught only by one of them
 * (faults.test.ts holds the same without a gap), so the rest of the suite need not run here.
 */
async function relevantChecks(gap: Gap, fault: string): Promise<CheckResult[]> {
  const target = gapTarget(embeddedTarget([{ name: fault }]), [gap]);
  const capabilities = await probeCapabilities(target, { profile: '1.12', tube: 'probe', replyTimeoutMs: 2000 });
  const relevant = RELEVANT[fault];
  const cases = corpus.filter((c) => relevant.test(c.id));
  const properties = PROPERTIES.filter((p) => relevant.test(p.id));
  const [fromCorpus, ...fromProperties] = await Promise.all([
    runCorpus(cases, target, { profile: '1.12', concurrency: 8, capabilities }),
    ...properties.map((p) =>
      runProperties(target, { profile: '1.12', seed: SEED, numRuns: 8, maxCommands: 15, timeLimitMs: 9000, concurrency: 1, exclusive: false, tubeNonce: 'g', maxJobSize: 65535, only: p.id, capabilities }),
    ),
  ]);
  return [integerIdsCheck(capabilities), ...fromCorpus, ...fromProperties.flat()];
}

describe(`behind every gap, every fault is still caught (seed ${SEED})`, () => {
  for (const gap of Object.keys(GAPS) as Gap[]) {
    it(`gap ${gap}: ${MUTANTS.length} of ${MUTANTS.length} faults caught by a relevant check, as a cause of their own`, { timeout: 300_000 }, async () => {
      const missed: string[] = [];
      let next = 0;
      // A few faults at a time: the runs mostly wait on timers, but each holds many connections.
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          for (let i = next++; i < MUTANTS.length; i = next++) {
            const fault = MUTANTS[i];
            const checks = await relevantChecks(gap, fault);
            const failed = checks.filter((c) => c.status === 'fail');
            if (!failed.some((c) => RELEVANT[fault].test(c.id) && !GAP_CAUSE[gap](c.cause?.key ?? ''))) {
              missed.push(`${fault}: ${failed.map((c) => `${c.id} (${c.cause?.title})`).join('; ') || 'no relevant check failed'}`);
            }
          }
        }),
      );
      expect(missed, `faults missed behind gap ${gap}`).toEqual([]);
    });
  }
});

describeWithBeanstalkd('a UUID-id server in front of beanstalkd 1.12', (binary) => {
  it('conform --target prints at most 80 lines, the id cause first', { timeout: 120_000 }, async () => {
    const server = await spawnBeanstalkd({ binary });
    const session = await addressTarget(server).open({ profile: '1.12' });
    const proxy = await startGapProxy(session, ['uuid-ids'], '1.12', 65535);
    try {
      let text = '';
      const code = await runConform(
        { profile: '1.12', concurrency: 4, quick: true, seed: SEED, exclusive: true, target: `127.0.0.1:${proxy.address.port}`, replayDir: 'reports/test-replays' },
        (t) => (text += t),
      );
      expect(code, text).toBe(1);
      const lines = text.trimEnd().split('\n');
      expect(lines.length, text).toBeLessThanOrEqual(80);
      for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(100);
      const firstCause = lines.findIndex((l) => l.startsWith('causes of the'));
      expect(lines[firstCause + 1], text).toMatch(/^ +\d+ {2}ids are not integers: FAIL producer\/put\/integer-ids/);
      expect(text).toMatch(/^probe: ids are not integers \(INSERTED [0-9a-f]{8}-/m);
    } finally {
      await proxy.close();
      await session.close();
      await server.stop();
    }
  });
});
