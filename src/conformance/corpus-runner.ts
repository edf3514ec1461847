// Runs transcript cases against a target and returns results as data (nothing is printed).
// Each case gets its own session (a fresh server where the target allows it); cases run with
// bounded concurrency so timed cases overlap, and each has a time bound. On a shared server
// (a plain host:port) each case runs in its own tube namespace (tube-namespace.ts) and deletes
// its jobs when it ends, so cases and other clients do not see each other.
import { performance } from 'node:perf_hooks';
import { parseStatsYaml, parseYamlList } from '../protocol/stats-yaml.js';
import type { Profile } from '../protocol/types.js';
import { nextEvent, waitForEvent, type ConnEvent, type RawConnection } from '../target/connection.js';
import type { Session, TargetFactory } from '../target/sessions.js';
import { BEANSTALKD_CAPABILITIES, missingSubject, notCheckedReason, usesLiteralIds, type Capabilities } from './capabilities.js';
import { CAUSES, causeOf, commandWord, errorCause, SentLines, type Cause, type FailureFacts } from './causes.js';
import { casePrefix, randomRunPrefix, sharedSkipReason, TubeNamespace } from './tube-namespace.js';
import { stepApplies, type Expectation, type MapValue, type Step, type Template, type TranscriptCase } from './transcript.js';

/** `not-checked`: the check needs a command the server lacks and is not about it (capabilities.ts). */
export type CheckStatus = 'pass' | 'fail' | 'skip' | 'not-checked';

export interface CheckResult {
  id: string;
  section: string;
  status: CheckStatus;
  rule: string;
  /** For a failure: the step that failed, as written, with bound ids filled in. For a skip: empty. */
  expected: string;
  /** For a failure: what the server did. For a skip or not-checked: why. */
  actual: string;
  /** For a failure: its root cause (causes.ts); the report groups failures by it. */
  cause?: Cause;
  /** Extensions the server has that beanstalkd does not (an extra stats field): never a failure. */
  warnings?: string[];
  /** For a failure: the command that reruns only this case, then the case's transcript. */
  replay?: string;
  notes: string[];
  /** For a failure: a corpus case (FORMAT.md) that reproduces it, for a replay file. */
  transcript?: string;
  /** For a generated (property) check: the fast-check seed. */
  seed?: number;
}

export interface RunOptions {
  profile: Profile;
  /** Once aborted no further case starts (the ones under way finish); their slots stay empty. */
  signal?: AbortSignal;
  /** Cases run at once on targets with a fresh server per case (shared targets run one at a time). */
  concurrency?: number;
  /** Only cases whose id starts with this. */
  only?: string;
  /** How long a real-time target may take to send an expected reply. */
  replyTimeoutMs?: number;
  /** Added to a case's own sleeping time to bound it. */
  caseSlackMs?: number;
  /** Arguments that select the same target again, for the replay command (`--target 127.0.0.1:11300`). */
  replayArgs?: string;
  /** Called as each case finishes (progress display). */
  onResult?: (result: CheckResult) => void;
  /** What the server can do (capabilities.ts); default: everything beanstalkd can. */
  capabilities?: Capabilities;
}

export const DEFAULT_CONCURRENCY = 4;
export const DEFAULT_REPLY_TIMEOUT_MS = 2000;
/**
 * A stats value that differs is read once more after this wait: a value that arrives late is
 * reported as `stats lag behind the commands`, not against the rule the case checks.
 */
export const STATS_REREAD_MS = 1000;
const DEFAULT_CASE_SLACK_MS = 10_000;
/** What a `restart` step adds to that bound: stopping the server and starting it again. */
const RESTART_ALLOWANCE_MS = 7000;
/**
 * A case whose observations came this far behind its schedule (sleeps plus nothing else) may see
 * the server on the wrong side of a deadline: FORMAT.md rule 1 keeps observations 250 ms away
 * from deadlines, and a busy machine can eat that. Such a failure is run again, up to
 * LATE_ATTEMPTS times in all; a pass needs no second look (lateness only delays observations).
 */
