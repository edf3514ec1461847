// For each mutant fault (src/server/faults.ts), the checks that are about what it breaks: a run
// against the fault must fail at least one of them (faults.test.ts), also behind a gap
// (gaps.test.ts), or the fault was caught only by accident.
export const RELEVANT: Record<string, RegExp> = {
  'priority-inverted': /^worker\/reserve\/|priority|order/,
  'lifo-equal-priority': /fifo|order|worker\/reserve\//,
  'delay-ignored': /delay|delayed/,
  'ttr-never-expires': /ttr|timing/,
  'no-deadline-soon': /deadline-soon/,
  'bury-releases': /bury/,
  'kick-one-fewer': /kick/,
  'touch-noop': /touch/,
  'pause-noop': /pause/,
  'stats-tube-off-by-one': /stats/,
  'bad-format-as-unknown': /framing|bad|format/,
  'close-keeps-reserved': /close|quit/,
  'delete-others-reserved': /delete/,
  'timeout-ignored': /reserve-with-timeout|timeout/,
};
