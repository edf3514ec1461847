// Writing the binlog's segments while the server runs, and compacting them online as
// beanstalkd does with its own segment files: when the segments hold more than twice the live
// jobs' records plus two segments, the oldest segment's live jobs are written again at the end
// and the segment is deleted. So the directory stays within about 2 x live data + 2 segments
// however long the server runs, and a restart reads no more than that.
import { closeSync, fsyncSync, openSync, readFileSync, unlinkSync } from 'node:fs';
import {
  encodeRecord,
  readSegment,
  recordBytes,
  segmentFileName,
  segmentPath,
  stateFields,
  writeChunks,
  type JobFields,
  type JobRecord,
  type StateFields,
} from './binlog-file.js';

/** beanstalkd's segments are 10 MB by default (-s); these are a little smaller. */
export const DEFAULT_SEGMENT_BYTES = 8 * 1024 * 1024;

interface Segment {
  readonly seq: number;
  bytes: number;
}

/** Where a live job's newest `job` record is, and its size. */
interface Place {
  seg: number;
  bytes: number;
}

export interface WriterOptions {
  dir: string;
  segmentBytes: number;
  /** Compaction met a segment it could not read back; the server goes on without compacting. */
  onWarning(message: string): void;
}

export interface WriterStats {
  segments: number;
  /** Bytes in every segment. */
  totalBytes: number;
  /** Bytes of the live jobs' newest `job` records. */
  liveBytes: number;
  compactions: number;
}

export class BinlogWriter {
  private readonly segments: Segment[] = [];
  private active!: Segment;
  private fd = -1;
  private readonly places = new Map<number, Place>();
  /**
   * The newest `state` record of each live job whose `job` record is older: compaction writes
   * the job in that state. A job that was never buried, kicked or released with a delay has none.
   */
  private readonly pendingState = new Map<number, StateFields>();
  private totalBytes = 0;
  private liveBytes = 0;
  private lastId: number;
  /** The number of the next `job` or `state` record (see StateFields.n). */
  private nextN = 1;
  private compacting = false;
  private compactionBroken = false;
  private compactions = 0;

  /**
   * Starts a new segment after `nextSeq - 1` and writes every restored job into it (the start's
   * compaction): the segments before it can then go, which the caller does once this returns.
   */
  constructor(
    private readonly opts: WriterOptions,
    nextSeq: number,
    lastId: number,
    restored: Iterable<JobRecord>,
  ) {
    this.lastId = lastId;
    this.openSegment(nextSeq);
    for (const job of restored) this.writeJob(job, job.body);
    // The restored jobs must be on disk before the files they came from are deleted.
    fsyncSync(this.fd);
  }

  /** A put, or a job written again; `n` keeps a rewritten job's place in the replay order. */
  writeJob(fields: JobFields, body: Uint8Array, n = this.nextN++): void {
    this.lastId = Math.max(this.lastId, fields.id);
    this.pendingState.delete(fields.id);
    const chunks = encodeRecord({ op: 'job', ...fields, n }, body);
    const bytes = recordBytes(chunks);
    this.forget(fields.id);
    this.places.set(fields.id, { seg: this.active.seq, bytes });
    this.liveBytes += bytes;
    this.append(chunks);
  }

  writeState(fields: StateFields): void {
    const record = { ...stateFields(fields), n: this.nextN++ };
    if (this.places.has(fields.id)) this.pendingState.set(fields.id, record);
    this.append(encodeRecord({ op: 'state', ...record }));
  }

  writeDelete(id: number): void {
    this.forget(id);
    this.pendingState.delete(id);
    this.append(encodeRecord({ op: 'delete', id }));
  }

  stats(): WriterStats {
    return { segments: this.segments.length, totalBytes: this.totalBytes, liveBytes: this.liveBytes, compactions: this.compactions };
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private forget(id: number): void {
    const place = this.places.get(id);
    if (place === undefined) return;
    this.liveBytes -= place.bytes;
    this.places.delete(id);
  }

  private append(chunks: Buffer[]): void {
    writeChunks(this.fd, chunks);
    const bytes = recordBytes(chunks);
    this.active.bytes += bytes;
    this.totalBytes += bytes;
    if (this.active.bytes >= this.opts.segmentBytes) {
      this.openSegment(this.active.seq + 1);
      if (!this.compacting) this.compact();
    }
  }

  private openSegment(seq: number): void {
    if (this.fd >= 0) closeSync(this.fd);
    // 'wx': a segment is only ever created here, never reused.
    this.fd = openSync(segmentPath(this.opts.dir, seq), 'wx');
    this.active = { seq, bytes: 0 };
    this.segments.push(this.active);
    if (this.lastId > 0) this.append(encodeRecord({ op: 'ids', lastId: this.lastId }));
  }

  /**
   * While the segments hold more than twice the live records plus two segments, drops the
   * oldest after writing its live jobs again. Every segment but the active one is looked at
   * at most once per call, which frees all the garbage there is: the loop ends.
   */
  private compact(): void {
    this.compacting = true;
    try {
      for (let steps = this.segments.length - 1; steps > 0 && !this.compactionBroken; steps--) {
        if (this.totalBytes <= 2 * this.liveBytes + 2 * this.opts.segmentBytes) break;
        this.dropOldest();
      }
    } finally {
      this.compacting = false;
    }
  }

  private dropOldest(): void {
    const oldest = this.segments[0];
    const file = segmentFileName(oldest.seq);
    let buf: Buffer;
    const moved = new Map<number, { fields: JobFields; body: Uint8Array }>();
    try {
      buf = readFileSync(segmentPath(this.opts.dir, oldest.seq));
      readSegment(buf, {
        file,
        skipCorrupt: false,
        onRecord: ({ record, body }) => {
          // Only jobs whose newest `job` record is here move; the newest of several wins.
          if (record.op === 'job' && this.places.get(record.id)?.seg === oldest.seq) moved.set(record.id, { fields: record, body: body! });
        },
        onSkipped: () => {},
        onTorn: (where) => {
          throw new Error(`record ${where.index} is cut short`);
        },
      });
    } catch (error) {
      this.compactionBroken = true;
      this.opts.onWarning(`binlog compaction stopped: cannot read back ${file} (${(error as Error).message}); the binlog will grow`);
      return;
    }
    for (const [id, { fields, body }] of moved) {
      // The job as last written, with the number of its newest record.
      const state = this.pendingState.get(id);
      const current = state === undefined ? fields : { ...fields, ...state };
      this.writeJob(current, body, current.n ?? this.nextN++);
    }
    // The moved jobs must be on disk before the segment that held them goes.
    fsyncSync(this.fd);
    unlinkSync(segmentPath(this.opts.dir, oldest.seq));
    this.segments.shift();
    this.totalBytes -= oldest.bytes;
    this.compactions += 1;
  }
}