const LATE_LIMIT_MS = 200; // below the 250 ms margin, leaving room for the server's own timer slack (b.3)
const LATE_ATTEMPTS = 3;
/** Deleting a job reserved by a connection the cleanup just closed waits for the server to release it. */
const CLEANUP_ATTEMPTS = 4;
const CLEANUP_RETRY_MS = 100;

export async function runCorpus(
  cases: readonly TranscriptCase[],
  target: TargetFactory,
  opts: RunOptions,
): Promise<CheckResult[]> {
  const selected = cases.filter((c) => !opts.only || c.id.startsWith(opts.only));
  const results: CheckResult[] = new Array(selected.length);
  const workers = target.freshPerCase ? Math.max(1, opts.concurrency ?? DEFAULT_CONCURRENCY) : 1;
  const runPrefix = randomRunPrefix();
  let next = 0;
  const work = async () => {
    for (let i = next++; i < selected.length && !opts.signal?.aborted; i = next++) {
      results[i] = await runCase(selected[i], target, opts, casePrefix(runPrefix, i));
      opts.onResult?.(results[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(workers, selected.length) }, work));
  return results.filter((r) => r !== undefined);
}

/** Why a case cannot run on this target under this profile, or undefined if it can. */
export function skipReason(c: TranscriptCase, target: TargetFactory, profile: Profile): string | undefined {
  if (c.profiles && !c.profiles.includes(profile)) return `only for profile ${c.profiles.join(', ')}`;
  if (c.needsSignal && !target.canSignal) return `needs SIGUSR1, which ${target.label} cannot receive`;
  if (c.server.maxJobSize !== undefined && !target.canConfigure) return `needs server option max-job-size ${c.server.maxJobSize}: run with --spawn and -z {max_job_size} in the command`;
  if (c.server.binlog && !target.canPersist) return `needs a binlog (beanstalkd -b) and a restart: run with --spawn and -b {binlog} in the command`;
  if (c.needsNoBinlog && target.binlogAlways) return `checks a server without a binlog; ${target.label} always runs with one`;
  if (c.needsDirect && target.mayBeProxied) {
    return `needs a direct connection: through a proxy a client's close reaches the server as a half-close, which it answers`;
  }
  if (target.freshPerCase) return undefined;
  // The detected reason first: it says more than the case's own `needs: fresh`.
  return sharedSkipReason(c) ?? (c.needsFresh ? 'needs a fresh server' : undefined);
}

/**
 * Runs one case. `namespacePrefix` is the case's tube namespace on a shared target (runCorpus
 * numbers them within a run); without it a shared target gets a random one.
 */
export async function runCase(
  c: TranscriptCase,
  target: TargetFactory,
  opts: RunOptions,
  namespacePrefix?: string,
): Promise<CheckResult> {
  const base = { id: c.id, section: c.section, rule: c.rule, notes: c.notes };
  const reason = skipReason(c, target, opts.profile);
  if (reason) return { ...base, status: 'skip', expected: '', actual: reason };
  const caps = opts.capabilities ?? BEANSTALKD_CAPABILITIES;
  const gap = notCheckedReason(c, caps, opts.profile);
  if (gap) return { ...base, status: 'not-checked', expected: '', actual: gap };
  for (let attempt = 1; ; attempt++) {
    // A later attempt on a shared server gets a namespace of its own: the first may have left jobs.
    const prefix = attempt === 1 ? namespacePrefix : undefined;
    const { result, lateMs } = await attemptCase(c, target, opts, base, prefix, caps);
    // A failure seen behind the case's schedule may be the lateness alone (FORMAT.md, rule 1).
    if (result.status !== 'fail' || lateMs < LATE_LIMIT_MS) return result;
    if (attempt >= LATE_ATTEMPTS) {
      return { ...result, actual: `${result.actual} (observed ${Math.round(lateMs)} ms behind the case's schedule, in each of ${attempt} attempts: the machine is too busy to hold the case's timing)` };
    }
  }
}

/** One run of a case on a session of its own; `lateMs`: how far behind its schedule the case fell (0 on the virtual clock). */
async function attemptCase(
  c: TranscriptCase,
  target: TargetFactory,
  opts: RunOptions,
  base: Pick<CheckResult, 'id' | 'section' | 'rule' | 'notes'>,
  namespacePrefix: string | undefined,
  caps: Capabilities,
): Promise<{ result: CheckResult; lateMs: number }> {
  const namespace = target.freshPerCase ? undefined : new TubeNamespace(namespacePrefix ?? casePrefix(randomRunPrefix(), 0));
  const context = { literalIds: usesLiteralIds(c), missingSubject: missingSubject(c, caps, opts.profile) };
  const fail = (expected: string, actual: string, facts?: Omit<FailureFacts, 'expected' | 'actual'> | Cause): CheckResult => ({
    ...base,
    status: 'fail',
    expected,
    actual: namespace ? namespace.unmap(actual) : actual,
    cause: facts && 'key' in facts ? facts : causeOf({ ...facts, expected: expected.replace(/^line \d+: (?:\[[^\]]*\] )?[^ ]*< /, ''), actual }, caps, context),
    replay: `beanlab conform --only ${c.id} --profile ${opts.profile}${opts.replayArgs ? ` ${opts.replayArgs}` : ''}\n${c.sourceText}`,
    transcript: c.sourceText,
  });

  let session: Session;
  try {
    session = await target.open({ profile: opts.profile, maxJobSize: c.server.maxJobSize, binlog: c.server.binlog });
  } catch (error) {
    return { result: fail('a server to run the case on', `could not start or reach ${target.label}: ${message(error)}`, CAUSES.unreachable), lateMs: 0 };
  }
  const run = new CaseRun(session, opts.replyTimeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS, namespace, caps);
  const boundMs = (opts.caseSlackMs ?? DEFAULT_CASE_SLACK_MS) + sleepingMs(c);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<StepFailure>((resolve) => {
    timer = setTimeout(() => resolve(new StepFailure('the case to finish', `still running after ${boundMs} ms`)), boundMs);
  });
  try {
    const outcome = await Promise.race([run.steps(c.steps, opts.profile), timeout]);
    run.abandon();
    const lateMs = session.realTime ? run.lateMs : 0;
    if (namespace) await run.deleteJobs().catch(() => undefined);
    if (outcome) return { result: fail(outcome.expected, await run.exitOr(outcome.actual), outcome.facts), lateMs };
    const hazards = session.timingHazards();
    if (hazards.length > 0) {
      return { result: fail('every observation at least 250 ms away from every deadline (FORMAT.md, rule 1)', hazards.join('; '), CAUSES.timing), lateMs };
    }
    const passed: CheckResult = { ...base, status: 'pass', expected: '', actual: '' };
    return { result: run.warnings.length > 0 ? { ...passed, warnings: run.warnings } : passed, lateMs };
  } catch (error) {
    const lateMs = session.realTime ? run.lateMs : 0;
    if (error instanceof IsolationFailure) return { result: fail(error.expected, error.actual, CAUSES.isolation), lateMs };
    const actual = await run.exitOr(`error: ${message(error)}`);
    return { result: fail('the case to run', actual, errorCause(actual)), lateMs };
  } finally {
    clearTimeout(timer);
    await session.close().catch(() => undefined);
  }
}

