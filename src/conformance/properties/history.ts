// The history the property driver records: everything sent and expected, in order, with the
// sleeps between. A failing sequence's history becomes a replayable transcript (run.ts
// renderTranscript, corpus/FORMAT.md).

export type TraceStep =
  | { kind: 'send'; conn: string; text: string }
  | { kind: 'expect'; conn: string; expect: string; actual?: string }
  | { kind: 'sleep'; ms: number }
  | { kind: 'close'; conn: string };

export class History {
  readonly steps: TraceStep[] = [];

  send(conn: string, text: string): void {
    this.steps.push({ kind: 'send', conn, text });
  }

  expect(conn: string, expect: string): void {
    this.steps.push({ kind: 'expect', conn, expect });
  }

  close(conn: string): void {
    this.steps.push({ kind: 'close', conn });
  }

  /** Consecutive sleeps are one (a transcript line per pause, not per loop of the driver). */
  sleep(ms: number): void {
    const last = this.steps.at(-1);
    if (last?.kind === 'sleep') last.ms += ms;
    else this.steps.push({ kind: 'sleep', ms });
  }

  /** What came instead of `expected` on `conn`: on the expectation just recorded, or a new one. */
  failed(conn: string, expected: string, actual: string): void {
    const last = this.steps.at(-1);
    if (last?.kind === 'expect' && last.conn === conn && last.expect === expected) last.actual = actual;
    else this.steps.push({ kind: 'expect', conn, expect: expected, actual });
  }
}
