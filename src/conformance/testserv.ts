// beanstalkd's own C test suite, testserv.c (63 tests; docs/semantics.md, section e), and where a
// conformance run covers each one. Most are named in the `source:` line of a corpus case; four
// binlog tests are too (corpus/persistence.txt), but only a target with a binlog runs those. The
// two UNIX-socket tests are covered by how a run reaches its target (over a socket; started twice
// on one path). Five binlog tests look at files on disk or a full disk, not the protocol, and are
// not covered; every whole-suite report lists what its targets leave out.
import { STALE_SOCKET_CHECK_ID } from './unix-socket.js';

/** Every testserv.c test, in the file's order. */
export const TESTSERV_TESTS = [
  'unknown_command', 'too_long_commandline', 'put_in_drain', 'peek_ok', 'peek_not_found', 'peek_ok_unix',
  'unix_auto_removal', 'peek_bad_format', 'peek_delayed', 'peek_buried_kick', 'touch_bad_format', 'touch_not_found',
  'bury_bad_format', 'kickjob_bad_format', 'kickjob_buried', 'kickjob_delayed', 'pause', 'underscore', '2cmdpacket',
  'too_big', 'job_size_invalid', 'job_size_max_plus_1', 'delete_ready', 'delete_reserved_by_other', 'delete_bad_format',
  'multi_tube', 'negative_delay', 'garbage_priority', 'negative_priority', 'max_priority', 'too_big_priority',
  'omit_time_left', 'small_delay', 'delayed_to_ready', 'statsjob_ck_format', 'stats_tube', 'ttrlarge', 'ttr_small',
  'zero_delay', 'reserve_with_timeout_2conns', 'reserve_ttr_deadline_soon', 'reserve_job_ttr_deadline_soon',
  'reserve_job_already_reserved', 'reserve_job_ready', 'reserve_job_delayed', 'reserve_job_buried',
  'release_bad_format', 'release_not_found', 'close_releases_job', 'quit_releases_job', 'unpause_tube', 'list_tube',
  'use_tube_long', 'longest_command', 'binlog_empty_exit', 'binlog_bury', 'binlog_basic', 'binlog_size_limit',
  'binlog_allocation', 'binlog_read', 'binlog_disk_full', 'binlog_disk_full_delete', 'binlog_v5',
] as const;

export type TestservTest = (typeof TESTSERV_TESTS)[number];

/** The testserv.c tests no conformance run covers, and why. */
export const NOT_COVERED: Partial<Record<TestservTest, string>> = {
  binlog_size_limit: 'binlog file sizes on disk, not the protocol',
  binlog_allocation: 'binlog file sizes on disk, not the protocol',
  binlog_disk_full: 'a disk that fills up, which testserv.c fakes inside the server',
  binlog_disk_full_delete: 'a disk that fills up, which testserv.c fakes inside the server',
  binlog_v5: 'a binlog written by beanstalkd 1.4.6',
};

/** The testserv.c tests a run covers only over a UNIX-domain socket, and how. */
export const COVERED_OVER_UNIX_SOCKET: Partial<Record<TestservTest, string>> = {
  peek_ok_unix: 'every corpus case (peek_ok among them) runs over the socket when the target is unix:PATH or a {socket} command',
  unix_auto_removal: `the check ${STALE_SOCKET_CHECK_ID} starts a {socket} command twice on one path`,
};

/** The testserv.c tests covered by the persistence cases, which need a server with a binlog. */
export const COVERED_WITH_BINLOG: readonly TestservTest[] = ['binlog_empty_exit', 'binlog_basic', 'binlog_read', 'binlog_bury'];

/** What a run's target lets it cover. */
export interface TargetCoverage {
  /** The target is reached over a UNIX-domain socket. */
  unixSocket: boolean;
  /** beanlab starts it (--spawn with {socket}), so it can be killed and started again on one path. */
  restartable: boolean;
  /** It runs with a binlog and can be restarted on it (the embedded server, beanstalkd -b, --spawn with {binlog}). */
  binlog: boolean;
}

/** One line per reason, for the reports: "5 testserv.c tests (binlog_size_limit, ...): ...". */
export function notCoveredSummary(coverage: TargetCoverage): string[] {
  const byReason = new Map<string, string[]>();
  const add = (test: string, reason: string) => byReason.set(reason, [...(byReason.get(reason) ?? []), test]);
  if (!coverage.unixSocket) {
    const how = "run with --spawn 'beanstalkd -l unix:{socket}' (or --target unix:PATH for peek_ok_unix)";
    add('peek_ok_unix', `UNIX-domain sockets; this target is TCP: ${how}`);
    add('unix_auto_removal', `UNIX-domain sockets; this target is TCP: ${how}`);
  } else if (!coverage.restartable) {
    add('unix_auto_removal', 'a restart on a stale socket file needs a server beanlab starts: --spawn with {socket}');
  }
  if (!coverage.binlog) {
    for (const test of COVERED_WITH_BINLOG) add(test, "a binlog and a restart: run with --spawn 'beanstalkd -b {binlog} -l 127.0.0.1 -p {port}'");
  }
  for (const [test, reason] of Object.entries(NOT_COVERED)) add(test, reason);
  return [...byReason].map(([reason, tests]) => `${tests.length} testserv.c test${tests.length > 1 ? 's' : ''} (${tests.join(', ')}): ${reason}`);
}
