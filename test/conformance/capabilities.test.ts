// The capability probe and what the corpus does with it: which command a case is about (its
// failure is then that command's absence) and which it only uses as a helper (`not checked`),
// and which cases write job ids literally (on a server with other ids, that is their cause).
import { describe, expect, it } from 'vitest';
import { embeddedTarget } from '../../src/target/embedded.js';
import {
  BEANSTALKD_CAPABILITIES,
  integerIdsCheck,
  notCheckedReason,
  probeCapabilities,
  subjectCommands,
  usesLiteralIds,
  type Capabilities,
} from '../../src/conformance/capabilities.js';
import { loadCorpus } from '../../src/conformance/corpus.js';
import { runCase } from '../../src/conformance/corpus-runner.js';
import { parseTranscript } from '../../src/conformance/transcript.js';
import { gapTarget } from '../helpers/gap-server.js';

const corpus = loadCorpus();
const byId = (id: string) => corpus.find((c) => c.id === id)!;
const probe = (target = embeddedTarget()) => probeCapabilities(target, { profile: '1.12', tube: 'probe', replyTimeoutMs: 2000 });

describe('probeCapabilities', () => {
  it('finds nothing missing and integer ids on the embedded server', async () => {
    expect(await probe()).toEqual({ missing: [], integerIds: true, idExample: '1' });
  });

  it.each([
    ['no-peek', ['peek', 'peek-ready', 'peek-delayed', 'peek-buried']],
    ['no-list', ['list-tubes', 'list-tube-used', 'list-tubes-watched']],
    ['no-stats', ['stats']],
  ] as const)('finds what a server with gap %s lacks', async (gap, missing) => {
    const caps = await probe(gapTarget(embeddedTarget(), [gap]));
    expect(caps).toMatchObject({ missing, integerIds: true });
  });

  it('finds ids that are not integers, and keeps one as the example', async () => {
    const caps = await probe(gapTarget(embeddedTarget(), ['uuid-ids']));
    expect(caps.missing).toEqual([]);
    expect(caps.integerIds).toBe(false);
    expect(caps.idExample).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(integerIdsCheck(caps)).toMatchObject({ id: 'producer/put/integer-ids', status: 'fail', cause: { key: 'ids', title: 'ids are not integers' } });
    expect(integerIdsCheck(BEANSTALKD_CAPABILITIES).status).toBe('pass');
  });

  it('assumes nothing is missing when even `use` fails (every check then fails on its own)', async () => {
    const broken = { ...embeddedTarget(), open: async () => Promise.reject(new Error('down')) };
    expect(await probe(broken)).toEqual(BEANSTALKD_CAPABILITIES);
  });
});

describe('what a case is about', () => {
  it('is the last command named in its section, with the commands that extend it', () => {
    expect([...subjectCommands('peek/peek/every-state')]).toEqual(['peek', 'peek-ready', 'peek-delayed', 'peek-buried']);
    expect([...subjectCommands('stats/stats-job/basic-ready-job')]).toEqual(['stats-job']);
    expect([...subjectCommands('stats/counters/property-stats-counters')].sort()).toEqual(['stats', 'stats-job', 'stats-tube']);
    expect([...subjectCommands('tubes/list-tubes/x')]).toEqual(['list-tubes', 'list-tubes-watched']);
    expect([...subjectCommands('connections/close/x')]).toEqual([]);
  });

  it('a helper command the server lacks makes the case not checked; its own command does not', () => {
    const noPeek: Capabilities = { missing: ['peek', 'peek-ready', 'peek-delayed', 'peek-buried'], integerIds: true };
    const helper = byId('worker/delete/reserved-by-self');
    expect(notCheckedReason(helper, noPeek, '1.12')).toBe('needs peek');
    expect(notCheckedReason(byId('producer/put/basic-inserted-and-peek'), noPeek, '1.12')).toBe('needs peek');
    for (const c of corpus.filter((c) => c.section.startsWith('peek/'))) expect(notCheckedReason(c, noPeek, '1.12'), c.id).toBeUndefined();
    expect(notCheckedReason(helper, BEANSTALKD_CAPABILITIES, '1.12')).toBeUndefined();
  });
});

describe('usesLiteralIds', () => {
  const one = (steps: string) => parseTranscript(`case a/b/c\nrule: r\nsource: s\n${steps}\n`, 'x.txt')[0];
  it.each([
    ['A> peek 1\nA< NOT_FOUND', true],
    ['A> put 0 0 10 1\\r\\nx\nA< INSERTED 1', true],
    ['A> put 0 0 10 1\\r\\nx\nA< INSERTED $a\nA> peek 00$a\nA< FOUND $a 1\\r\\nx', true],
    ['A> put 0 0 10 1\\r\\nx\nA< INSERTED $a\nA> stats-job $a\nA< map id=1', true],
    ['A> put 0 0 10 1\\r\\nx\nA< INSERTED $a\nA> peek $a\nA< FOUND $a 1\\r\\nx\nA> delete $a\nA< DELETED', false],
    ['A> put 0 0 10 10\\r\\npeek 1\\r\\nab\nA< INSERTED $a', false],
    ['A> kick 1\nA< KICKED 0', false],
  ])('%j → %s', (steps, expected) => {
    expect(usesLiteralIds(one(steps))).toBe(expected);
  });
});

describe('a case about a missing command fails as that cause; a helper case is not checked', () => {
  it('runs both kinds against a server without peek', async () => {
    const target = gapTarget(embeddedTarget(), ['no-peek']);
    const capabilities = await probe(target);
    const about = await runCase(byId('peek/peek/every-state'), target, { profile: '1.12', capabilities });
    expect(about).toMatchObject({ status: 'fail', cause: { key: 'missing:peek', title: 'peek not implemented' } });
    const helper = await runCase(byId('producer/put/basic-inserted-and-peek'), target, { profile: '1.12', capabilities });
    expect(helper).toMatchObject({ status: 'not-checked', actual: 'needs peek' });
  });
});
