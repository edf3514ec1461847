// beanstalkd's own C test suite, testserv.c (63 tests; semantics doc, section e), and where a
// conformance run covers each one. Most are named in the `source:` line of a corpus case. The two
// UNIX-socket tests are covered by how a run reaches its target (over a socket; started twice on
// one path). The binlog tests (`-b`) need a persistence layer the embedded server does not have;
// they are left for later, and every whole-suite report says so instead of passing silently.
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

const BINLOG = 'the binlog (-b): restarts, file sizes and a full disk; the embedded server keeps no binlog';

/** The testserv.c tests no conformance run covers, and why. */
export const NOT_COVERED: Partial<Record<TestservTest, string>> = {
  binlog_empty_exit: BINLOG,
  binlog_bury: BINLOG,
  binlog_basic: BINLOG,
  binlog_size_limit: BINLOG,
  binlog_allocation: BINLOG,
  binlog_read: BINLOG,
  binlog_disk_full: BINLOG,
  binlog_disk_full_delete: BINLOG,
  binlog_v5: BINLOG,
};

/** The testserv.c tests a run covers only over a UNIX-domain socket, and how. */
export const COVERED_OVER_UNIX_SOCKET: Partial<Record<TestservTest, string>> = {
  peek_ok_unix: 'every corpus case (peek_ok among them) runs over the socket when the target is unix:PATH or a {socket} command',
  unix_auto_removal: `the check ${STALE_SOCKET_CHECK_ID} starts a {socket} command twice on one path`,
};

/** What a run's target lets it cover of the UNIX-socket tests. */
export interface SocketCoverage {
  /** The target is reached over a UNIX-domain socket. */
  unixSocket: boolean;
  /** beanlab starts it (--spawn with {socket}), so it can be killed and started again on one path. */
  restartable: boolean;
}

/** One line per reason, for the reports: "9 testserv.c tests (binlog_empty_exit, ...): the binlog ...". */
export function notCoveredSummary(coverage: SocketCoverage): string[] {
  const byReason = new Map<string, string[]>();
  const add = (test: string, reason: string) => byReason.set(reason, [...(byReason.get(reason) ?? []), test]);
  if (!coverage.unixSocket) {
    const how = "run with --spawn 'beanstalkd -l unix:{socket}' (or --target unix:PATH for peek_ok_unix)";
    add('peek_ok_unix', `UNIX-domain sockets; this target is TCP: ${how}`);
    add('unix_auto_removal', `UNIX-domain sockets; this target is TCP: ${how}`);
  } else if (!coverage.restartable) {
    add('unix_auto_removal', 'a restart on a stale socket file needs a server beanlab starts: --spawn with {socket}');
  }
  for (const [test, reason] of Object.entries(NOT_COVERED)) add(test, reason);
  return [...byReason].map(([reason, tests]) => `${tests.length} testserv.c test${tests.length > 1 ? 's' : ''} (${tests.join(', ')}): ${reason}`);
}
