// The property driver: runs one generated sequence of steps against a server and against the
// reference model side by side, in the manner of Jepsen and fast-check. This file owns the
// I/O: the server's sockets, the clock (the model's clock is the real elapsed time of the
// run, and the driver sleeps), the stats baseline and re-reads, and the history it records,
// which becomes a replayable transcript when the sequence fails. What a step sends and what the
// model answers is model-side.ts; how long to wait is deadlines.ts (before each step no deadline
// the model knows lies within TIMING_MARGIN_US of "now": the real server then has exactly one
// right answer, semantics h.5); whether a reply is right is checker.ts.
import { performance } from 'node:perf_hooks';
import type { ConnId, Output } from '../../model/api.js';
import type { Profile } from '../../protocol/types.js';
import { nextEvent, type RawConnection } from '../../target/connection.js';
import type { Session } from '../../target/sessions.js';
import type { Capabilities } from '../capabilities.js';
import { describeEvent, STATS_REREAD_MS } from '../corpus-runner.js';
import {
  baselineIsStale,
  baselineStats,
  checkOutput,
  checkReread,
  Mismatch,
  serverIsQuiet,
  statsOf,
  strayReply,
  Unpredictable,
  type MismatchFacts,
} from './checker.js';
import { transcriptEscape, type CompareOptions } from './compare.js';
import { advanceUntilUs, createsDeadlines, nextTimeMove, phaseWaitUs } from './deadlines.js';
import { History, type TraceStep } from './history.js';
import { ModelSide, type Rendered } from './model-side.js';
import { describeOp, type Op } from './ops.js';

export { Mismatch, Unpredictable } from './checker.js';
export { TIMING_MARGIN_US } from './deadlines.js';
export type { TraceStep } from './history.js';

/** After a client-side close or a reserve that waits, before another connection relies on it (semantics h.3, h.4). */
const CLOSE_SETTLE_MS = 100;
/** How long the stats baseline waits for the server to see other connections close, and how often it asks. */
const QUIET_WAIT_MS = 5000;
const QUIET_POLL_MS = 20;
/** How long `finish` looks for stray replies (passTime stops short of any deadline to look). */
const FINISH_LOOK_US = 50_000;

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

/** A step connection's server side (its model side is in ModelSide under the same index). */
interface Slot {
  index: number;
  name: string;
  raw: RawConnection;
  id: ConnId;
}

export class Harness {
  private readonly side: ModelSide;
  private readonly history = new History();
  private readonly slots: Array<Slot | undefined> = [];
  private readonly generations: number[] = [];
  private readonly startMs = performance.now();
  private readonly compare: CompareOptions;
  private statsBaselineTaken = false;
  private currentStep = 'setup';
  private currentOp: Op | undefined;
  /** While a connection is being opened, replies on others are events the next passTime gives the model, not strays. */
  private openingSlot = false;
  /** A stats value differed and was right when read again a moment later (the run went on). */
  statsLagSeen = false;

  constructor(private readonly config: HarnessConfig) {
    this.side = new ModelSide(config);
    this.compare = {
      ids: this.side.ids,
      ownTube: config.shared ? (name) => name.startsWith(config.tubePrefix) : undefined,
      binlog: Boolean(config.session.binlog),
    };
  }

  /** The history so far: everything sent and expected, and the sleeps between. */
  get trace(): TraceStep[] {
    return this.history.steps;
  }