function sleepingMs(c: TranscriptCase): number {
  return c.steps.reduce((sum, s) => sum + (s.kind === 'sleep' || s.kind === 'nothing' ? s.durationMs : s.kind === 'restart' ? RESTART_ALLOWANCE_MS : 0), 0);
}

class StepFailure {
  constructor(
    readonly expected: string,
    readonly actual: string,
    /** What the cause analysis needs beyond the texts: the command answered, the fields that differ. */
    readonly facts: Omit<FailureFacts, 'expected' | 'actual'> = {},
  ) {}
}

/** A shared server did not accept the setup that isolates a connection (thrown from CaseRun.conn). */
class IsolationFailure extends Error {
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`${expected}; got ${actual}`);
  }
}

/** The state of one case while it runs: its connections and the job ids bound so far. */
class CaseRun {
  private readonly conns = new Map<string, Promise<RawConnection>>();
  private readonly aliases = new Map<string, string>();
  private bindings = new Map<string, string>();
  /** Set when the case ran out of time: the remaining steps are not started. */
  private abandoned = false;
  /** Per connection, the command lines not yet answered (for causes and the stats re-read). */
  private sent = new Map<string, SentLines>();
  /** Extensions seen (keys expectations): reported as warnings, never failures. */
  readonly warnings: string[] = [];
  /** When the first step started, and the time its sleeps and `nothing` steps were meant to take since. */
  private startMs: number | undefined;
  private scheduledMs = 0;
  /** How far behind that schedule the case's observations came, at most (see LATE_LIMIT_MS). */
  lateMs = 0;
  /** When the last expectation saw its reply; a reply that never came was looked for from the step's start. */
  private observedAtMs: number | undefined;
  /** Each step as written and when it started, to name the one a server died after. */
  private readonly started: Array<{ text: string; atMs: number }> = [];

