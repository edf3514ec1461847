// Runs one generated sequence of steps against a server and against the reference model side
// by side, comparing every reply. The model's clock is the real elapsed time of the run, and
// before each step the harness waits until no deadline the model knows (delay, TTR, safety
// margin, reserve timeout, pause) lies within TIMING_MARGIN_US of "now": the real server then
// has exactly one right answer (semantics h.5). Everything sent and expected is recorded as a
// trace, which becomes a replayable transcript when the sequence fails.
import { performance } from 'node:perf_hooks';
import type { ConnId, Output, ReferenceModel } from '../../model/api.js';
import { createModel } from '../../model/index.js';
import { RequestParser } from '../../protocol/parser.js';
import { parseStatsYaml } from '../../protocol/stats-yaml.js';
import type { Profile, Reply } from '../../protocol/types.js';
import { nextEvent, type RawConnection } from '../../target/connection.js';
import type { Session } from '../../target/sessions.js';
import { BEANSTALKD_CAPABILITIES, type Capabilities } from '../capabilities.js';
import type { FailureFacts } from '../causes.js';
import { describeEvent, STATS_REREAD_MS } from '../corpus-runner.js';
import { compareReply, transcriptEscape, type CompareOptions } from './compare.js';
import { describeOp, type JobRef, type Op } from './ops.js';

/** No observation within this distance of a model deadline (the 250 ms rule). */
export const TIMING_MARGIN_US = 250_000;
/** Where the harness sleeps to once a deadline is too close: past it by the margin and a bit. */
const PAST_DEADLINE_US = 270_000;
/** After a client-side close or a reserve that waits, before another connection relies on it (semantics h.3, h.4). */
const CLOSE_SETTLE_MS = 100;
/** How long the stats baseline waits for the server to see other connections close, and how often it asks. */
const QUIET_WAIT_MS = 5000;
const QUIET_POLL_MS = 20;
/** `advance` never sleeps longer than this. */
const MAX_ADVANCE_MS = 3500;
/**
 * Two timed events whose order matters must be this far apart. Every duration is whole
 * seconds, so a step creates deadlines at now + k s: steps that can create one are sent at a
 * sub-second phase at least this far from every live deadline's (beanstalkd's jitter is < 5 ms, b.3).
 */
const EVENT_SEPARATION_US = 120_000;
/** Deadlines further ahead than this cannot meet one a step creates now. */
const PHASE_HORIZON_US = 7_000_000;
const US = 1_000_000;
/** Steps that may create a deadline (directly, or by handing a job to a waiting reserver). */
const CREATES_DEADLINES = new Set<Op['op']>([
  'put', 'reserve', 'reserve-with-timeout', 'reserve-job', 'release', 'touch', 'pause-tube', 'kick', 'kick-job', 'close', 'quit',
]);

export interface HarnessConfig {
  profile: Profile;
  session: Session;
  /** Fresh tube names for this run: `${tubePrefix}${i}`. */
  tubePrefix: string;
  maxJobSize: number;
  /** Compare global `stats` (as deltas from the run's start); only when nobody else uses the server. */
  globalStats: boolean;
  /** Other clients may use the server: compare `list-tubes` over the run's own tubes only. */
  shared: boolean;
  replyTimeoutMs: number;
  /** What the server can do: steps on a command it lacks are not generated unless `subject` holds it. */
  capabilities?: Capabilities;
  /** The commands the property is about (capabilities.ts subjectCommands). */
  subject?: ReadonlySet<string>;
}

export type TraceStep =
  | { kind: 'send'; conn: string; text: string }
  | { kind: 'expect'; conn: string; expect: string; actual?: string }
  | { kind: 'sleep'; ms: number }
  | { kind: 'close'; conn: string };

/**
 * The sequence reached a point beanstalkd 1.12 does not answer deterministically: the TTR of a
 * job whose owner is not waiting in reserve, or a step that would create a deadline too close
 * to another one. Probed: such a job may stay reserved for seconds
 * past its deadline while other connections keep the server busy (reported to the semantics
 * doc's owner). The run ends there, as a pass of everything observed before it.
 */
export class Unpredictable extends Error {
  override name = 'Unpredictable';
}

