// beanstalkd's own C test suite, testserv.c (63 tests; semantics doc, section e), and where the
// corpus covers each one. A covered test is named in the `source:` line of at least one corpus
// case; the others exercise what the embedded server does not have (the binlog, `-b`, and
// UNIX-domain sockets, `-l unix:`), are left for a later persistence layer, and say so in
// every conformance report instead of passing silently.

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
const UNIX = 'UNIX-domain sockets (-l unix:PATH); the corpus runner and the embedded server speak TCP only';

/** The testserv.c tests no corpus case covers, and why. */
export const NOT_COVERED: Partial<Record<TestservTest, string>> = {
  peek_ok_unix: UNIX,
  unix_auto_removal: UNIX,
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

/** One line per reason, for the reports: "9 testserv.c tests (binlog_basic, ...): the binlog ...". */
export function notCoveredSummary(): string[] {
  const byReason = new Map<string, string[]>();
  for (const [test, reason] of Object.entries(NOT_COVERED)) byReason.set(reason, [...(byReason.get(reason) ?? []), test]);
  return [...byReason].map(([reason, tests]) => `${tests.length} testserv.c tests (${tests.join(', ')}): ${reason}`);
}