  constructor(
    private readonly session: Session,
    private readonly replyTimeoutMs: number,
    /** The case's tube namespace on a shared server; undefined on a fresh one. */
    private readonly namespace?: TubeNamespace,
    private readonly caps: Capabilities = BEANSTALKD_CAPABILITIES,
  ) {}

  /** Runs the steps in order; returns the first failure, or undefined when all held. */
  async steps(steps: readonly Step[], profile: Profile): Promise<StepFailure | undefined> {
    this.startMs ??= performance.now();
    for (const step of steps) {
      if (this.abandoned) return undefined;
      if (!stepApplies(step, profile, Boolean(this.session.binlog))) continue;
      if (step.kind === 'sleep' || step.kind === 'nothing') this.scheduledMs += step.durationMs;
      this.observedAtMs = undefined;
      const stepStartMs = performance.now();
      this.started.push({ text: step.text, atMs: stepStartMs });
      const failure = await this.step(step);
      // A restart takes what it takes; the case keeps its deadlines clear of it (RESTART_ALLOWANCE_MS).
      if (step.kind === 'restart') this.scheduledMs += performance.now() - stepStartMs;
      // An observation: a reply (matching or not) or a quiet spell, at the time it was made.
      if (step.kind === 'expect' || step.kind === 'nothing') {
        this.lateMs = Math.max(this.lateMs, (this.observedAtMs ?? performance.now()) - this.startMs - this.scheduledMs);
      }
      if (failure) return failure;
    }
    return undefined;
  }

  abandon(): void {
    this.abandoned = true;
  }

  /**
   * What to report for a failure: the server's own end when it died (what refused the next
   * connection was its absence, not its answer), else `actual`.
   */
  async exitOr(actual: string): Promise<string> {
    const exit = await this.session.serverExit?.();
    if (!exit) return actual;
    const step = this.started.filter((s) => s.atMs <= exit.atMs).at(-1);
    return `server exited ${exit.how}${step ? ` after '${step.text}'` : ' before the first step'}`;
  }