/** The sequence broke: the server's reply differs from the model's. */
export class Mismatch extends Error {
  override name = 'Mismatch';
  constructor(
    readonly step: string,
    readonly expected: string,
    readonly actual: string,
    /** The command the reply answered, the fields that differ: for the root cause (causes.ts). */
    readonly facts: Omit<FailureFacts, 'expected' | 'actual'> = {},
  ) {
    super(`${step}: expected ${expected}, got ${actual}`);
  }
}

interface Slot {
  name: string;
  raw: RawConnection;
  id: ConnId;
  parser: RequestParser;
  /** Watched tube indexes, to keep at most one waiting connection per tube (see canRun). */
  watched: Set<number>;
  /** The command of the last step sent, and of the reserve still waiting: what a reply answers. */
  lastCommand?: string;
  waitingCommand?: string;
}

export class Harness {
  readonly model: ReferenceModel;
  readonly trace: TraceStep[] = [];
  private readonly slots: Array<Slot | undefined> = [];
  private readonly generations: number[] = [];
  /** Model ids of inserted jobs in creation order; JobRefs index into it. */
  private readonly jobIds: number[] = [];
  private readonly realIds = new Map<number, string>();
  private readonly startMs = performance.now();
  private readonly compare: CompareOptions;
  private statsBaselineTaken = false;
  private currentStep = 'setup';
  private currentOp: Op | undefined;
  private readonly caps: Capabilities;
  /** A stats value differed and was right when read again a moment later (the run went on). */
  statsLagSeen = false;

  constructor(private readonly config: HarnessConfig) {
    this.model = createModel({ profile: config.profile, maxJobSize: config.maxJobSize, startUs: 0 });
    this.caps = config.capabilities ?? BEANSTALKD_CAPABILITIES;
    this.compare = {
      ids: {
        real: (id) => this.realIds.get(id),
        bind: (id, real) => {
          this.realIds.set(id, real);
          this.jobIds.push(id);
        },
      },
      ownTube: config.shared ? (name) => name.startsWith(config.tubePrefix) : undefined,
      binlog: Boolean(config.session.binlog),
    };
  }

  tube(index: number): string {
    return `${this.config.tubePrefix}${index}`;
  }

  /** Whether the step can run now (fast-check skips it otherwise, also while shrinking). */
  canRun(op: Op): boolean {
    if (!('conn' in op)) return true;
    if (!this.serverCanCheck(op)) return false;
    const slot = this.slots[op.conn];
    if (slot && this.model.isWaiting(slot.id)) return op.op === 'close';
    if (op.op === 'reserve' || op.op === 'reserve-with-timeout') {
      // Which of several waiters gets a job is the server's choice (h.2); one waiter per tube keeps
      // every reply predictable.
      const watched = slot?.watched ?? new Set([0]);
      return this.slots.every(
        (other) => !other || other === slot || !this.model.isWaiting(other.id) || ![...other.watched].some((t) => watched.has(t)),
      );
    }
    if (op.op === 'stats') return this.config.globalStats;
    return true;
  }

  /**
   * Whether the step checks something on this server (capabilities.ts): a command it lacks is
   * only sent by a property about that command, and on a server whose ids are not integers no
   * step depends on the integer form (a literal id, a bad id on the wire).
   */
  private serverCanCheck(op: Op): boolean {
    const caps = this.caps;
    // A raw line is a command too (`stats \r\n`): one the server lacks answers differently.
    const command = op.op === 'raw' ? op.bytes.split(/[ \r]/)[0] : op.op;
    if (caps.missing.includes(command as never) && !this.config.subject?.has(command)) return false;
    if (caps.integerIds) return true;
    if (op.op === 'raw') return !op.name.startsWith('id-');
    if ('job' in op) return op.job !== 'missing' && this.jobIds.length > 0;
    return true;
  }

