// The steps a generated conformance sequence is made of. An Op is plain data (it is what
// fast-check generates and shrinks, and what a replay file holds); the harness turns it into
// protocol bytes. Jobs and tubes are referred to by index, resolved when the step runs, so a
// shrunk sequence that lost some puts still refers to jobs that exist.

/** Which job a step names: the n-th job of the run (modulo their number), or a missing one. */
export type JobRef = number | 'missing';

export type Op =
  | { op: 'put'; conn: number; pri: number; delay: number; ttr: number; body: string }
  | { op: 'use' | 'watch' | 'ignore' | 'stats-tube'; conn: number; tube: number }
  | { op: 'reserve'; conn: number }
  | { op: 'reserve-with-timeout'; conn: number; seconds: number }
  | { op: 'reserve-job' | 'delete' | 'touch' | 'peek' | 'kick-job' | 'stats-job'; conn: number; job: JobRef }
  | { op: 'release'; conn: number; job: JobRef; pri: number; delay: number }
  | { op: 'bury'; conn: number; job: JobRef; pri: number }
  | { op: 'kick'; conn: number; bound: number }
  | { op: 'pause-tube'; conn: number; tube: number; delay: number }
  | {
      op: 'peek-ready' | 'peek-delayed' | 'peek-buried' | 'list-tube-used' | 'list-tubes-watched' | 'list-tubes' | 'stats';
      conn: number;
    }
  | { op: 'close' | 'quit'; conn: number }
  /** Let time pass: a fixed span, or until just past the model's next deadline. */
  | { op: 'sleep'; ms: number }
  | { op: 'advance' }
  /** Bytes sent as they are (bad input); `name` says which kind, for reports. */
  | { op: 'raw'; conn: number; name: string; bytes: string };

export type OpKind = Op['op'];

/** How a step reads in reports and in fast-check's counterexample output. */
export function describeOp(op: Op): string {
  const { op: kind, ...rest } = op as Op & Record<string, unknown>;
  if (op.op === 'raw') return `c${op.conn} raw ${op.name}`;
  const args = Object.entries(rest)
    .filter(([k]) => k !== 'conn')
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(' ');
  return `${'conn' in op ? `c${op.conn} ` : ''}${kind}${args ? ' ' + args : ''}`;
}

/**
 * Malformed input, each followed by what makes the stream resynchronise the way beanstalkd's
 * does (semantics a.0, a.1, h.14). `maxJobSize` is the server's, for the too-big body.
 */
export function badInputs(maxJobSize: number): ReadonlyArray<{ name: string; bytes: string }> {
  return [
    { name: 'put-bad-pri', bytes: 'put abc 0 10 1\r\nx\r\n' },
    { name: 'put-negative-delay', bytes: 'put 0 -1 10 1\r\n' },
    { name: 'put-pri-overflow', bytes: 'put 4294967296 0 10 1\r\nx\r\n' },
    { name: 'put-trailing-garbage', bytes: 'put 1 0 10 1x\r\n' },
    { name: 'put-too-big', bytes: `put 0 0 10 ${maxJobSize + 1}\r\n${'z'.repeat(maxJobSize + 1)}\r\n` },
    { name: 'put-missing-crlf', bytes: 'put 0 0 10 3\r\nhelloXY\r\n' },
    { name: 'put-short-body', bytes: 'put 0 0 10 3\r\nhello\r\n' },
    { name: 'id-overflow', bytes: 'peek 18446744073709551616\r\n' },
    { name: 'id-negative', bytes: 'delete -1\r\n' },
    { name: 'id-trailing-space', bytes: 'stats-job 1 \r\n' },
    { name: 'release-missing-arg', bytes: 'release 1 2\r\n' },
    { name: 'kick-no-digits', bytes: 'kick abc\r\n' },
    { name: 'overlong-line', bytes: `${'x'.repeat(300)}\r\n` },
    { name: 'overlong-line-swallows-next', bytes: `${'a'.repeat(223)}\r\nlist-tube-used\r\n` },
    { name: 'tube-leading-dash', bytes: 'use -foo\r\n' },
    { name: 'tube-bad-char', bytes: 'watch foo*bar\r\n' },
    { name: 'tube-too-long', bytes: `use ${'t'.repeat(201)}\r\n` },
    { name: 'tube-two-spaces', bytes: 'ignore  foo\r\n' },
    { name: 'stats-tube-bad-name', bytes: 'stats-tube -x\r\n' },
    { name: 'pause-tube-missing-delay', bytes: 'pause-tube foo\r\n' },
    { name: 'nul-byte', bytes: 'use a\0b\r\n' },
    { name: 'bare-cr-stall', bytes: `use a\rb\r\n${'y'.repeat(230)}\r\n` },
    { name: 'empty-line', bytes: '\r\n' },
    { name: 'upper-case', bytes: 'PUT 0 0 10 1\r\n' },
    { name: 'keyword-with-space', bytes: 'stats \r\n' },
    { name: 'unknown-command', bytes: 'frobnicate\r\n' },
  ];
}
