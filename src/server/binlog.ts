// The embedded server's binlog (`beanlab serve --binlog DIR`, beanstalkd -b; semantics b.7).
// At start the directory is locked, its segments (and a first-format binlog.jsonl) are read one
// after the other and folded, the jobs are replayed into the model and written into a new
// segment, and the old files are deleted. Then a JournaledModel wraps the model and writes a
// record for exactly the commands beanstalkd writes one for: put, delete, bury, kick, kick-job
// and release with a delay; the BinlogWriter compacts the segments as they fill. It reads what
// changed from the replies and from model.job(); the model stays pure.
import { existsSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { ConnId, JobView, Output, ReferenceModel, RestorableModel } from '../model/api.js';
import type { Reply, Request } from '../protocol/types.js';
import {
  BinlogError,
  Folder,
  LEGACY_BINLOG_FILE,
  listSegments,
  readLegacyFile,
  readSegment,
  segmentFileName,
  segmentPath,
  type CorruptRecord,
  type JobFields,
  type JobRecord,
  type PersistedState,
  type ReadOptions,
} from './binlog-file.js';
import { lockDirectory } from './binlog-lock.js';
import { BinlogWriter, DEFAULT_SEGMENT_BYTES, type WriterStats } from './binlog-writer.js';
import { ForwardingModel } from './model-wrapper.js';

export interface BinlogOptions {
  dir: string;
  /** Now, on the model's time axis. */
  nowUs: number;
  /** Now, on the wall clock (µs since the epoch): the file's time axis. */
  wallNowUs: number;
  /** A torn last record was dropped, or corrupt ones were skipped; the CLI prints this. */
  onWarning?(message: string): void;
  /** Skip damaged records (reported, counted in skippedRecords) instead of refusing to start. */
  skipCorrupt?: boolean;
  /** Segment size (tests use small ones); DEFAULT_SEGMENT_BYTES otherwise. */
  segmentBytes?: number;
}

export interface OpenBinlog {
  /** The model to serve: every journaled command goes through it. */
  model: ReferenceModel;
  /** Jobs brought back from the files. */
  restoredJobs: number;
  /** Damaged records passed over (only with skipCorrupt). */
  skippedRecords: number;
  /** The segments' sizes now, for tests and the benchmark. */
  stats(): WriterStats;
  /** Closes the file and releases the directory. */
  close(): void;
}

/** Throws a BinlogError (locked, corrupt, or a file operation failed) with a one-line message. */
export function openBinlog(model: RestorableModel, opts: BinlogOptions): OpenBinlog {
  try {
    return replayAndOpen(model, opts);
  } catch (error) {
    if (error instanceof BinlogError) throw error;
    throw new BinlogError(`cannot use binlog directory ${opts.dir}: ${(error as Error).message}`, { cause: error });
  }
}

function replayAndOpen(model: RestorableModel, opts: BinlogOptions): OpenBinlog {
  mkdirSync(opts.dir, { recursive: true });
  const lock = lockDirectory(opts.dir);
  try {
    const warn = opts.onWarning ?? (() => {});
    const folder = new Folder();
    const skipped: CorruptRecord[] = [];
    const reading = (file: string): ReadOptions => ({
      file,
      skipCorrupt: opts.skipCorrupt ?? false,
      onRecord: (r) => folder.apply(r),
      onSkipped: (where) => skipped.push(where),
      onTorn: (where) => warn(`${where.file} record ${where.index} (byte ${where.offset}) is incomplete (a crash while writing it?); ignored`),
    });
    // The first format's file is older than any segment: it is read first.
    const legacyPath = join(opts.dir, LEGACY_BINLOG_FILE);
    const legacy = existsSync(legacyPath);
    if (legacy) readLegacyFile(legacyPath, reading(LEGACY_BINLOG_FILE));
    folder.endOfFile();
    // One segment in memory at a time: bounded by the segment size, not the directory's.
    const segments = listSegments(opts.dir);
    for (const seq of segments) {
      readSegment(readFileSync(segmentPath(opts.dir, seq)), reading(segmentFileName(seq)));
      folder.endOfFile();
    }
    if (skipped.length > 0) {
      const shown = skipped.slice(0, 3).map((w) => `${w.file} record ${w.index} (byte ${w.offset}: ${w.reason})`);
      warn(`skipped ${skipped.length} corrupt binlog record${skipped.length === 1 ? '' : 's'}: ${shown.join(', ')}${skipped.length > 3 ? ', ...' : ''}`);
    }
    const { jobs, lastId } = folder.result();
    // One clock offset for the whole run: the model runs on the monotonic clock, the file on the wall clock.
    const wallOffsetUs = opts.wallNowUs - opts.nowUs;
    for (const job of jobs.values()) {
      // beanstalkd's replay buries a buried job again, counting one more bury each restart.
      if (job.state === 'buried') job.counters = { ...job.counters, buries: job.counters.buries + 1 };
      model.restoreJob(
        {
          id: job.id,
          tube: job.tube,
          pri: job.pri,
          delaySeconds: job.delaySeconds,
          ttrSeconds: job.ttrSeconds,
          state: job.state,
          readyAtUs: job.readyAtWallUs - wallOffsetUs,
          createdUs: job.createdWallUs - wallOffsetUs,
          body: job.body,
          counters: job.counters,
        },
        opts.nowUs,
      );
    }
    model.skipIdsThrough(lastId);
    // The start's compaction: every live job into a new segment, then the old files go.
    const writer = new BinlogWriter(
      { dir: opts.dir, segmentBytes: opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES, onWarning: warn },
      (segments.at(-1) ?? 0) + 1,
      lastId,
      jobs.values(),
    );
    for (const seq of segments) unlinkSync(segmentPath(opts.dir, seq));
    if (legacy) unlinkSync(legacyPath);
    const journaled = new JournaledModel(model, writer, wallOffsetUs, jobs.values());
    const restoredJobs = jobs.size;
    jobs.clear(); // the bodies live in the model now
    return {
      model: journaled,
      restoredJobs,
      skippedRecords: skipped.length,
      stats: () => writer.stats(),
      close: () => {
        writer.close();
        lock.release();
      },
    };
  } catch (error) {
    lock.release();
    throw error;
  }
}

export class JournaledModel extends ForwardingModel {
  /**
   * Jobs whose last written state is BURIED or DELAYED, by tube: the ones a `kick N` may have
   * moved (its reply says how many, not which). Jobs last written READY need no tracking.
   */
  private readonly parkedByTube = new Map<string, Set<number>>();
  private readonly parkedTubeOf = new Map<number, string>();
  /** Each connection's used tube, the one kick acts on. Absent: default. */
  private readonly usedTube = new Map<ConnId, string>();

  constructor(
    inner: ReferenceModel,
    private readonly writer: BinlogWriter,
    private readonly wallOffsetUs: number,
    restored: Iterable<JobRecord>,
  ) {
    super(inner);
    for (const job of restored) this.noteWritten(job.id, job.tube, job.state);
  }

  override apply(conn: ConnId, request: Request, nowUs: number): Output[] {
    switch (request.kind) {
      case 'put':
      case 'delete':
      case 'bury':
      case 'kick-job':
      case 'release':
      case 'use':
      case 'quit': {
        const outputs = this.inner.apply(conn, request, nowUs);
        this.journal(conn, request, replyTo(conn, outputs));
        return outputs;
      }
      case 'kick':
        return this.kick(conn, request, nowUs);
      default:
        return this.inner.apply(conn, request, nowUs);
    }
  }

  override disconnect(conn: ConnId, nowUs: number): Output[] {
    this.usedTube.delete(conn);
    return this.inner.disconnect(conn, nowUs);
  }

  private journal(conn: ConnId, request: Request, reply: Reply | undefined): void {
    // quit has no reply, and the engine does not disconnect a connection the model closed.
    if (request.kind === 'quit') this.usedTube.delete(conn);
    if (reply === undefined) return;
    switch (request.kind) {
      case 'put':
        if (reply.kind === 'INSERTED') this.writePut(reply.id, request.body, request.delaySeconds > 0);
        break;
      case 'delete':
        if (reply.kind === 'DELETED') {
          this.noteWritten(request.id, '', 'deleted');
          this.writer.writeDelete(request.id);
        }
        break;
      case 'bury':
        if (reply.kind === 'BURIED') this.writeState(request.id, 'buried');
        break;
      case 'kick-job':
        if (reply.kind === 'KICKED') this.writeState(request.id, 'ready');
        break;
      case 'release':
        // A release without a delay is not written: after a restart the job has its old priority and counters.
        if (reply.kind === 'RELEASED' && request.delaySeconds > 0) this.writeState(request.id, 'delayed');
        break;
      case 'use':
        if (reply.kind === 'USING') this.usedTube.set(conn, reply.tube);
        break;
    }
  }

  /**
   * Due events run first, so the only jobs that leave BURIED or DELAYED during the kick are
   * the ones it moved: those among the used tube's parked jobs that are parked before and not after.
   */
  private kick(conn: ConnId, request: Request, nowUs: number): Output[] {
    const due = this.inner.tick(nowUs);
    const candidates = [...(this.parkedByTube.get(this.usedTube.get(conn) ?? 'default') ?? [])];
    const parkedBefore = candidates.filter((id) => isParked(this.inner.job(id)));
    const outputs = this.inner.apply(conn, request, nowUs);
    for (const id of parkedBefore) if (!isParked(this.inner.job(id))) this.writeState(id, 'ready');
    return due.length > 0 ? [...due, ...outputs] : outputs;
  }

  private noteWritten(id: number, tube: string, state: PersistedState | 'deleted'): void {
    const parkedIn = this.parkedTubeOf.get(id);
    if (parkedIn !== undefined) {
      const set = this.parkedByTube.get(parkedIn) as Set<number>;
      set.delete(id);
      if (set.size === 0) this.parkedByTube.delete(parkedIn);
      this.parkedTubeOf.delete(id);
    }
    if (state !== 'buried' && state !== 'delayed') return;
    let set = this.parkedByTube.get(tube);
    if (set === undefined) this.parkedByTube.set(tube, (set = new Set()));
    set.add(id);
    this.parkedTubeOf.set(id, tube);
  }

  private writePut(id: number, body: Uint8Array, delayed: boolean): void {
    const view = this.view(id);
    this.noteWritten(id, view.tube, delayed ? 'delayed' : 'ready');
    const fields: JobFields = {
      id,
      tube: view.tube,
      pri: view.pri,
      delaySeconds: view.delaySeconds,
      ttrSeconds: view.ttrSeconds,
      state: delayed ? 'delayed' : 'ready',
      readyAtWallUs: delayed ? view.deadlineUs + this.wallOffsetUs : 0,
      createdWallUs: view.createdUs + this.wallOffsetUs,
      // A new job has none yet, even if a waiting worker reserved it in the same instant.
      counters: { reserves: 0, timeouts: 0, releases: 0, buries: 0, kicks: 0 },
    };
    this.writer.writeJob(fields, body);
  }

  /** The job as it is now, in `state` (a kicked job a waiter took at once is written as ready). */
  private writeState(id: number, state: PersistedState): void {
    const view = this.view(id);
    this.noteWritten(id, view.tube, state);
    this.writer.writeState({
      id,
      pri: view.pri,
      delaySeconds: view.delaySeconds,
      state,
      readyAtWallUs: state === 'delayed' ? view.deadlineUs + this.wallOffsetUs : 0,
      counters: { reserves: view.reserves, timeouts: view.timeouts, releases: view.releases, buries: view.buries, kicks: view.kicks },
    });
  }

  private view(id: number): JobView {
    const view = this.inner.job(id);
    if (view === undefined) throw new Error(`binlog: job ${id} vanished right after its command`);
    return view;
  }

}

function isParked(view: JobView | undefined): boolean {
  return view !== undefined && (view.state === 'buried' || view.state === 'delayed');
}

/** The answer to the request: the first reply to its connection (due events never answer a non-waiting one). */
function replyTo(conn: ConnId, outputs: Output[]): Reply | undefined {
  for (const o of outputs) if (o.conn === conn && 'reply' in o) return o.reply;
  return undefined;
}
