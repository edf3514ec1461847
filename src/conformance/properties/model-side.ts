// The model side of the property harness: the reference model with its connections, the job
// id map (model ids to the server's), and the command logic a step needs before any byte goes
// out. It decides whether a step can run (canRun), renders a step into the bytes the model and
// the server get (ids mapped), feeds bytes through beanstalkd's framing into the model, keeps
// the watch lists the single-waiter rule needs, and knows the deadlines the timing rules keep
// their distance from (deadlines.ts). No sockets and no clock: the driver (harness.ts) passes
// `nowUs` in.
import type { ConnId, Output, ReferenceModel } from '../../model/api.js';
import { createModel } from '../../model/index.js';
import { RequestParser } from '../../protocol/parser.js';
import type { Profile, Reply } from '../../protocol/types.js';
import { BEANSTALKD_CAPABILITIES, type Capabilities } from '../capabilities.js';
import { transcriptEscape, type IdMap } from './compare.js';
import { liveDeadlinesUs, stepDeadlinesUs, type JobDeadline } from './deadlines.js';
import type { JobRef, Op } from './ops.js';

export interface ModelSideConfig {
  profile: Profile;
  maxJobSize: number;
  /** Fresh tube names for this run: `${tubePrefix}${i}`. */
  tubePrefix: string;
  /** Global `stats` is compared (only when nobody else uses the server). */
  globalStats: boolean;
  /** What the server can do: steps on a command it lacks are not generated unless `subject` holds it. */
  capabilities?: Capabilities;
  /** The commands the property is about (capabilities.ts subjectCommands). */
  subject?: ReadonlySet<string>;
}

/** A step that sends bytes on a connection (the others only let time pass or close). */
export type SentOp = Exclude<Op, { op: 'sleep' | 'advance' | 'close' }>;

/** A piece of a step's bytes: text, or a model job id the server knows by its own id. */
export type Piece = string | { job: number };

/** A watch or ignore step's change of the watch list, made if the model answers WATCHING. */
export interface WatchChange {
  tube: number;
  add: boolean;
}

/** A step rendered: its bytes, and what it changes in the model side's bookkeeping. */
export interface Rendered {
  pieces: Piece[];
  watchChange?: WatchChange;
}

/** The bytes of a rendered step three ways: for the model, for the server, and for the history. */
export interface Wire {
  model: string;
  real: string;
  /** Transcript text (corpus/FORMAT.md), `$jN` for the model's job N. */
  trace: string;
}

interface ModelConn {
  id: ConnId;
  parser: RequestParser;
  /** Watched tube indexes, to keep at most one waiting connection per tube (see canRun). */
  watched: Set<number>;
  /** The command of the last step sent, and of the reserve still waiting: what a reply answers. */
  lastCommand?: string;
  waitingCommand?: string;
}

export class ModelSide {
  private readonly model: ReferenceModel;
  /** Model ids to the server's: bound by the checker when the server answers INSERTED. */
  readonly ids: IdMap;
  /** The model's connections by step connection index (undefined: not open). */
  private readonly conns: Array<ModelConn | undefined> = [];
  /** Model ids of inserted jobs in creation order; JobRefs index into it. */
  private readonly jobIds: number[] = [];
  private readonly realIds = new Map<number, string>();
  private readonly caps: Capabilities;
  /** Reserve timeouts and pause ends (the model API shows job deadlines only); stale ones are harmless. */
  private readonly otherDeadlinesUs: number[] = [];
  /** The latest deadline the model ran inside apply() rather than when the driver let time pass. */
  lastDeadlineRunUs = -Infinity;

  constructor(private readonly config: ModelSideConfig) {
    this.model = createModel({ profile: config.profile, maxJobSize: config.maxJobSize, startUs: 0 });
    this.caps = config.capabilities ?? BEANSTALKD_CAPABILITIES;
    this.ids = {
      real: (id) => this.realIds.get(id),
      bind: (id, real) => {
        this.realIds.set(id, real);
        this.jobIds.push(id);
      },
    };
  }

  tube(index: number): string {
    return `${this.config.tubePrefix}${index}`;
  }

  /** The server's ids of every job the run inserted (to delete them on a shared server). */
  realJobIds(): string[] {
    return [...this.realIds.values()];
  }