  private async step(step: Step): Promise<StepFailure | undefined> {
    switch (step.kind) {
      case 'send': {
        const conn = await this.conn(step.conn);
        const bytes = this.render(step.bytes);
        this.sentOn(step.conn).push(bytes);
        conn.send(bytes);
        return undefined;
      }
      case 'open':
        await this.conn(step.conn);
        return undefined;
      case 'shutdown':
        (await this.conn(step.conn)).halfClose();
        return undefined;
      case 'close':
        (await this.conn(step.conn)).close();
        return undefined;
      case 'sleep':
        await this.session.sleep(step.durationMs);
        return undefined;
      case 'signal-usr1':
        await this.session.signalDrain();
        return undefined;
      case 'restart':
        // Every connection ends with the server; a name used after this opens a new one.
        await Promise.all([...this.conns.values()].map(async (conn) => (await conn).close()));
        this.conns.clear();
        this.sent.clear();
        await this.session.restart!();
        return undefined;
      case 'nothing': {
        const conn = await this.conn(step.conn);
        await this.session.sleep(step.durationMs);
        const event = conn.peek();
        const command = commandWord(this.sentOn(step.conn).head());
        return event ? new StepFailure(this.describe(step), describeEvent(event), { command }) : undefined;
      }
      case 'expect':
        return this.expect(step);
    }
  }

  private async expect(step: Extract<Step, { kind: 'expect' }>): Promise<StepFailure | undefined> {
    const expectation = this.namespace ? this.namespace.mapExpectation(step.expect) : step.expect;
    const names = step.conns.map((n) => this.aliases.get(n) ?? n);
    const conns = await Promise.all(names.map((n) => this.conn(n)));
    const startMs = performance.now();
    const waitMs = this.session.realTime ? this.replyTimeoutMs : 0;
    for (;;) {
      this.observedAtMs = conns.some((conn) => conn.peek() !== undefined) ? performance.now() : startMs;
      for (const [i, conn] of conns.entries()) {
        const event = conn.peek();
        const bound = event && matchEvent(expectation, event, this.bindings);
        if (bound) {
          conn.take();
          this.bindings = bound;
          if (expectation.kind === 'keys') this.noteExtensions(expectation.keys, event, names[i]);
          this.sentOn(names[i]).answered();
          if (step.alias) this.aliases.set(step.alias, names[i]);
          return undefined;
        }
      }
      // A connection whose next event did not match cannot match later: only the idle ones may.
      const idle = conns.filter((c) => c.peek() === undefined);
      const leftMs = waitMs - (performance.now() - startMs);
      if (idle.length === 0 || leftMs <= 0 || !(await waitForEvent(idle, leftMs))) break;
    }
    const actual = conns.map((conn, i) => {
      const event = conn.peek();
      const seen = event
        ? describeActual(expectation, event)
        : this.session.realTime
          ? `no reply within ${this.replyTimeoutMs} ms`
          : 'no reply yet (virtual clock: a timed reply needs a sleep past its deadline first)';
      return conns.length > 1 ? `${names[i]}: ${seen}` : seen;
    });
    const line = conns.length === 1 ? this.sentOn(names[0]).head() : undefined;
    const event = conns.length === 1 ? conns[0].peek() : undefined;
    const facts = { command: commandWord(line), fields: event && differingFields(expectation, event, this.bindings) };
    if (line && event && (await this.statsArriveLate(conns[0], line, expectation, event))) {
      return new StepFailure(this.describe(step), `${actual[0]}; ${STATS_REREAD_MS} ms later as expected: stats lag behind the commands`, { ...facts, statsLag: true });
    }
    return new StepFailure(this.describe(step), actual.join('; '), facts);
  }

  private sentOn(name: string): SentLines {
    const real = this.aliases.get(name) ?? name;
    let lines = this.sent.get(real);
    if (!lines) this.sent.set(real, (lines = new SentLines()));
    return lines;
  }

