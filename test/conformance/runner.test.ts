// The runner itself: it must report FAIL with expected and actual when a case is wrong, bind
// and check job ids, bound every wait, skip what a target cannot do, and catch timing hazards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCase, runCorpus, type RunOptions } from '../../src/conformance/corpus-runner.js';
import { parseTranscript } from '../../src/conformance/transcript.js';
import { embeddedTarget, startEmbedded, type EmbeddedServer } from '../../src/target/embedded.js';
import { loadCorpus } from '../../src/conformance/corpus.js';
import { addressTarget, beanstalkdTarget, spawnTarget, type Session, type TargetFactory } from '../../src/target/sessions.js';
import { virtualTarget } from '../../src/target/virtual.js';
import { describeWithBeanstalkd } from '../helpers/beanstalkd.js';

const opts: RunOptions = { profile: '1.12' };
const caseOf = (steps: string, extraHeader = '') =>
  parseTranscript(`case test/runner/x\nrule: the rule\nsource: test\n${extraHeader}${steps}\n`, 't.txt')[0];

const wrongPut = caseOf('A> put 0 0 10 2\\r\\nhi\nA< INSERTED $a\nA> peek $a\nA< FOUND $a 2\\r\\nho');

describe('runCase on the model (virtual clock)', () => {
  const target = virtualTarget();

  it('passes a correct case', async () => {
    const result = await runCase(caseOf('A> put 0 0 10 2\\r\\nhi\nA< INSERTED $a\nA> peek $a\nA< FOUND $a 2\\r\\nhi'), target, opts);
    expect(result).toMatchObject({ status: 'pass', expected: '', actual: '' });
  });

  it('reports a wrong expectation as FAIL with the step, the bound id and what came instead', async () => {
    const result = await runCase(wrongPut, target, { ...opts, replayArgs: '--target 127.0.0.1:11300' });
    expect(result).toMatchObject({
      id: 'test/runner/x',
      section: 'test/runner',
      status: 'fail',
      rule: 'the rule',
      expected: 'line 7: A< FOUND 1 2\\r\\nho',
      actual: 'FOUND 1 2\\r\\nhi',
    });
    expect(result.replay).toBe(
      `beanlab conform --only test/runner/x --profile 1.12 --target 127.0.0.1:11300\n${wrongPut.sourceText}`,
    );
  });

  it('checks a bound id: the second INSERTED cannot match $a again', async () => {
    const result = await runCase(caseOf('A> put 0 0 10 0\\r\\n\nA< INSERTED $a\nA> put 0 0 10 0\\r\\n\nA< INSERTED $a'), target, opts);
    expect(result).toMatchObject({ status: 'fail', expected: 'line 7: A< INSERTED 1', actual: 'INSERTED 2' });
  });

  it('shows the listed fields of a map that does not match', async () => {
    const result = await runCase(caseOf('A> put 5 0 10 0\\r\\n\nA< INSERTED $a\nA> stats-job $a\nA< map id=$a pri=6 nosuch=1'), target, opts);
    expect(result).toMatchObject({ status: 'fail', actual: 'map id=1 pri=5 nosuch=(missing)' });
  });

  it('compares sets regardless of order and reports a different set', async () => {
    const pass = await runCase(caseOf('A> watch b\nA< WATCHING 2\nA> list-tubes-watched\nA< set b default'), target, opts);
    expect(pass.status).toBe('pass');
    const fail = await runCase(caseOf('A> watch b\nA< WATCHING 2\nA> list-tubes-watched\nA< set b'), target, opts);
    expect(fail).toMatchObject({ status: 'fail', actual: 'OK 18\\r\\n---\\n- default\\n- b\\n' });
  });

  it('requires a timed reply to be there already: no sleep past the deadline is a failure', async () => {
    const result = await runCase(caseOf('A> reserve-with-timeout 1\nA< TIMED_OUT'), target, opts);
    expect(result.status).toBe('fail');
    expect(result.actual).toMatch(/^no reply yet \(virtual clock/);
  });

  it('reports an observation within 250 ms of a deadline as a timing hazard', async () => {
    const late = await runCase(caseOf('A> reserve-with-timeout 1\nsleep 1.1s\nA< TIMED_OUT'), target, opts);
    expect(late.status).toBe('fail');
    expect(late.actual).toMatch(/an event fired at t=1\.000s, only 100 ms before the observation at t=1\.100s/);
    const early = await runCase(caseOf('A> reserve-with-timeout 1\nA< nothing 850ms\nsleep 0.3s\nA< TIMED_OUT'), target, opts);
    expect(early.actual).toMatch(/an event is due at t=1\.000s, only 150 ms after the observation at t=0\.850s/);
  });

  it('lets any connection of a group take the reply and names it with the alias', async () => {
    const c = caseOf('A> reserve\nB> reserve\nC> put 0 0 10 1\\r\\nx\nC< INSERTED $a\nw=A|B< RESERVED $a 1\\r\\nx\nw> release $a 0 0\nw< RELEASED\nA|B< RESERVED $a 1\\r\\nx');
    expect((await runCase(c, target, opts)).status).toBe('pass');
  });

  it('names every connection of a group that did not match', async () => {
    const result = await runCase(caseOf('A> list-tube-used\nA|B< USING other'), target, opts);
    expect(result).toMatchObject({ status: 'fail', actual: 'A: USING default; B: no reply yet (virtual clock: a timed reply needs a sleep past its deadline first)' });
  });

  it('detects a connection closed by the server, and a missing close', async () => {
    expect((await runCase(caseOf('A> quit\nA< closed'), target, opts)).status).toBe('pass');
    expect(await runCase(caseOf('A> stats-tube default\nA< closed'), target, opts)).toMatchObject({ status: 'fail' });
    expect(await runCase(caseOf('A> quit\nA< UNKNOWN_COMMAND'), target, opts)).toMatchObject({ status: 'fail', actual: 'closed' });
  });

  it('fails a "nothing" step when a reply arrives', async () => {
    const result = await runCase(caseOf('A> list-tube-used\nA< nothing 300ms'), target, opts);
    expect(result).toMatchObject({ status: 'fail', expected: 'line 5: A< nothing 300ms', actual: 'USING default' });
  });

  it('applies [profile] steps only under that profile', async () => {
    const c = caseOf('A> reserve-with-timeout abc\n[1.12] A< TIMED_OUT\n[1.13] A< BAD_FORMAT');
    expect((await runCase(c, target, { profile: '1.12' })).status).toBe('pass');
    expect((await runCase(c, target, { profile: '1.13' })).status).toBe('pass');
  });

  it('gives every case a fresh server and keeps result order under concurrency', async () => {
    const cases = ['a', 'b', 'c', 'd', 'e'].map((name) =>
      parseTranscript(`case test/fresh/${name}\nrule: r\nsource: s\nneeds: fresh\nA> put 0 0 10 0\\r\\n\nA< INSERTED 1\n`, 't.txt')[0],
    );
    const results = await runCorpus(cases, target, { ...opts, concurrency: 3, only: 'test/fresh/' });
    expect(results.map((r) => [r.id, r.status])).toEqual(cases.map((c) => [c.id, 'pass']));
  });
});

describe('skipping', () => {
  const shared = addressTarget({ host: '127.0.0.1', port: 1 });
  it.each([
    ['profiles: 1.13\n', 'A> list-tube-used', 'only for profile 1.13'],
    ['', 'signal usr1\nA> list-tube-used', 'needs SIGUSR1, which 127.0.0.1:1 cannot receive'],
    ['server: max-job-size 5\n', 'A> list-tube-used', 'needs server option max-job-size 5: run with --spawn and -z {max_job_size} in the command'],
    ['needs: fresh\n', 'A> list-tube-used', 'needs a fresh server'],
    ['needs: fresh\n', 'A> stats', 'compares global stats, which other clients of a shared server change'],
  ])('skips %j on a shared host:port target without connecting', async (header, steps, reason) => {
    expect(await runCase(caseOf(steps, header), shared, opts)).toMatchObject({ status: 'skip', actual: reason });
  });
});

describe('runCase over TCP (embedded server)', () => {
  const target = embeddedTarget();

  it('reports FAIL for a wrong expectation', async () => {
    expect(await runCase(wrongPut, target, opts)).toMatchObject({ status: 'fail', actual: 'FOUND 1 2\\r\\nhi' });
  });

  it('waits at most replyTimeoutMs for a reply that never comes', async () => {
    const result = await runCase(caseOf('A> reserve\nA< TIMED_OUT'), target, { ...opts, replyTimeoutMs: 200 });
    expect(result).toMatchObject({ status: 'fail', actual: 'no reply within 200 ms' });
  });

  it('bounds the whole case', async () => {
    const result = await runCase(caseOf('A> reserve\nA< TIMED_OUT'), target, { ...opts, replyTimeoutMs: 5000, caseSlackMs: 300 });
    expect(result).toMatchObject({ status: 'fail', expected: 'the case to finish', actual: 'still running after 300 ms' });
  });

  it('fails every case, without hanging, when the target cannot be reached', async () => {
    const result = await runCase(caseOf('A> list-tube-used'), addressTarget({ host: '127.0.0.1', port: 1 }), opts);
    expect(result.status).toBe('fail');
    expect(result.actual).toMatch(/cannot connect to 127\.0\.0\.1:1/);
  });
});

describeWithBeanstalkd('runCase on a real beanstalkd', (binary) => {
  it('reports FAIL for a wrong expectation', async () => {
    expect(await runCase(wrongPut, beanstalkdTarget(binary), opts)).toMatchObject({
      status: 'fail',
      expected: 'line 7: A< FOUND 1 2\\r\\nho',
      actual: 'FOUND 1 2\\r\\nhi',
    });
  });
});

/**
 * A busy machine as the runner sees it: the first `lateSessions` sessions' sleeps end
 * `lateByMs` late (a timer fired late, the event loop or the process was held up).
 */
function lateTarget(inner: TargetFactory, lateSessions: number, lateByMs: number): TargetFactory & { opened: () => number } {
  let opened = 0;
  return {
    ...inner,
    opened: () => opened,
    open: async (settings) => {
      const session = await inner.open(settings);
      const late = opened++ < lateSessions;
      return Object.assign(Object.create(session) as Session, {
        sleep: (ms: number) => session.sleep(late ? ms + lateByMs : ms),
      });
    },
  };
}

describeWithBeanstalkd('runCase when the machine is too busy to keep a case\'s schedule', (binary) => {
  // Released with delay 1, looked at 0.7 s later (TIMED_OUT), then 1.3 s later (RESERVED).
  const delayed = loadCorpus().find((c) => c.id === 'worker/release/delayed-job-becomes-ready')!;

  it('runs a case whose failing observation came late again, and passes it when the timing holds', async () => {
    const target = lateTarget(beanstalkdTarget(binary), 1, 400);
    expect(await runCase(delayed, target, opts)).toMatchObject({ status: 'pass' });
    expect(target.opened()).toBe(2);
  });

  it('says so when every attempt was late', async () => {
    const target = lateTarget(beanstalkdTarget(binary), 99, 400);
    const result = await runCase(delayed, target, opts);
    expect(result).toMatchObject({ status: 'fail', expected: 'line 40: A< TIMED_OUT' });
    expect(result.actual).toMatch(/^RESERVED \d+ 1\\r\\na \(observed \d+ ms behind the case's schedule, in each of 3 attempts: the machine is too busy/);
  });

  it('does not run a failure seen on time again', async () => {
    const target = lateTarget(beanstalkdTarget(binary), 0, 0);
    expect(await runCase(wrongPut, target, opts)).toMatchObject({ status: 'fail', actual: 'FOUND 1 2\\r\\nhi' });
    expect(target.opened()).toBe(1);
  });
});

describe('runCase on a spawned server that dies', () => {
  // A server without a SIGUSR1 handler (a fork without drain mode) dies on the signal: perl's
  // default action, as a C server's. perl-base is in every Debian system.
  const server = `perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => shift, Listen => 5, ReuseAddr => 1) or die "listen: $!"; 1 while $s->accept' {port}`;

  it("reports the server's end and the step it came after, not the refused connection", async () => {
    const drain = loadCorpus().find((c) => c.id === 'producer/put/basic-draining')!;
    const result = await runCase(drain, spawnTarget(server), opts);
    expect(result).toMatchObject({ status: 'fail', actual: "server exited on SIGUSR1 after 'signal usr1'" });
  });

  it('keeps the reply as the actual when the server is alive', async () => {
    const result = await runCase(caseOf('A> put 0 0 10 1\\r\\nx\nA< INSERTED $a'), spawnTarget(server), { ...opts, replyTimeoutMs: 300 });
    expect(result).toMatchObject({ status: 'fail', actual: 'closed' });
  });
});

describe('runCase on a shared server (host:port)', () => {
  let server: EmbeddedServer;
  beforeAll(async () => {
    server = await startEmbedded();
  });
  afterAll(() => server.stop());

  it('gives each case its own default tube and shows names as written in failures', async () => {
    const shared = addressTarget(server);
    const put = caseOf('A> put 0 0 10 1\\r\\nx\nA< INSERTED $a\nB> reserve-with-timeout 0\nB< RESERVED $a 1\\r\\nx');
    expect(await runCase(put, shared, opts, 'bltest000001_')).toMatchObject({ status: 'pass' });
    // Another case on the same server has a default of its own, without that job.
    const empty = caseOf('A> reserve-with-timeout 0\nA< TIMED_OUT\nA> stats-tube default\nA< map name=default current-jobs-ready=0');
    expect(await runCase(empty, shared, opts, 'bltest000002_')).toMatchObject({ status: 'pass' });
    const wrong = await runCase(caseOf('A> use t1\nA< USING t2'), shared, opts, 'bltest000003_');
    expect(wrong).toMatchObject({ status: 'fail', expected: 'line 5: A< USING t2', actual: 'USING t1' });
  });
});