  /** Whether the step can run now (fast-check skips it otherwise, also while shrinking). */
  canRun(op: Op): boolean {
    if (!('conn' in op)) return true;
    if (!this.serverCanCheck(op)) return false;
    const conn = this.conns[op.conn];
    if (conn && this.model.isWaiting(conn.id)) return op.op === 'close';
    if (op.op === 'reserve' || op.op === 'reserve-with-timeout') {
      // Which of several waiters gets a job is the server's choice (h.2); one waiter per tube keeps
      // every reply predictable.
      const watched = conn?.watched ?? new Set([0]);
      return this.conns.every(
        (other) => !other || other === conn || !this.model.isWaiting(other.id) || ![...other.watched].some((t) => watched.has(t)),
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

  /** Opens the model's side of step connection `index` (it watches tube 0 once its setup is sent). */
  connect(index: number, nowUs: number): ConnId {
    const conn: ModelConn = {
      id: this.model.connect(nowUs),
      parser: new RequestParser({ profile: this.config.profile, maxJobSize: this.config.maxJobSize }),
      watched: new Set([0]),
    };
    this.conns[index] = conn;
    return conn.id;
  }

  /** Forgets step connection `index` (the client closed it, or sent quit); its outputs are no longer read. */
  drop(index: number): ConnId | undefined {
    const conn = this.conns[index];
    this.conns[index] = undefined;
    return conn?.id;
  }

  /** The model's side of a client-side close (another connection may get the jobs it held). */
  disconnect(id: ConnId, nowUs: number): Output[] {
    return this.model.disconnect(id, nowUs);
  }

  /** The model's next deadline: job deadlines and its own timers (reserve timeouts, pauses). */
  nextDeadline(): number | undefined {
    return this.model.nextDeadline();
  }

  /** Runs the model's events due at `dueUs`: the replies the server must send then. */
  tick(dueUs: number): Output[] {
    return this.model.tick(dueUs);
  }

  isWaiting(index: number): boolean {
    const conn = this.conns[index];
    return conn !== undefined && this.model.isWaiting(conn.id);
  }

  /** The bytes of a step, with `{job}` pieces for job ids, and the watch change it makes. */
  render(op: SentOp): Rendered {
    switch (op.op) {
      case 'put':
        return { pieces: [`put ${op.pri} ${op.delay} ${op.ttr} ${op.body.length}\r\n${op.body}\r\n`] };
      case 'watch':
      case 'ignore':
        return { pieces: [`${op.op} ${this.tube(op.tube)}\r\n`], watchChange: { tube: op.tube, add: op.op === 'watch' } };
      case 'use':
      case 'stats-tube':
        return { pieces: [`${op.op} ${this.tube(op.tube)}\r\n`] };
      case 'pause-tube':
        return { pieces: [`pause-tube ${this.tube(op.tube)} ${op.delay}\r\n`] };
      case 'reserve-with-timeout':
        return { pieces: [`reserve-with-timeout ${op.seconds}\r\n`] };
      case 'reserve-job':
      case 'delete':
      case 'touch':
      case 'peek':
      case 'kick-job':
      case 'stats-job':
        return { pieces: [`${op.op} `, this.jobId(op.job, op.conn, op.op === 'touch'), '\r\n'] };
      case 'release':
        return { pieces: ['release ', this.jobId(op.job, op.conn, true), ` ${op.pri} ${op.delay}\r\n`] };
      case 'bury':
        return { pieces: ['bury ', this.jobId(op.job, op.conn, true), ` ${op.pri}\r\n`] };
      case 'kick':
        return { pieces: [`kick ${op.bound}\r\n`] };
      case 'raw':
        return { pieces: [op.bytes] };
      default:
        return { pieces: [`${op.op}\r\n`] };
    }
  }

  /** A stats or stats-tube step's line, to read it again. */
  rereadLine(op: Op): string {
    return op.op === 'stats-tube' ? `stats-tube ${this.tube(op.tube)}\r\n` : 'stats\r\n';
  }

  /** Pieces as bytes: model ids for the model, the server's ids for the server, `$jN` in the history. */
  wire(pieces: readonly Piece[]): Wire {
    return {
      model: pieces.map((p) => (typeof p === 'string' ? p : String(p.job))).join(''),
      real: pieces.map((p) => (typeof p === 'string' ? p : (this.realIds.get(p.job) ?? String(p.job)))).join(''),
      // Every send ends in CR LF (escaped), so only spaces inside a piece's edges are interior ones.
      trace: pieces.map((p) => (typeof p === 'string' ? transcriptEscape(Buffer.from(p, 'latin1'), false) : `$j${p.job}`)).join(''),
    };
  }

  /**
   * A step's bytes sent on connection `index` at `nowUs`: the model's outputs, every one of which
   * the server must match. The step's watch change is made if the model answers it WATCHING.
   */
  send(index: number, modelText: string, nowUs: number, watchChange?: WatchChange): Output[] {
    const conn = this.conns[index]!;
    conn.lastCommand = modelText.split(/[ \r]/)[0];
    const outputs = this.apply(index, modelText, nowUs);
    if (this.model.isWaiting(conn.id)) conn.waitingCommand = conn.lastCommand;
    if (watchChange) {
      const answer = outputs.find((o): o is Output & { reply: Reply } => 'reply' in o && o.conn === conn.id);
      conn.watched = watchedAfter(conn.watched, watchChange, answer?.reply);
    }
    return outputs;
  }

  /** Feeds the bytes through beanstalkd's framing into the model, as the server would read them. */
  apply(index: number, text: string, nowUs: number): Output[] {
    const conn = this.conns[index]!;
    conn.parser.push(Buffer.from(text, 'latin1'));
    const outputs: Output[] = [];
    // Deadlines already due run first (the model would run them inside apply anyway); the latest
    // is remembered, so that the next step keeps the margin from it (deadlines.ts nextTimeMove).
    for (let due = this.model.nextDeadline(); due !== undefined && due <= nowUs; due = this.model.nextDeadline()) {
      outputs.push(...this.model.tick(due));
      this.lastDeadlineRunUs = Math.max(this.lastDeadlineRunUs, due);
    }
    for (let request = conn.parser.next(); request !== undefined; request = conn.parser.next()) {
      outputs.push(...this.model.apply(conn.id, request, nowUs));
      if (request.kind === 'quit' || this.model.isWaiting(conn.id)) break;
    }
    return outputs;
  }

  /** The command a reply on connection `index` answers; a reserve that stopped waiting is answered by it. */
  answeredCommand(index: number): string | undefined {
    const conn = this.conns[index];
    if (!conn) return undefined;
    const command = conn.waitingCommand ?? conn.lastCommand;
    if (conn.waitingCommand && !this.model.isWaiting(conn.id)) conn.waitingCommand = undefined;
    return command;
  }

  /** The command a stray reply on connection `index` would answer. */
  pendingCommand(index: number): string | undefined {
    const conn = this.conns[index];
    return conn?.waitingCommand ?? conn?.lastCommand;
  }

  /** Remembers the deadlines a step sent at `nowUs` creates beside job deadlines. */
  noteStepDeadlines(op: Op, nowUs: number): void {
    this.otherDeadlinesUs.push(...stepDeadlinesUs(op, nowUs));
  }

  /** The deadlines a step sent at `nowUs` could meet (deadlines.ts phaseWaitUs). */
  liveDeadlinesUs(nowUs: number): number[] {
    const jobs: JobDeadline[] = [];
    for (const id of this.jobIds) {
      const job = this.model.job(id);
      if (job) jobs.push(job);
    }
    return liveDeadlinesUs(nowUs, this.otherDeadlinesUs, jobs);
  }

  /** Whether the deadline `dueUs` is the TTR expiry of a job whose owner is not waiting. */
  idleTtrExpiry(dueUs: number): boolean {
    return this.jobIds.some((id) => {
      const job = this.model.job(id);
      return job?.state === 'reserved' && job.deadlineUs === dueUs && job.reservedBy !== undefined && !this.model.isWaiting(job.reservedBy);
    });
  }

  /**
   * The job a step names. Steps only the owner can do (release, bury, touch) mostly name one of
   * the connection's own reservations, else random picks would almost never reach the rule.
   */
  private jobId(ref: JobRef, index: number, ownerStep: boolean): Piece {
    if (ref === 'missing' || this.jobIds.length === 0) return '0';
    const conn = this.conns[index];
    const own = ownerStep && conn ? this.jobIds.filter((id) => this.model.job(id)?.reservedBy === conn.id) : [];
    const pool = own.length > 0 && ref % 4 !== 3 ? own : this.jobIds;
    return { job: pool[ref % pool.length] };
  }
}

/** A watch list after a watch or ignore step the model answered with `reply` (unchanged unless WATCHING). */
export function watchedAfter(watched: ReadonlySet<number>, change: WatchChange, reply: Reply | undefined): Set<number> {
  const next = new Set(watched);
  if (reply?.kind !== 'WATCHING') return next;
  if (change.add) next.add(change.tube);
  else next.delete(change.tube);
  return next;
}
