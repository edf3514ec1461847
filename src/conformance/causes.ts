// Root causes: every failing check is attributed to one cause (a command the server lacks, ids
// that are not integers, stats that lag behind the commands, or a reply that differs: command
// and reply shape), and the report groups failures by cause, most checks first. A server with
// one basic difference then reads as one line, not as hundreds of failures. Pure.
import type { Capabilities } from './capabilities.js';

export interface Cause {
  /** Stable key: failures with the same key share a cause. */
  key: string;
  /** One line for people: `peek not implemented`, `kick: KICKED differs`. */
  title: string;
}

/** What a failing step tells about why it failed. */
export interface FailureFacts {
  /** The command whose reply differed, when known (`reserve-with-timeout`). */
  command?: string;
  /** The expected reply as the transcript writes it (`RESERVED $a 1\r\nx`, `map k=v`, `nothing 300ms`, `closed`). */
  expected: string;
  /** What came, as the transcript would write it (or `no reply within 2000 ms`). */
  actual: string;
  /** For a map: the fields that differ. */
  fields?: readonly string[];
  /** The stats re-read a moment later matched: the values came late. */
  statsLag?: boolean;
}

export const CAUSES = {
  ids: { key: 'ids', title: 'ids are not integers' },
  statsLag: { key: 'stats-lag', title: 'stats lag behind the commands' },
  unreachable: { key: 'unreachable', title: 'the server could not be started or reached' },
  exited: { key: 'server-exited', title: 'the server exited during the check (crashed or killed)' },
  timing: { key: 'timing-hazard', title: 'a case observes too close to a deadline (corpus rule 1)' },
  isolation: { key: 'isolation', title: "use / watch / ignore of a case's own tube did not work (shared server)" },
  error: { key: 'error', title: 'the check could not run to its end (an error in the runner)' },
} as const satisfies Record<string, Cause>;

/** The cause of a check that ended in an error rather than a reply that differed. */
export function errorCause(message: string): Cause {
  if (message.startsWith('server exited')) return CAUSES.exited;
  return /connect to .* timed out|cannot connect|ECONNREFUSED|ECONNRESET/.test(message) ? CAUSES.unreachable : CAUSES.error;
}

export function missingCommand(command: string): Cause {
  return { key: `missing:${command}`, title: `${command} not implemented` };
}

/** Whether a cause comes from what the probe found (a capability), rather than a reply that differs. */
export function isCapabilityCause(cause: Cause): boolean {
  return cause.key === CAUSES.ids.key || cause.key.startsWith('missing:');
}

/**
 * The cause of one failing step. `context.literalIds`: the check writes job ids literally, so on
 * a server whose ids are not integers that is why it fails.
 */
export function causeOf(facts: FailureFacts, caps: Capabilities, context: { literalIds?: boolean; missingSubject?: string } = {}): Cause {
  if (facts.command && caps.missing.includes(facts.command as never)) return missingCommand(facts.command);
  if (context.missingSubject) return missingCommand(context.missingSubject);
  if (!caps.integerIds && context.literalIds) return CAUSES.ids;
  if (facts.statsLag) return CAUSES.statsLag;
  const command = facts.command ?? 'a reply';
  const expected = shape(facts.expected);
  const actual = shape(facts.actual);
  if (facts.fields && facts.fields.length > 0) {
    const fields = [...facts.fields].sort();
    const shown = fields.length > 3 ? `${fields.slice(0, 3).join(', ')} and ${fields.length - 3} more` : fields.join(', ');
    return { key: `fields:${command}:${fields.join(',')}`, title: `${command}: ${shown} ${fields.length === 1 ? 'differs' : 'differ'}` };
  }
  // An error answered as another error is one rule of the parser, whatever the command.
  if (ERROR_REPLIES.has(expected) && ERROR_REPLIES.has(actual) && expected !== actual) {
    return { key: `error:${expected}:${actual}`, title: `${actual} instead of ${expected} (any command)` };
  }
  if (expected === actual) return { key: `reply:${command}:${expected}`, title: `${command}: ${expected} differs` };
  return { key: `reply:${command}:${expected}:${actual}`, title: `${command}: ${actual} instead of ${expected}` };
}

const ERROR_REPLIES = new Set(['BAD_FORMAT', 'UNKNOWN_COMMAND', 'EXPECTED_CRLF', 'JOB_TOO_BIG']);

/** The kind of a reply as the transcript writes it: its first word, or what happened instead. */
export function shape(text: string): string {
  if (text.startsWith('no reply')) return 'no reply';
  if (text.startsWith('not a beanstalkd reply')) return 'bytes that are no reply';
  if (text.startsWith('nothing')) return 'nothing';
  if (text.startsWith('map ')) return 'a stats map';
  if (text.startsWith('set ')) return 'a list';
  const word = /^[A-Z_]+/.exec(text)?.[0];
  return word ?? (text.split(' ')[0] || 'nothing');
}

export interface CauseGroup extends Cause {
  /** The checks it explains, in report order. */
  checks: string[];
}

/** Failing checks grouped by cause, most checks first (capability causes first among equals). */
export function groupCauses(checks: ReadonlyArray<{ id: string; status: string; cause?: Cause }>): CauseGroup[] {
  const groups = new Map<string, CauseGroup>();
  for (const check of checks) {
    if (check.status !== 'fail') continue;
    const cause = check.cause ?? { key: 'other', title: 'other differences' };
    let group = groups.get(cause.key);
    if (!group) groups.set(cause.key, (group = { ...cause, checks: [] }));
    group.checks.push(check.id);
  }
  return [...groups.values()].sort(
    (a, b) => b.checks.length - a.checks.length || Number(isCapabilityCause(b)) - Number(isCapabilityCause(a)) || (a.key < b.key ? -1 : 1),
  );
}

/**
 * The command lines sent on one connection, in order, so that each reply can be matched to the
 * command it answers (beanstalkd answers a connection's commands in order). Put bodies are
 * skipped; a line still arriving waits for its CR LF. Framing errors (an over-long line) make
 * it approximate, which only blurs a cause's title.
 */
export class SentLines {
  private partial = '';
  private bodyLeft = 0;
  private readonly lines: string[] = [];

  push(bytes: Uint8Array): void {
    let text = this.partial + Buffer.from(bytes).toString('latin1');
    this.partial = '';
    for (;;) {
      if (this.bodyLeft > 0) {
        const skip = Math.min(this.bodyLeft, text.length);
        this.bodyLeft -= skip;
        text = text.slice(skip);
      }
      const end = text.indexOf('\r\n');
      if (end < 0 || this.bodyLeft > 0) break;
      const line = text.slice(0, end);
      this.lines.push(line);
      // beanstalkd reads the numbers with strtol: spaces between them do not matter (semantics a.0).
      const put = /^put +\d+ +\d+ +\d+ +(\d+)$/.exec(line);
      if (put) this.bodyLeft = Number(put[1]) + 2;
      text = text.slice(end + 2);
    }
    this.partial = text;
  }

  /** The oldest line not yet answered. */
  head(): string | undefined {
    return this.lines[0];
  }

  /** One reply arrived: its command is answered. */
  answered(): void {
    this.lines.shift();
  }
}

/** The command word of a line (`stats-tube foo` → `stats-tube`). */
export function commandWord(line: string | undefined): string | undefined {
  return line === undefined ? undefined : line.split(' ')[0] || undefined;
}
