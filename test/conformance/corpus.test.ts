// The whole transcript corpus, one test per case per target: the model on the virtual clock
// (both profiles), the embedded TCP server, and a real beanstalkd 1.12 spawned per case, without
// and with a binlog (-b on a fresh directory for every case, as `conform --spawn` with {binlog}).
import { describe, expect, it } from 'vitest';
import { loadCorpus } from '../../src/conformance/corpus.js';
import { runCase, skipReason } from '../../src/conformance/corpus-runner.js';
import type { Profile } from '../../src/protocol/types.js';
import { embeddedTarget } from '../../src/target/embedded.js';
import { beanstalkdTarget, spawnTarget, type TargetFactory } from '../../src/target/sessions.js';
import { virtualTarget } from '../../src/target/virtual.js';
import { describeWithBeanstalkd } from '../helpers/beanstalkd.js';

const cases = loadCorpus();

function corpusTests(target: TargetFactory, profile: Profile): void {
  if (!target.canPersist) {
    // Not one vitest skip per binlog case: one test that they are skipped, and why.
    const persistent = cases.filter((c) => c.server.binlog);
    it(`skips the ${persistent.length} binlog cases, saying why`, () => {
      expect(persistent.length).toBeGreaterThan(0);
      for (const c of persistent) expect(skipReason(c, target, profile), c.id).toMatch(/needs a binlog \(beanstalkd -b\) and a restart/);
    });
  }
  for (const c of cases) {
    if (c.server.binlog && !target.canPersist) continue;
    const reason = skipReason(c, target, profile);
    it.skipIf(reason !== undefined)(c.id, async () => {
      const result = await runCase(c, target, { profile });
      expect(result.status, `${c.file}:${c.line}\n  expected: ${result.expected}\n  actual:   ${result.actual}`).toBe('pass');
    });
  }
}

describe.concurrent('corpus on the model (virtual clock), profile 1.12', () => corpusTests(virtualTarget(), '1.12'));
describe.concurrent('corpus on the model (virtual clock), profile 1.13', () => corpusTests(virtualTarget(), '1.13'));
describe.concurrent('corpus on the embedded TCP server, profile 1.12', () => corpusTests(embeddedTarget(), '1.12'));
describeWithBeanstalkd('corpus on beanstalkd, profile 1.12', (binary) => {
  describe.concurrent('cases', () => corpusTests(beanstalkdTarget(binary), '1.12'));
});
describeWithBeanstalkd('corpus on beanstalkd -b (every case with a binlog), profile 1.12', (binary) => {
  describe.concurrent('cases', () => corpusTests(spawnTarget(`${binary} -b {binlog} -l 127.0.0.1 -p {port}`), '1.12'));
});