  /**
   * A stats or stats-tube map that differs is read again once after STATS_REREAD_MS: whether
   * the expected values arrive late (a server that caches stats) rather than never. Only the
   * cause depends on it; the case fails either way.
   */
  private async statsArriveLate(conn: RawConnection, line: string, expect: Expectation, event: ConnEvent): Promise<boolean> {
    const command = commandWord(line);
    if (!this.session.realTime || expect.kind !== 'map' || event.kind !== 'reply' || event.reply.kind !== 'OK') return false;
    if (command !== 'stats' && command !== 'stats-tube') return false;
    conn.take();
    await this.session.sleep(STATS_REREAD_MS);
    conn.send(Buffer.from(`${line}\r\n`, 'latin1'));
    const again = await nextEvent(conn, this.replyTimeoutMs);
    // The re-read is one more `stats`: its own counter is one higher.
    const adjusted: Expectation = command === 'stats' ? { ...expect, fields: expect.fields.map((f) => (f.key === 'cmd-stats' ? bumped(f) : f)) } : expect;
    return again !== undefined && matchEvent(adjusted, again, this.bindings) !== undefined;
  }

  private noteExtensions(keys: readonly string[], event: ConnEvent, conn: string): void {
    if (event.kind !== 'reply' || event.reply.kind !== 'OK') return;
    const fields = safely(() => parseStatsYaml(Buffer.from(event.reply.kind === 'OK' ? event.reply.body : []).toString('latin1')));
    const extra = [...(fields?.keys() ?? [])].filter((k) => !keys.includes(k));
    const command = commandWord(this.sentOn(conn).head()) ?? 'the reply';
    if (extra.length > 0) this.warnings.push(`extension: ${command} has ${extra.length === 1 ? 'a field' : 'fields'} beanstalkd does not send: ${extra.join(', ')}`);
  }

  private conn(name: string): Promise<RawConnection> {
    const real = this.aliases.get(name) ?? name;
    let conn = this.conns.get(real);
    if (!conn) {
      conn = this.session.connect().then((opened) => this.isolate(real, opened));
      this.conns.set(real, conn);
    }
    return conn;
  }

  /** On a shared server, makes the connection's `default` the case's private tube before any step. */
  private async isolate(name: string, conn: RawConnection): Promise<RawConnection> {
    const namespace = this.namespace;
    if (!namespace) return conn;
    conn.send(namespace.setupBytes());
    for (const want of namespace.setupReplies()) {
      const event = await nextEvent(conn, this.replyTimeoutMs);
      if (event?.kind !== 'reply' || event.raw.toString('latin1') !== want) {
        throw new IsolationFailure(
          `connection ${name} moved to the case's own tube namespace (use/watch <ns>default, ignore default): ${namespace.unmap(want.trim())}`,
          event ? describeEvent(event) : `no reply within ${this.replyTimeoutMs} ms`,
        );
      }
    }
    return conn;
  }

  /**
   * Deletes every job the case bound to a variable, from a new connection after closing the
   * case's own (which releases their reservations). Best effort: replies other than DELETED are
   * ignored, except that a job still there (FOUND by peek) is retried while its reservation is
   * being released.
   */
  async deleteJobs(): Promise<void> {
    const ids = [...new Set(this.bindings.values())];
    if (ids.length === 0) return;
    for (const conn of this.conns.values()) conn.then((c) => c.close(), () => undefined);
    const cleaner = await this.session.connect();
    try {
      let left = ids;
      for (let attempt = 0; attempt < CLEANUP_ATTEMPTS && left.length > 0; attempt++) {
        if (attempt > 0) await this.session.sleep(CLEANUP_RETRY_MS);
        left = await this.deleteOnce(cleaner, left);
      }
    } finally {
      cleaner.close();
    }
  }