  async run(op: Op): Promise<void> {
    this.currentStep = describeOp(op);
    this.currentOp = op;
    await this.passTime(this.nowUs());
    // Opening the step's connection (and the stats baseline) takes real time, seconds on a busy
    // machine: done first, so that the margin checks below hold when the command goes out.
    if (op.op !== 'sleep' && op.op !== 'advance' && op.op !== 'close') {
      await this.slot(op.conn);
      if (op.op === 'stats' && !this.statsBaselineTaken) await this.takeStatsBaseline(op.conn);
      await this.passTime(this.nowUs());
    }
    if (CREATES_DEADLINES.has(op.op)) await this.separateFromDeadlines();
    if (op.op === 'reserve-with-timeout' && op.seconds > 0) this.otherDeadlinesUs.push(this.nowUs() + op.seconds * US);
    if (op.op === 'pause-tube') this.otherDeadlinesUs.push(this.nowUs() + op.delay * US);
    switch (op.op) {
      case 'sleep':
        await this.passTime(this.nowUs() + op.ms * 1000);
        return;
      case 'advance': {
        const due = this.model.nextDeadline();
        const untilUs = due === undefined ? this.nowUs() + 300_000 : due + PAST_DEADLINE_US;
        await this.passTime(Math.min(untilUs, this.nowUs() + MAX_ADVANCE_MS * 1000));
        return;
      }
      case 'close': {
        const slot = this.slots[op.conn];
        if (!slot) return;
        this.slots[op.conn] = undefined;
        this.trace.push({ kind: 'close', conn: slot.name });
        slot.raw.close();
        await this.verify(this.model.disconnect(slot.id, this.nowUs()));
        await this.passTime(this.nowUs() + CLOSE_SETTLE_MS * 1000);
        return;
      }
      default: {
        const slot = await this.slot(op.conn);
        await this.send(slot, ...this.render(op));
        // A reserve that waits sends no reply to wait for, and bytes on another connection can
        // overtake it (h.3: across CPUs on a busy machine): give the server the same moment as
        // after a close before any other connection acts.
        if (this.model.isWaiting(slot.id)) await this.passTime(this.nowUs() + CLOSE_SETTLE_MS * 1000);
        if (op.op === 'quit') {
          this.slots[op.conn] = undefined;
          slot.raw.close();
          await this.passTime(this.nowUs() + CLOSE_SETTLE_MS * 1000);
        }
      }
    }
  }

  /** After the last step: every reply the model expects has come, and nothing else. */
  async finish(): Promise<void> {
    this.currentStep = 'end of the sequence';
    // A short look for stray replies; passTime stops short of any deadline to look.
    await this.passTime(this.nowUs() + 50_000);
    this.checkNoStrayReplies();
  }

  /** Closes every connection; on a shared server also deletes the jobs the run left behind. */
  async close(): Promise<void> {
    for (const slot of this.slots) slot?.raw.close();
    this.slots.length = 0;
    if (!this.config.shared || this.realIds.size === 0) return;
    const conn = await this.config.session.connect();
    for (const id of this.realIds.values()) conn.send(Buffer.from(`delete ${id}\r\n`));
    for (let left = this.realIds.size; left > 0; left--) {
      if (!(await nextEvent(conn, this.config.replyTimeoutMs))) break;
    }
    conn.close();
  }

  private nowUs(): number {
    return Math.round((performance.now() - this.startMs) * 1000);
  }

  /**
   * Lets time pass until `untilUs` (at least until no model deadline is within the margin of
   * now). Model events run once their deadline is a margin in the past, and their replies are
   * checked then. Just before each deadline (a margin ahead of it) the harness looks for
   * replies the model does not expect yet, so a server that acts too early is caught too.
   */
  private async passTime(untilUs: number): Promise<void> {
    for (let guard = 0; guard < 100_000; guard++) {
      const nowUs = this.nowUs();
      // A deadline the model ran inside a command (one sent while time ran on, opening a
      // connection) still needs its margin: the server may not have reached it yet.
      if (nowUs - this.lastDeadlineRunUs < TIMING_MARGIN_US) {
        await this.sleep(this.lastDeadlineRunUs + PAST_DEADLINE_US - nowUs);
        continue;
      }
      const due = this.model.nextDeadline();
      if (due !== undefined && due <= nowUs + TIMING_MARGIN_US && this.idleTtrExpiry(due)) throw new Unpredictable();
      if (due !== undefined && due <= nowUs - TIMING_MARGIN_US) {
        // Replies of later events may already be here (their deadline is past but not yet
        // a margin ago), so strays are only looked for at the stop points below.
        await this.verify(this.model.tick(due), false);
        continue;
      }
      if (due !== undefined && Math.abs(nowUs - due) < TIMING_MARGIN_US) {
        await this.sleep(due + PAST_DEADLINE_US - nowUs);
        continue;
      }
      if (nowUs >= untilUs) return;
      // Here due is undefined or at least a margin ahead.
      const stopUs = due === undefined ? untilUs : Math.min(untilUs, due - TIMING_MARGIN_US);
      await this.sleep(stopUs - nowUs);
      this.checkNoStrayReplies();
    }
    throw new Error('model deadlines did not settle');
  }

