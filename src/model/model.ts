// The ReferenceModel (api.ts) over ModelCore: time handling, connection lookup, job views.
import type { JobId, Request } from '../protocol/types.js';
import { DEFAULT_MAX_JOB_SIZE } from '../protocol/types.js';
import type { ConnId, JobView, ModelOptions, Output, RestorableModel, RestoredJob, ServerInfo } from './api.js';
import { dispatch, restore } from './commands.js';
import { ModelCore, TIMED_OUT } from './core.js';
import type { Conn } from './entities.js';
import { BURIED, READY, STATE_NAMES } from './entities.js';
import { checkCore } from './invariants.js';

/** Stand-ins for the per-process values a real server reports; the embedded server passes real ones. */
export const DEFAULT_SERVER_INFO: ServerInfo = {
  pid: 1,
  instanceId: '0123456789abcdef',
  hostname: 'beanlab',
  os: '#1 SMP beanlab',
  platform: 'x86_64',
};

class Model implements RestorableModel {
  private readonly core: ModelCore;
  /** The caller's time of the model's start; the core counts from it. */
  private readonly epochUs: number;

  constructor(options: ModelOptions) {
    this.epochUs = options.startUs ?? 0;
    this.core = new ModelCore({
      profile: options.profile ?? '1.12',
      maxJobSize: options.maxJobSize ?? DEFAULT_MAX_JOB_SIZE,
      info: { ...DEFAULT_SERVER_INFO, ...options.info },
      pickWaiter: options.pickWaiter,
      bodyPacking: options.bodyPacking,
    });
  }

  get profile() {
    return this.core.profile;
  }

  get maxJobSize() {
    return this.core.maxJobSize;
  }

  /** Opening a connection changes nothing timed, so no due events run here. */
  connect(_nowUs: number): ConnId {
    return this.core.openConn().id;
  }

  apply(connId: ConnId, request: Request, nowUs: number): Output[] {
    const conn = this.conn(connId);
    const out = this.begin(nowUs);
    if (conn.waiting) throw new Error(`conn ${connId} is waiting in reserve; beanstalkd reads nothing from it`);
    if (conn.inFlight !== null || conn.tooBigPutCounted) expectPutEnd(conn, request);
    if (dispatch(this.core, conn, request)) {
      out.push({ conn: connId, close: true });
      this.core.closeConn(conn);
    }
    // Events the command made due at this very instant: reserve-with-timeout 0, a safety margin
    // already running, pause-tube with a zero delay.
    this.core.runDue(this.core.clockUs);
    return out;
  }

  tick(nowUs: number): Output[] {
    return this.begin(nowUs);
  }

  nextDeadline(): number | undefined {
    const at = this.core.nextEventUs();
    return at === Infinity ? undefined : at + this.epochUs;
  }

  hangup(connId: ConnId, nowUs: number): Output[] {
    const conn = this.conn(connId);
    const out = this.begin(nowUs);
    if (conn.waiting) {
      this.core.stopWaiting(conn);
      this.core.reply(conn, TIMED_OUT);
    }
    return out;
  }

  disconnect(connId: ConnId, nowUs: number): Output[] {
    const conn = this.conn(connId);
    const out = this.begin(nowUs);
    this.core.closeConn(conn);
    return out;
  }

  isWaiting(connId: ConnId): boolean {
    return this.core.conns.get(connId)?.waiting ?? false;
  }

  enterDrainMode(): void {
    this.core.draining = true;
  }

  checkInvariants(): void {
    checkCore(this.core);
  }

  job(id: JobId): JobView | undefined {
    const job = this.core.jobs.get(id);
    if (job === undefined) return undefined;
    const view: JobView = {
      id: job.id,
      tube: job.tube.name,
      state: STATE_NAMES[job.state],
      pri: job.pri,
      delaySeconds: job.delaySeconds,
      ttrSeconds: job.ttrSeconds,
      createdUs: job.createdUs + this.epochUs,
      deadlineUs: job.state === READY || job.state === BURIED ? 0 : job.deadlineUs + this.epochUs,
      bodyBytes: job.body.length,
      reserves: job.reserves,
      timeouts: job.timeouts,
      releases: job.releases,
      buries: job.buries,
      kicks: job.kicks,
    };
    if (job.owner !== null) view.reservedBy = job.owner.id;
    return view;
  }

  jobCount(): number {
    return this.core.jobs.size;
  }

  restoreJob(job: RestoredJob, nowUs: number): Output[] {
    const out = this.begin(nowUs);
    if (this.core.jobs.has(job.id) || this.core.inFlight.has(job.id)) throw new Error(`cannot restore job ${job.id}: the id is in use`);
    restore(this.core, { ...job, readyAtUs: job.readyAtUs - this.epochUs, createdUs: job.createdUs - this.epochUs });
    return out;
  }

  skipIdsThrough(lastId: JobId): void {
    if (lastId >= this.core.nextJobId) this.core.nextJobId = lastId + 1;
  }

  /** Starts a call: fresh output list, then every event due by nowUs (the clock never goes back). */
  private begin(nowUs: number): Output[] {
    const out: Output[] = [];
    this.core.out = out;
    this.core.runDue(nowUs - this.epochUs);
    return out;
  }

  private conn(connId: ConnId): Conn {
    const conn = this.core.conns.get(connId);
    if (conn === undefined) throw new Error(`unknown or closed connection ${connId}`);
    return conn;
  }
}

/** Between a put's begin and its end the connection sends body bytes, so nothing else can come. */
function expectPutEnd(conn: Conn, request: Request): void {
  const ends = conn.inFlight !== null
    ? request.kind === 'put' || request.kind === 'put-expected-crlf'
    : request.kind === 'put-too-big';
  if (!ends) throw new Error(`conn ${conn.id} sent ${request.kind} while its put body was still arriving`);
}

export function createModel(options: ModelOptions = {}): RestorableModel {
  return new Model(options);
}