  /** Sends `delete` for each id; returns the ids that were not deleted but still exist. */
  private async deleteOnce(conn: RawConnection, ids: readonly string[]): Promise<string[]> {
    const notDeleted: string[] = [];
    for (const id of ids) {
      conn.send(Buffer.from(`delete ${id}\r\n`));
      const event = await nextEvent(conn, this.replyTimeoutMs);
      if (event?.kind === 'reply' && event.reply.kind !== 'DELETED') notDeleted.push(id);
    }
    const stillThere: string[] = [];
    // Whether the job is still there: peek, or stats-job on a server without peek.
    const look = this.caps.missing.includes('peek') ? 'stats-job' : 'peek';
    for (const id of notDeleted) {
      conn.send(Buffer.from(`${look} ${id}\r\n`));
      const event = await nextEvent(conn, this.replyTimeoutMs);
      if (event?.kind === 'reply' && (event.reply.kind === 'FOUND' || event.reply.kind === 'OK')) stillThere.push(id);
    }
    return stillThere;
  }

  private render(template: Template): Buffer {
    const bytes = Buffer.concat(
      template.map((piece) => {
        if ('bytes' in piece) return piece.bytes;
        const value = this.bindings.get(piece.variable);
        if (value === undefined) throw new Error(`$${piece.variable} is not bound`);
        return Buffer.from(value, 'latin1');
      }),
    );
    return this.namespace ? this.namespace.mapSend(bytes) : bytes;
  }

  /** The step as written, with bound ids filled in. */
  private describe(step: Step): string {
    const text = step.text.replace(/(?<!\\)\$([A-Za-z][A-Za-z0-9_]*)/g, (m, v: string) => this.bindings.get(v) ?? m);
    return `line ${step.line}: ${text}`;
  }
}

/**
 * Whether `event` satisfies `expect`. Returns the bindings extended with any ids the match
 * bound, or undefined on a mismatch (the caller's bindings are never changed on a mismatch).
 */
export function matchEvent(
  expect: Expectation,
  event: ConnEvent,
  bindings: ReadonlyMap<string, string>,
): Map<string, string> | undefined {
  if (expect.kind === 'closed') return event.kind === 'closed' ? new Map(bindings) : undefined;
  if (event.kind !== 'reply') return undefined;
  if (expect.kind === 'exact') {
    return matchTemplate(expect.template, event.raw.toString('latin1'), bindings, '\r\n');
  }
  if (event.reply.kind !== 'OK') return undefined;
  const text = Buffer.from(event.reply.body).toString('latin1');
  if (expect.kind === 'keys') {
    const fields = safely(() => parseStatsYaml(text));
    return fields && expect.keys.every((k) => fields.has(k)) ? new Map(bindings) : undefined;
  }
  if (expect.kind === 'set') {
    const items = safely(() => parseYamlList(text));
    if (!items) return undefined;
    const sortedActual = [...items].sort();
    const sortedExpected = [...expect.items].sort();
    const same = sortedActual.length === sortedExpected.length && sortedActual.every((v, i) => v === sortedExpected[i]);
    return same ? new Map(bindings) : undefined;
  }
  const fields = safely(() => parseStatsYaml(text));
  if (!fields) return undefined;
  let bound: Map<string, string> | undefined = new Map(bindings);
  for (const { key, value } of expect.fields) {
    const actual = fields.get(key);
    if (actual === undefined || !bound) return undefined;
    bound = matchMapValue(value, actual, bound);
  }
  return bound;
}

/** For a map (or keys) expectation the event failed: the listed fields that differ (or are missing). */
function differingFields(expect: Expectation, event: ConnEvent, bindings: ReadonlyMap<string, string>): string[] | undefined {
  if ((expect.kind !== 'map' && expect.kind !== 'keys') || event.kind !== 'reply' || event.reply.kind !== 'OK') return undefined;
  const fields = safely(() => parseStatsYaml(Buffer.from(event.reply.kind === 'OK' ? event.reply.body : []).toString('latin1')));
  if (!fields) return undefined;
  if (expect.kind === 'keys') return expect.keys.filter((k) => !fields.has(k));
  return expect.fields
    .filter(({ key, value }) => {
      const actual = fields.get(key);
      return actual === undefined || matchMapValue(value, actual, new Map(bindings)) === undefined;
    })
    .map(({ key }) => key);
}

