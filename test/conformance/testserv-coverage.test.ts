// The corpus covers beanstalkd's own test suite: every testserv.c test is the `source:` of a
// corpus case, or is listed as not covered with its reason (and then no case claims it).
import { describe, expect, it } from 'vitest';
import { loadCorpus } from '../../src/conformance/corpus.js';
import { COVERED_OVER_UNIX_SOCKET, COVERED_WITH_BINLOG, NOT_COVERED, TESTSERV_TESTS, notCoveredSummary } from '../../src/conformance/testserv.js';

const corpus = loadCorpus();
const claimed = (test: string) => corpus.filter((c) => /testserv\.c/.test(c.source) && new RegExp(`\\b${test}\\b`).test(c.source)).map((c) => c.id);

describe('testserv.c coverage', () => {
  it('lists the 63 tests of testserv.c', () => {
    expect(TESTSERV_TESTS).toHaveLength(63);
    expect(new Set(TESTSERV_TESTS).size).toBe(63);
  });

  for (const test of TESTSERV_TESTS) {
    const elsewhere = NOT_COVERED[test] ?? COVERED_OVER_UNIX_SOCKET[test];
    if (elsewhere) {
      it(`${test}: ${elsewhere}; no corpus case claims it`, () => expect(claimed(test)).toEqual([]));
    } else {
      it(`${test}: covered by a corpus case`, () => expect(claimed(test).length, `no corpus case has source: testserv.c ${test}`).toBeGreaterThan(0));
    }
  }

  it('puts no test both among the not covered and among those covered over a socket', () => {
    for (const test of Object.keys(COVERED_OVER_UNIX_SOCKET)) expect(NOT_COVERED[test as keyof typeof NOT_COVERED]).toBeUndefined();
    expect(Object.keys(COVERED_OVER_UNIX_SOCKET).sort()).toEqual(['peek_ok_unix', 'unix_auto_removal']);
  });

  it('names in every source line are real testserv.c tests', () => {
    const known = new Set<string>(TESTSERV_TESTS);
    for (const c of corpus) {
      const m = /testserv\.c\s+([a-z0-9_]+(?:\s*,\s*[a-z0-9_]+)*)/.exec(c.source);
      if (!m) continue;
      for (const name of m[1].split(/\s*,\s*/)) expect(known.has(name), `${c.id}: source names unknown test ${name}`).toBe(true);
    }
  });

  it('covers the binlog tests it claims with persistence cases that need a binlog', () => {
    for (const test of COVERED_WITH_BINLOG) {
      const cases = corpus.filter((c) => /testserv\.c/.test(c.source) && new RegExp(`\\b${test}\\b`).test(c.source));
      expect(cases.length, test).toBeGreaterThan(0);
      for (const c of cases) expect(c.server.binlog, c.id).toBe(true);
    }
  });

  it('summarises what a target leaves out, for the reports', () => {
    const onDisk = /^2 testserv\.c tests \(binlog_size_limit, binlog_allocation\): binlog file sizes on disk/m;
    const tcp = notCoveredSummary({ unixSocket: false, restartable: false, binlog: false }).join('\n');
    expect(tcp).toMatch(onDisk);
    expect(tcp).toMatch(/^2 testserv\.c tests \(peek_ok_unix, unix_auto_removal\): UNIX-domain sockets; this target is TCP/m);
    expect(tcp).toMatch(/^4 testserv\.c tests \(binlog_empty_exit, binlog_basic, binlog_read, binlog_bury\): a binlog and a restart/m);
    const shared = notCoveredSummary({ unixSocket: true, restartable: false, binlog: false }).join('\n');
    expect(shared).toMatch(/^1 testserv\.c test \(unix_auto_removal\): a restart on a stale socket file/m);
    expect(shared).not.toMatch(/peek_ok_unix/);
    const all = notCoveredSummary({ unixSocket: true, restartable: true, binlog: true });
    expect(all).toEqual([
      '2 testserv.c tests (binlog_size_limit, binlog_allocation): binlog file sizes on disk, not the protocol',
      '2 testserv.c tests (binlog_disk_full, binlog_disk_full_delete): a disk that fills up, which testserv.c fakes inside the server',
      '1 testserv.c test (binlog_v5): a binlog written by beanstalkd 1.4.6',
    ]);
  });
});