  /** Whether the step can run now (fast-check skips it otherwise, also while shrinking). */
  canRun(op: Op): boolean {
    return this.side.canRun(op);
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
    if (createsDeadlines(op)) await this.separateFromDeadlines();
    this.side.noteStepDeadlines(op, this.nowUs());
    switch (op.op) {
      case 'sleep':
        await this.passTime(this.nowUs() + op.ms * 1000);
        return;
      case 'advance':
        await this.passTime(advanceUntilUs(this.nowUs(), this.side.nextDeadline()));
        return;
      case 'close': {
        const slot = this.slots[op.conn];
        if (!slot) return;
        this.slots[op.conn] = undefined;
        this.side.drop(op.conn);
        this.history.close(slot.name);
        slot.raw.close();
        await this.verify(this.side.disconnect(slot.id, this.nowUs()));
        await this.passTime(this.nowUs() + CLOSE_SETTLE_MS * 1000);
        return;
      }
      default: {
        const slot = await this.slot(op.conn);
        await this.send(slot, this.side.render(op));
        // A reserve that waits sends no reply to wait for, and bytes on another connection can
        // overtake it (h.3: across CPUs on a busy machine): give the server the same moment as
        // after a close before any other connection acts.
        if (this.side.isWaiting(op.conn)) await this.passTime(this.nowUs() + CLOSE_SETTLE_MS * 1000);
        if (op.op === 'quit') {
          this.slots[op.conn] = undefined;
          this.side.drop(op.conn);
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
    await this.passTime(this.nowUs() + FINISH_LOOK_US);
    this.checkNoStrayReplies();
  }

  /** Closes every connection; on a shared server also deletes the jobs the run left behind. */
  async close(): Promise<void> {
    for (const slot of this.slots) slot?.raw.close();
    this.slots.length = 0;
    const realIds = this.side.realJobIds();
    if (!this.config.shared || realIds.length === 0) return;
    const conn = await this.config.session.connect();
    for (const id of realIds) conn.send(Buffer.from(`delete ${id}\r\n`));
    for (let left = realIds.length; left > 0; left--) {
      if (!(await nextEvent(conn, this.config.replyTimeoutMs))) break;
    }
    conn.close();
  }

  private nowUs(): number {
    return Math.round((performance.now() - this.startMs) * 1000);
  }

  /**
   * Lets time pass until `untilUs` (at least until no model deadline is within the margin of
   * now), one move of deadlines.ts nextTimeMove at a time: model events run once their deadline
   * is a margin in the past and their replies are checked then; just before each deadline the
   * driver looks for replies the model does not expect yet.
   */
  private async passTime(untilUs: number): Promise<void> {
    for (let guard = 0; guard < 100_000; guard++) {
      const move = nextTimeMove({
        nowUs: this.nowUs(),
        untilUs,
        dueUs: this.side.nextDeadline(),
        lastDeadlineRunUs: this.side.lastDeadlineRunUs,
        idleTtrExpiry: (dueUs) => this.side.idleTtrExpiry(dueUs),
      });
      switch (move.kind) {
        case 'done':
          return;
        case 'unpredictable':
          throw new Unpredictable();
        case 'run-deadline':
          await this.verify(this.side.tick(move.dueUs), false);
          break;
        case 'sleep':
          await this.sleep(move.us);
          break;
        case 'look':
          await this.sleep(move.us);
          this.checkNoStrayReplies();
          break;
      }
    }
    throw new Error('model deadlines did not settle');
  }

  /** Waits for a sub-second phase far enough from every live deadline's (deadlines.ts phaseWaitUs). */
  private async separateFromDeadlines(): Promise<void> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const nowUs = this.nowUs();
      const waitUs = phaseWaitUs(nowUs, this.side.liveDeadlinesUs(nowUs));
      if (waitUs === 0) return;
      // Deadlines all around the clock: no instant orders the new deadline unambiguously.
      if (waitUs === undefined) throw new Unpredictable('no sub-second phase is clear of the live deadlines');
      await this.passTime(nowUs + waitUs);
    }
    throw new Unpredictable('no sub-second phase stayed clear of the live deadlines');
  }

  private async sleep(durationUs: number): Promise<void> {
    const ms = Math.ceil(durationUs / 1000);
    if (ms <= 0) return;
    this.history.sleep(ms);
    await this.config.session.sleep(ms);
  }

  private async slot(index: number): Promise<Slot> {
    const existing = this.slots[index];
    if (existing) return existing;
    const generation = (this.generations[index] = (this.generations[index] ?? 0) + 1);
    const letter = String.fromCharCode(65 + index);
    const raw = await this.config.session.connect();
    const slot: Slot = { index, name: generation === 1 ? letter : `${letter}${generation}`, raw, id: this.side.connect(index, this.nowUs()) };
    this.slots[index] = slot;
    // Leave `default` alone: on a shared server other clients' jobs live there.
    const t0 = this.side.tube(0);
    // Opening may take long enough for a deadline to pass: a reply it brings on another
    // connection is not a stray but an event the next passTime gives the model.
    this.openingSlot = true;
    try {
      await this.send(slot, { pieces: [`use ${t0}\r\nwatch ${t0}\r\nignore default\r\n`] });
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
    let baseline = await this.readBaselineStats(slot);
    // The baseline must count the polls before it: a server whose stats lag (a cache) answers
    // with values from before them, and every later delta would be off by what they did.
    if (baselineIsStale(baseline.real, quiet.lastCmdStats)) {
      this.statsLagSeen = true;
      await this.passTime(this.nowUs() + STATS_REREAD_MS * 1000);
      baseline = await this.readBaselineStats(slot);
      if (baselineIsStale(baseline.real, quiet.lastCmdStats)) {
        throw new Mismatch(this.currentStep, `OK <stats> with cmd-stats above ${quiet.lastCmdStats}`, `cmd-stats: ${baseline.real.get('cmd-stats')}`, {
          command: 'stats',
          fields: ['cmd-stats'],
        });
      }
    }
    this.compare.statsBaseline = baseline;
  }

  /** One `stats` the model answers too: the model's and the server's maps. */
  private async readBaselineStats(slot: Slot): Promise<{ model: Map<string, string>; real: Map<string, string> }> {
    const outputs = this.side.apply(slot.index, 'stats\r\n', this.nowUs());
    this.history.send(slot.name, 'stats\\r\\n');
    slot.raw.send(Buffer.from('stats\r\n'));
    const event = await nextEvent(slot.raw, this.config.replyTimeoutMs);
    const baseline = baselineStats(outputs, event);
    if (!baseline) throw new Mismatch(this.currentStep, 'OK <stats>', event ? describeEvent(event) : 'no reply', { command: 'stats' });
    this.history.expect(slot.name, 'map cmd-stats=1');
    return baseline;
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
      const stats = statsOf(event);
      if (!stats) throw new Mismatch(this.currentStep, 'OK <stats>', event ? describeEvent(event) : 'no reply', { command: 'stats' });
      if (serverIsQuiet(stats, own) || performance.now() >= deadlineMs) return { waited: polls > 0, lastCmdStats: Number(stats.get('cmd-stats')) };
      await this.config.session.sleep(QUIET_POLL_MS);
    }
  }

  /** Sends a rendered step (`{job}` pieces mapped to the server's ids) and checks every reply. */
  private async send(slot: Slot, rendered: Rendered): Promise<void> {
    const wire = this.side.wire(rendered.pieces);
    this.history.send(slot.name, wire.trace);
    slot.raw.send(Buffer.from(wire.real, 'latin1'));
    await this.verify(this.side.send(slot.index, wire.model, this.nowUs(), rendered.watchChange));
  }

  /** Reads the server's event for every model output and has the checker judge it. */
  private async verify(outputs: readonly Output[], checkStrays = true): Promise<void> {
    for (const output of outputs) {
      const slot = this.slots.find((s) => s?.id === output.conn);
      if (!slot) continue; // closed by us: nothing can be read from it any more
      const event = await nextEvent(slot.raw, this.config.replyTimeoutMs);
      const op = this.currentOp;
      const verdict = checkOutput(output, event, {
        compare: this.compare,
        replyTimeoutMs: this.config.replyTimeoutMs,
        command: 'close' in output ? undefined : this.side.answeredCommand(slot.index),
        op,
        onStepConnection: op !== undefined && 'conn' in op && op.conn === slot.index,
      });
      this.history.expect(slot.name, verdict.expect);
      if (verdict.ok) continue;
      if (verdict.rereadable && (await this.statsArriveLate(slot))) {
        // Tolerated: the values came, late. The run goes on to find other differences.
        this.statsLagSeen = true;
        continue;
      }
      this.fail(slot, verdict.expect, verdict.actual, verdict.facts);
    }
    if (checkStrays) this.checkNoStrayReplies();
  }

  private checkNoStrayReplies(): void {
    if (this.openingSlot) return;
    for (const slot of this.slots) {
      const event = slot?.raw.peek();
      if (!slot || !event) continue;
      const stray = strayReply(event, this.side.pendingCommand(slot.index));
      this.fail(slot, stray.expect, stray.actual, stray.facts);
    }
  }

  private fail(slot: Slot, expected: string, actual: string, facts: MismatchFacts = {}): never {
    this.history.failed(slot.name, expected, actual);
    throw new Mismatch(this.currentStep, `${slot.name}< ${expected}`, actual, facts);
  }

  /**
   * A stats or stats-tube reply that differs (on the step's own connection: checker.ts) is read
   * again once, STATS_REREAD_MS later (the model reads it again too): whether the values arrive
   * late, as from a server that caches stats, rather than not at all.
   */
  private async statsArriveLate(slot: Slot): Promise<boolean> {
    const op = this.currentOp;
    if (op?.op !== 'stats' && op?.op !== 'stats-tube') return false;
    const line = this.side.rereadLine(op);
    await this.passTime(this.nowUs() + STATS_REREAD_MS * 1000);
    const outputs = this.side.apply(slot.index, line, this.nowUs());
    this.history.send(slot.name, transcriptEscape(Buffer.from(line, 'latin1'), false));
    slot.raw.send(Buffer.from(line, 'latin1'));
    const event = await nextEvent(slot.raw, this.config.replyTimeoutMs);
    const reread = checkReread(outputs, slot.id, event, this.compare);
    if (!reread) return false;
    this.history.expect(slot.name, reread.expect);
    return reread.ok;
  }
}