  /** The latest deadline the model ran inside apply() rather than in passTime. */
  private lastDeadlineRunUs = -Infinity;

  /** Reserve timeouts and pause ends (the model API shows job deadlines only); stale ones are harmless. */
  private readonly otherDeadlinesUs: number[] = [];

  /** Waits for a sub-second phase far enough from every live deadline's (see EVENT_SEPARATION_US). */
  private async separateFromDeadlines(): Promise<void> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const nowUs = this.nowUs();
      const phases = this.liveDeadlines(nowUs).map((d) => d % US);
      const safe = (phase: number) => phases.every((p) => circularDistance(p, phase) >= EVENT_SEPARATION_US);
      if (safe(nowUs % US)) return;
      let waitUs = 0;
      for (let offset = 10_000; offset < US; offset += 10_000) {
        if (safe((nowUs + offset + 5_000) % US) && safe((nowUs + offset + 15_000) % US)) {
          waitUs = offset + 10_000;
          break;
        }
      }
      // Deadlines all around the clock: no instant orders the new deadline unambiguously.
      if (waitUs === 0) throw new Unpredictable('no sub-second phase is clear of the live deadlines');
      await this.passTime(nowUs + waitUs);
    }
    throw new Unpredictable('no sub-second phase stayed clear of the live deadlines');
  }

  private liveDeadlines(nowUs: number): number[] {
    const horizonUs = nowUs + PHASE_HORIZON_US;
    const deadlines = this.otherDeadlinesUs.filter((d) => d > nowUs && d < horizonUs);
    for (const id of this.jobIds) {
      const job = this.model.job(id);
      if ((job?.state === 'reserved' || job?.state === 'delayed') && job.deadlineUs > nowUs && job.deadlineUs < horizonUs + US) {
        deadlines.push(job.deadlineUs);
      }
    }
    return deadlines;
  }

  /** Whether the deadline `dueUs` is the TTR expiry of a job whose owner is not waiting. */
  private idleTtrExpiry(dueUs: number): boolean {
    return this.jobIds.some((id) => {
      const job = this.model.job(id);
      return job?.state === 'reserved' && job.deadlineUs === dueUs && job.reservedBy !== undefined && !this.model.isWaiting(job.reservedBy);
    });
  }

  private async sleep(durationUs: number): Promise<void> {
    const ms = Math.ceil(durationUs / 1000);
    if (ms <= 0) return;
    const last = this.trace.at(-1);
    if (last?.kind === 'sleep') last.ms += ms;
    else this.trace.push({ kind: 'sleep', ms });
    await this.config.session.sleep(ms);
  }

  private async slot(index: number): Promise<Slot> {
    const existing = this.slots[index];
    if (existing) return existing;
    const generation = (this.generations[index] = (this.generations[index] ?? 0) + 1);
    const letter = String.fromCharCode(65 + index);
    const slot: Slot = {
      name: generation === 1 ? letter : `${letter}${generation}`,
      raw: await this.config.session.connect(),
      id: this.model.connect(this.nowUs()),
      parser: new RequestParser({ profile: this.config.profile, maxJobSize: this.config.maxJobSize }),
      watched: new Set([0]),
    };
    this.slots[index] = slot;
    // Leave `default` alone: on a shared server other clients' jobs live there.
    const t0 = this.tube(0);
    // Opening may take long enough for a deadline to pass: a reply it brings on another
    // connection is not a stray but an event the next passTime gives the model.
    this.openingSlot = true;
    try {
      await this.send(slot, `use ${t0}\r\nwatch ${t0}\r\nignore default\r\n`);
    } finally {
      this.openingSlot = false;
    }
    return slot;
  }

  /** The baseline of the global counters, from a `stats` both the model and the server answer. */
  private async takeStatsBaseline(conn: number): Promise<void> {
    this.statsBaselineTaken = true;
    const slot = await this.slot(conn);
    const quiet = await this.awaitQuietServer(slot);
    if (quiet.waited) await this.passTime(this.nowUs());
    let real = await this.readBaselineStats(slot);
    // The baseline must count the polls before it: a server whose stats lag (a cache) answers
    // with values from before them, and every later delta would be off by what they did.
    const stale = (stats: Map<string, string>) => {
      const cmdStats = Number(stats.get('cmd-stats'));
      return Number.isFinite(cmdStats) && Number.isFinite(quiet.lastCmdStats) && cmdStats <= quiet.lastCmdStats;
    };
    if (stale(real)) {
      this.statsLagSeen = true;
      await this.passTime(this.nowUs() + STATS_REREAD_MS * 1000);
      real = await this.readBaselineStats(slot);
      if (stale(real)) {
        throw new Mismatch(this.currentStep, `OK <stats> with cmd-stats above ${quiet.lastCmdStats}`, `cmd-stats: ${real.get('cmd-stats')}`, {
          command: 'stats',
          fields: ['cmd-stats'],
        });
      }
    }
    this.compare.statsBaseline = { model: this.baselineModelStats!, real };
  }

  private baselineModelStats: Map<string, string> | undefined;

  /** One `stats` the model answers too (the model's answer is kept as the baseline's side). */
  private async readBaselineStats(slot: Slot): Promise<Map<string, string>> {
    const outputs = this.apply(slot, 'stats\r\n');
    this.trace.push({ kind: 'send', conn: slot.name, text: 'stats\\r\\n' });
    slot.raw.send(Buffer.from('stats\r\n'));
    const event = await nextEvent(slot.raw, this.config.replyTimeoutMs);
    const modelReply = outputs.find((o): o is Output & { reply: Reply } => 'reply' in o)?.reply;
    if (!event || event.kind !== 'reply' || event.reply.kind !== 'OK' || modelReply?.kind !== 'OK') {
      throw new Mismatch(this.currentStep, 'OK <stats>', event ? describeEvent(event) : 'no reply', { command: 'stats' });
    }
    this.baselineModelStats = parseStatsYaml(Buffer.from(modelReply.body).toString('latin1'));
    this.trace.push({ kind: 'expect', conn: slot.name, expect: 'map cmd-stats=1' });
    return parseStatsYaml(Buffer.from(event.reply.body).toString('latin1'));
  }

  /**
   * Waits until the server has seen every connection but this run's open ones close. Connections
   * this run or other checks closed may still be open on the server (their closes, and commands
   * before them, on their way: a busy machine, a TCP proxy), and whatever they do after the
   * baseline would count as this sequence's. Asks `stats` on `slot` (outside the model: only
   * cmd-stats, which the baseline absorbs) until current-connections is this run's own count, for
   * at most QUIET_WAIT_MS. Returns whether it had to wait, and the last poll's cmd-stats.
   */
  private async awaitQuietServer(slot: Slot): Promise<{ waited: boolean; lastCmdStats: number }> {
    const own = this.slots.filter((s) => s !== undefined).length;
    const deadlineMs = performance.now() + QUIET_WAIT_MS;
    for (let polls = 0; ; polls++) {
      slot.raw.send(Buffer.from('stats\r\n'));
      const event = await nextEvent(slot.raw, this.config.replyTimeoutMs);
      if (event?.kind !== 'reply' || event.reply.kind !== 'OK') {
        throw new Mismatch(this.currentStep, 'OK <stats>', event ? describeEvent(event) : 'no reply', { command: 'stats' });
      }
      const stats = parseStatsYaml(Buffer.from(event.reply.body).toString('latin1'));
      const open = Number(stats.get('current-connections'));
      if (!(open > own) || performance.now() >= deadlineMs) return { waited: polls > 0, lastCmdStats: Number(stats.get('cmd-stats')) };
      await this.config.session.sleep(QUIET_POLL_MS);
    }
  }

  /** Sends bytes (`{job}` pieces are model ids, mapped to the server's ids) and checks every reply. */
  private async send(slot: Slot, ...pieces: Array<string | { job: number }>): Promise<void> {
    const modelText = pieces.map((p) => (typeof p === 'string' ? p : String(p.job))).join('');
    const realText = pieces.map((p) => (typeof p === 'string' ? p : (this.realIds.get(p.job) ?? String(p.job)))).join('');
    this.trace.push({
      kind: 'send',
      conn: slot.name,
      // Every send ends in CR LF (escaped), so only spaces inside a piece's edges are interior ones.
      text: pieces.map((p) => (typeof p === 'string' ? transcriptEscape(Buffer.from(p, 'latin1'), false) : `$j${p.job}`)).join(''),
    });
    slot.raw.send(Buffer.from(realText, 'latin1'));
    slot.lastCommand = modelText.split(/[ \r]/)[0];
    const outputs = this.apply(slot, modelText);
    if (this.model.isWaiting(slot.id)) slot.waitingCommand = slot.lastCommand;
    await this.verify(outputs);
  }

  /** Feeds the bytes through beanstalkd's framing into the model, as the server would read them. */
  private apply(slot: Slot, text: string): Output[] {
    slot.parser.push(Buffer.from(text, 'latin1'));
    const outputs: Output[] = [];
    const nowUs = this.nowUs();
    // Deadlines already due run first (the model would run them inside apply anyway); the latest
    // is remembered, so that the next step keeps the margin from it (passTime).
    for (let due = this.model.nextDeadline(); due !== undefined && due <= nowUs; due = this.model.nextDeadline()) {
      outputs.push(...this.model.tick(due));
      this.lastDeadlineRunUs = Math.max(this.lastDeadlineRunUs, due);
    }
    for (let request = slot.parser.next(); request !== undefined; request = slot.parser.next()) {
      outputs.push(...this.model.apply(slot.id, request, nowUs));
      if (request.kind === 'quit' || this.model.isWaiting(slot.id)) break;
    }
    return outputs;
  }

  private async verify(outputs: readonly Output[], checkStrays = true): Promise<void> {
    for (const output of outputs) {
      const slot = this.slots.find((s) => s?.id === output.conn);
      if (!slot) continue; // closed by us: nothing can be read from it any more
      const event = await nextEvent(slot.raw, this.config.replyTimeoutMs);
      if ('close' in output) {
        this.trace.push({ kind: 'expect', conn: slot.name, expect: 'closed' });
        if (event?.kind !== 'closed') this.fail(slot, 'closed', event ? describeEvent(event) : `nothing within ${this.config.replyTimeoutMs} ms`);
        continue;
      }
      this.trackWatch(slot, output.reply);
      const command = slot.waitingCommand ?? slot.lastCommand;
      if (slot.waitingCommand && !this.model.isWaiting(slot.id)) slot.waitingCommand = undefined;
      const result = compareReply(output.reply, event, this.compare);
      this.trace.push({ kind: 'expect', conn: slot.name, expect: result.expect });
      if (!result.ok) {
        const actual = event ? result.actual : `no reply within ${this.config.replyTimeoutMs} ms`;
        const facts = { command, fields: result.fields };
        if (event?.kind === 'reply' && (await this.statsArriveLate(slot, output.reply))) {
          // Tolerated: the values came, late. The run goes on to find other differences.
          this.statsLagSeen = true;
          continue;
        }
        this.fail(slot, result.expect, actual, facts);
      }
    }
    if (checkStrays) this.checkNoStrayReplies();
  }

  private openingSlot = false;

  private checkNoStrayReplies(): void {
    if (this.openingSlot) return;
    for (const slot of this.slots) {
      const event = slot?.raw.peek();
      if (slot && event) this.fail(slot, 'nothing 100ms', describeEvent(event), { command: slot.waitingCommand ?? slot.lastCommand });
    }
  }

  private fail(slot: Slot, expected: string, actual: string, facts: Omit<FailureFacts, 'expected' | 'actual'> = {}): never {
    const last = this.trace.at(-1);
    if (last?.kind === 'expect' && last.conn === slot.name && last.expect === expected) last.actual = actual;
    else this.trace.push({ kind: 'expect', conn: slot.name, expect: expected, actual });
    throw new Mismatch(this.currentStep, `${slot.name}< ${expected}`, actual, facts);
  }

  /**
   * A stats or stats-tube reply that differs is read again once, STATS_REREAD_MS later (the
   * model reads it again too): whether the values arrive late, as from a server that caches
   * stats, rather than not at all.
   */
  private async statsArriveLate(slot: Slot, expected: Reply): Promise<boolean> {
    const op = this.currentOp;
    if (expected.kind !== 'OK' || (op?.op !== 'stats' && op?.op !== 'stats-tube') || this.slots[op.conn] !== slot) return false;
    const line = op.op === 'stats-tube' ? `stats-tube ${this.tube(op.tube)}\r\n` : 'stats\r\n';
    await this.passTime(this.nowUs() + STATS_REREAD_MS * 1000);
    const outputs = this.apply(slot, line);
    this.trace.push({ kind: 'send', conn: slot.name, text: transcriptEscape(Buffer.from(line, 'latin1'), false) });
    slot.raw.send(Buffer.from(line, 'latin1'));
    const event = await nextEvent(slot.raw, this.config.replyTimeoutMs);
    const modelReply = outputs.find((o): o is Output & { reply: Reply } => 'reply' in o && o.conn === slot.id)?.reply;
    if (!modelReply) return false;
    const result = compareReply(modelReply, event, this.compare);
    this.trace.push({ kind: 'expect', conn: slot.name, expect: result.expect });
    return result.ok;
  }

  /** Keeps the watch list the single-waiter rule needs, from the model's replies. */
  private trackWatch(slot: Slot, reply: Reply): void {
    const pending = this.lastWatchChange;
    this.lastWatchChange = undefined;
    if (!pending || reply.kind !== 'WATCHING') return;
    if (pending.add) slot.watched.add(pending.tube);
    else slot.watched.delete(pending.tube);
  }

  private lastWatchChange: { tube: number; add: boolean } | undefined;

  /**
   * The job a step names. Steps only the owner can do (release, bury, touch) mostly name one of
   * the connection's own reservations, else random picks would almost never reach the rule.
   */
  private jobId(ref: JobRef, conn: number, ownerStep: boolean): string | { job: number } {
    if (ref === 'missing' || this.jobIds.length === 0) return '0';
    const slot = this.slots[conn];
    const own = ownerStep && slot ? this.jobIds.filter((id) => this.model.job(id)?.reservedBy === slot.id) : [];
    const pool = own.length > 0 && ref % 4 !== 3 ? own : this.jobIds;
    return { job: pool[ref % pool.length] };
  }

  /** The bytes of a step, with `{job}` placeholders for job ids. */
  private render(op: Exclude<Op, { op: 'sleep' | 'advance' | 'close' }>): Array<string | { job: number }> {
    switch (op.op) {
      case 'put':
        return [`put ${op.pri} ${op.delay} ${op.ttr} ${op.body.length}\r\n${op.body}\r\n`];
      case 'watch':
      case 'ignore':
        this.lastWatchChange = { tube: op.tube, add: op.op === 'watch' };
        return [`${op.op} ${this.tube(op.tube)}\r\n`];
      case 'use':
      case 'stats-tube':
        return [`${op.op} ${this.tube(op.tube)}\r\n`];
      case 'pause-tube':
        return [`pause-tube ${this.tube(op.tube)} ${op.delay}\r\n`];
      case 'reserve-with-timeout':
        return [`reserve-with-timeout ${op.seconds}\r\n`];
      case 'reserve-job':
      case 'delete':
      case 'touch':
      case 'peek':
      case 'kick-job':
      case 'stats-job':
        return [`${op.op} `, this.jobId(op.job, op.conn, op.op === 'touch'), '\r\n'];
      case 'release':
        return ['release ', this.jobId(op.job, op.conn, true), ` ${op.pri} ${op.delay}\r\n`];
      case 'bury':
        return ['bury ', this.jobId(op.job, op.conn, true), ` ${op.pri}\r\n`];
      case 'kick':
        return [`kick ${op.bound}\r\n`];
      case 'raw':
        return [op.bytes];
      default:
        return [`${op.op}\r\n`];
    }
  }
}

function circularDistance(a: number, b: number): number {
  const d = Math.abs(a - b) % US;
  return Math.min(d, US - d);
}
