// The closed-pipeline cases check what a server does after a client closes with commands still
// pipelined. Through a proxy (a container's published port, a forwarder) the close reaches the
// server as a half-close, after which beanstalkd itself rightly goes on answering: the cases run
// where beanlab owns the connection to the server and are skipped, with the reason, where it may not.
import { describe, expect, it } from 'vitest';
import { loadCorpus } from '../../src/conformance/corpus.js';
import { runCorpus } from '../../src/conformance/corpus-runner.js';
import { beanstalkdTarget } from '../../src/target/sessions.js';
import { describeWithBeanstalkd } from '../helpers/beanstalkd.js';
import { gapTarget } from '../helpers/gap-server.js';

const cases = loadCorpus().filter((c) => c.id.startsWith('connections/close/pipelined-'));

describeWithBeanstalkd('closed-pipeline cases and proxies', (binary) => {
  it('are found in the corpus and marked as needing a direct connection', () => {
    expect(cases.map((c) => c.id).sort()).toEqual(['connections/close/pipelined-delete-not-run', 'connections/close/pipelined-put-not-run']);
    expect(cases.every((c) => c.needsDirect)).toBe(true);
  });

  it('pass on beanstalkd reached directly', { timeout: 30_000 }, async () => {
    const results = await runCorpus(cases, beanstalkdTarget(binary), { profile: '1.12' });
    expect(results.map((r) => [r.id, r.status])).toEqual(cases.map((c) => [c.id, 'pass']));
  });

  it('are skipped, not failed, on beanstalkd behind a proxy that passes a close on as a half-close', { timeout: 30_000 }, async () => {
    const results = await runCorpus(cases, gapTarget(beanstalkdTarget(binary), []), { profile: '1.12' });
    for (const r of results) {
      expect(r.status, `${r.id}: ${r.actual}`).toBe('skip');
      expect(r.actual).toMatch(/needs a direct connection/);
    }
  });
});