/** A numeric map value one higher (`cmd-stats=2` → `cmd-stats=3`); others unchanged. */
function bumped(field: { key: string; value: MapValue }): { key: string; value: MapValue } {
  const value = field.value;
  if ('lo' in value) return { key: field.key, value: { lo: value.lo + 1, hi: value.hi + 1 } };
  const text = value.template.every((p) => 'bytes' in p) ? value.template.map((p) => ('bytes' in p ? p.bytes.toString('latin1') : '')).join('') : '';
  if (!/^\d+$/.test(text)) return field;
  return { key: field.key, value: { template: [{ bytes: Buffer.from(String(Number(text) + 1), 'latin1') }] } };
}

function matchMapValue(value: MapValue, actual: string, bindings: Map<string, string>): Map<string, string> | undefined {
  if ('lo' in value) {
    const n = Number(actual);
    return /^\d+$/.test(actual) && n >= value.lo && n <= value.hi ? bindings : undefined;
  }
  return matchTemplate(value.template, actual, bindings, '');
}

/**
 * Matches text against a template; an unbound variable matches a job id and binds it. Ids are
 * opaque tokens (printable, no spaces): beanstalkd's are decimal numbers, other servers' may be
 * UUIDs, and the one check of the id format is capabilities.ts's.
 */
function matchTemplate(
  template: Template,
  text: string,
  bindings: ReadonlyMap<string, string>,
  suffix: string,
): Map<string, string> | undefined {
  const fresh: string[] = [];
  let pattern = '';
  for (const piece of template) {
    if ('bytes' in piece) {
      pattern += escapeRegExp(piece.bytes.toString('latin1'));
    } else if (bindings.has(piece.variable)) {
      pattern += escapeRegExp(bindings.get(piece.variable)!);
    } else if (fresh.includes(piece.variable)) {
      pattern += `\\k<${piece.variable}>`;
    } else {
      fresh.push(piece.variable);
      pattern += `(?<${piece.variable}>[\\x21-\\x7e]+?)`;
    }
  }
  const m = new RegExp(`^${pattern}${escapeRegExp(suffix)}$`).exec(text);
  if (!m) return undefined;
  const bound = new Map(bindings);
  for (const name of fresh) bound.set(name, m.groups![name]);
  return bound;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\\/-]/g, '\\$&');
}

function safely<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

/** For a failed map expectation, the listed fields as the server reported them. */
function describeActual(expect: Expectation, event: ConnEvent): string {
  if (expect.kind !== 'map' || event.kind !== 'reply' || event.reply.kind !== 'OK') return describeEvent(event);
  const fields = safely(() => parseStatsYaml(Buffer.from(event.reply.kind === 'OK' ? event.reply.body : []).toString('latin1')));
  if (!fields) return describeEvent(event);
  return `map ${expect.fields.map(({ key }) => `${key}=${fields.get(key) ?? '(missing)'}`).join(' ')}`;
}

/** How the transcript would write what arrived. */
export function describeEvent(event: ConnEvent): string {
  switch (event.kind) {
    case 'closed':
      return 'closed';
    case 'garbage':
      return `not a beanstalkd reply (${event.message}): ${escapeBytes(event.raw)}`;
    case 'reply':
      return escapeBytes(event.raw.subarray(0, event.raw.length - 2));
  }
}

const SHOWN_BYTES = 300;

/** Bytes in the transcript's escape syntax, shortened when long. */
export function escapeBytes(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes.subarray(0, SHOWN_BYTES)) {
    if (b === 13) out += '\\r';
    else if (b === 10) out += '\\n';
    else if (b === 9) out += '\\t';
    else if (b === 0) out += '\\0';
    else if (b === 92) out += '\\\\';
    else if (b >= 32 && b < 127) out += String.fromCharCode(b);
    else out += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return bytes.length > SHOWN_BYTES ? `${out}… (${bytes.length} bytes)` : out;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
