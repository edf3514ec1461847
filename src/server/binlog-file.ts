// The binlog's files: beanlab's own format (beanstalkd's binary one is not needed), written as
// numbered segment files like beanstalkd's (binlog-000001.bl, binlog-000002.bl, ...), each at
// most about SEGMENT_BYTES, so old segments can be dropped while the server runs (compaction is
// in binlog-writer.ts).
//
// A record is one header line, `<crc32 as 8 hex digits> <JSON>\n`, and for a `job` record the
// body's raw bytes and `\n` after it (bodyBytes in the JSON says how many). The CRC-32 covers
// everything after the space through the record's last `\n`, so a flipped byte anywhere, body
// included, is noticed. A `job` record carries a whole job (a put, or a job rewritten by
// compaction); `state` carries what bury, kick and a delayed release change; `delete` ends a
// job; `ids` (first in every segment) keeps the largest id handed out. Times are wall-clock µs,
// so a delayed job keeps its absolute ready time across a restart as beanstalkd's does
// (semantics b.7, h.7).
//
// Files of the first format, one JSON record per line in binlog.jsonl with base64 bodies and no
// checksum, are still read (streamed, line by line) and replaced by segments at the next start.
import { closeSync, openSync, readdirSync, readSync, writeSync, writevSync } from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';

/** The first format's single file. */
export const LEGACY_BINLOG_FILE = 'binlog.jsonl';
const SEGMENT_NAME = /^binlog-(\d{6,})\.bl$/;

export function segmentFileName(seq: number): string {
  return `binlog-${String(seq).padStart(6, '0')}.bl`;
}

/** Segment numbers in the directory, oldest first. */
export function listSegments(dir: string): number[] {
  return readdirSync(dir)
    .map((name) => SEGMENT_NAME.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

export type PersistedState = 'ready' | 'delayed' | 'buried';

export interface Counters {
  reserves: number;
  timeouts: number;
  releases: number;
  buries: number;
  kicks: number;
}

/** What a state change rewrites; the rest of the job stays as its `job` record had it. */
export interface StateFields {
  id: number;
  /**
   * The record's place in the order of writes (first-format files have none). Replay restores
   * jobs in the order of their newest records (beanstalkd's order, which fixes the order of
   * buried lists); a job that compaction writes again keeps the number of its newest record,
   * so compaction does not change that order.
   */
  n?: number;
  pri: number;
  delaySeconds: number;
  state: PersistedState;
  /** DELAYED: wall-clock ready time; otherwise 0. */
  readyAtWallUs: number;
  counters: Counters;
}

export interface JobFields extends StateFields {
  tube: string;
  ttrSeconds: number;
  createdWallUs: number;
}

export type BinlogRecord =
  | ({ op: 'job' } & JobFields)
  | ({ op: 'state' } & StateFields)
  | { op: 'delete'; id: number }
  | { op: 'ids'; lastId: number };

/** A job as the binlog knows it: its fields and its body. */
export interface JobRecord extends JobFields {
  body: Uint8Array;
}

/** A binlog directory the server cannot use; its message is one line for the CLI. */
export class BinlogError extends Error {
  override name = 'BinlogError';
}

export class BinlogCorruptError extends BinlogError {
  override name = 'BinlogCorruptError';
}

// ---- checksums ----

const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
let crcTable: Uint32Array | undefined;

/** CRC-32 (zlib's), chained by `seed`: crc32(b, crc32(a)) is the CRC of a then b. */
export function crc32(data: Uint8Array, seed = 0): number {
  if (nativeCrc32) return nativeCrc32(data, seed);
  // zlib.crc32 arrived in Node 20.15; before that, the table-driven loop.
  const table = (crcTable ??= makeCrcTable());
  let c = (seed ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function makeCrcTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

// ---- encoding ----

const NL = Buffer.from('\n', 'latin1');

/** One record's bytes, to be written in one writev(2). */
export function encodeRecord(record: BinlogRecord, body?: Uint8Array): Buffer[] {
  // Only the record's own fields: an object passed in may carry more (a JobRecord its body).
  const own =
    record.op === 'job'
      ? { op: record.op, ...jobFields(record), ...(body === undefined ? {} : { bodyBytes: body.length }) }
      : record.op === 'state'
        ? { op: record.op, ...stateFields(record) }
        : record.op === 'delete'
          ? { op: record.op, id: record.id }
          : { op: record.op, lastId: record.lastId };
  const json = Buffer.from(`${JSON.stringify(own)}\n`, 'utf8');
  let crc = crc32(json);
  if (body !== undefined) crc = crc32(NL, crc32(body, crc));
  const head = Buffer.from(`${crc.toString(16).padStart(8, '0')} `, 'latin1');
  return body === undefined ? [head, json] : [head, json, Buffer.from(body.buffer, body.byteOffset, body.byteLength), NL];
}

export function recordBytes(chunks: readonly Uint8Array[]): number {
  let n = 0;
  for (const c of chunks) n += c.length;
  return n;
}

/** Writes all of `chunks` at the end of `fd` (write(2) right away, no fsync, like beanstalkd without -F). */
export function writeChunks(fd: number, chunks: Uint8Array[]): void {
  const total = recordBytes(chunks);
  let written = writevSync(fd, chunks);
  if (written === total) return;
  // A short write (a full disk, a signal): write the rest piece by piece.
  const all = Buffer.concat(chunks);
  while (written < total) written += writeSync(fd, all, written);
}

// ---- validation (hand-written: a schema library costs the server 13 MiB of RSS to load) ----

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isId = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const STATES: ReadonlySet<unknown> = new Set(['ready', 'delayed', 'buried']);

function validCounters(v: unknown): v is Counters {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Record<string, unknown>;
  return isCount(c.reserves) && isCount(c.timeouts) && isCount(c.releases) && isCount(c.buries) && isCount(c.kicks);
}

function validState(r: Record<string, unknown>): boolean {
  return isId(r.id) && (r.n === undefined || isCount(r.n)) && isCount(r.pri) && isCount(r.delaySeconds) && STATES.has(r.state) && isTime(r.readyAtWallUs) && validCounters(r.counters);
}

/** The record in `value`, or a reason why it is none. `bodyField` is how a job's body is given. */
function checkRecord(value: unknown, bodyField: 'bodyBytes' | 'body'): BinlogRecord | string {
  if (typeof value !== 'object' || value === null) return 'not a JSON object';
  const r = value as Record<string, unknown>;
  switch (r.op) {
    case 'job':
      if (!validState(r) || typeof r.tube !== 'string' || r.tube.length === 0 || !isCount(r.ttrSeconds) || !isTime(r.createdWallUs)) return 'a job record with a bad field';
      if (bodyField === 'bodyBytes' ? !isCount(r.bodyBytes) : typeof r.body !== 'string') return 'a job record without its body';
      return r as BinlogRecord;
    case 'state':
      return validState(r) ? (r as BinlogRecord) : 'a state record with a bad field';
    case 'delete':
      return isId(r.id) ? (r as BinlogRecord) : 'a delete record with a bad id';
    case 'ids':
      return isId(r.lastId) ? (r as BinlogRecord) : 'an ids record with a bad id';
    default:
      return 'an unknown record type';
  }
}

/** Copies the record's own fields (a JSON object may carry more). */
function jobFields(r: JobFields): JobFields {
  return {
    id: r.id,
    ...(r.n === undefined ? {} : { n: r.n }),
    tube: r.tube,
    pri: r.pri,
    delaySeconds: r.delaySeconds,
    ttrSeconds: r.ttrSeconds,
    state: r.state,
    readyAtWallUs: r.readyAtWallUs,
    createdWallUs: r.createdWallUs,
    counters: { reserves: r.counters.reserves, timeouts: r.counters.timeouts, releases: r.counters.releases, buries: r.counters.buries, kicks: r.counters.kicks },
  };
}

export function stateFields(r: StateFields): StateFields {
  return { id: r.id, ...(r.n === undefined ? {} : { n: r.n }), pri: r.pri, delaySeconds: r.delaySeconds, state: r.state, readyAtWallUs: r.readyAtWallUs, counters: { ...r.counters } };
}

// ---- reading a segment ----

export interface ReadRecord {
  record: BinlogRecord;
  /** A job record's body: a view into the segment's bytes. */
  body?: Uint8Array;
  /** Where the record starts in its file, and its length in bytes. */
  offset: number;
  bytes: number;
}

type Parsed = { ok: true; value: ReadRecord } | { ok: false; incomplete: boolean; reason: string; end?: number };

const SPACE = 0x20;
const NEWLINE = 0x0a;
const HEX8 = /^[0-9a-f]{8}$/;

/** Parses the record at `offset` of a segment's bytes. */
function parseAt(buf: Buffer, offset: number): Parsed {
  const lineEnd = buf.indexOf(NEWLINE, offset);
  if (lineEnd === -1) return { ok: false, incomplete: true, reason: 'its header line is cut short' };
  if (lineEnd - offset < 10 || buf[offset + 8] !== SPACE) return { ok: false, incomplete: false, reason: 'not a record header', end: lineEnd + 1 };
  const crcText = buf.toString('latin1', offset, offset + 8);
  if (!HEX8.test(crcText)) return { ok: false, incomplete: false, reason: 'not a record header', end: lineEnd + 1 };
  let value: unknown;
  try {
    value = JSON.parse(buf.toString('utf8', offset + 9, lineEnd));
  } catch {
    return { ok: false, incomplete: false, reason: 'its header is not JSON', end: lineEnd + 1 };
  }
  const record = checkRecord(value, 'bodyBytes');
  let end = lineEnd + 1;
  let body: Uint8Array | undefined;
  if (typeof record !== 'string' && record.op === 'job') {
    const bodyBytes = (value as { bodyBytes: number }).bodyBytes;
    if (end + bodyBytes + 1 > buf.length) return { ok: false, incomplete: true, reason: 'its body is cut short' };
    body = buf.subarray(end, end + bodyBytes);
    end += bodyBytes + 1;
    if (buf[end - 1] !== NEWLINE) return { ok: false, incomplete: false, reason: 'its body does not end where its header says' };
  }
  if (crc32(buf.subarray(offset + 9, end)) !== parseInt(crcText, 16)) return { ok: false, incomplete: false, reason: 'checksum mismatch', end };
  if (typeof record === 'string') return { ok: false, incomplete: false, reason: record, end };
  if (record.op === 'job') delete (record as { bodyBytes?: number }).bodyBytes;
  return { ok: true, value: { record, body, offset, bytes: end - offset } };
}

export interface CorruptRecord {
  file: string;
  /** 1-based position among the file's records. */
  index: number;
  offset: number;
  reason: string;
}

export interface ReadOptions {
  file: string;
  /** Skip damaged records (counted in onSkipped) instead of throwing BinlogCorruptError. */
  skipCorrupt: boolean;
  onRecord(r: ReadRecord): void;
  onSkipped(where: CorruptRecord): void;
  /** A record cut short at the end of the file: what a crash in mid-write leaves. */
  onTorn(where: CorruptRecord): void;
}

/**
 * Every record of one segment, in order. A record cut short at the end of the file is a torn
 * write (onTorn). Any other damage throws, naming the record, unless skipCorrupt: then the
 * reader goes on at the next record it can read whole (its checksum holds).
 */
export function readSegment(buf: Buffer, opts: ReadOptions): void {
  let offset = 0;
  let index = 0;
  while (offset < buf.length) {
    index += 1;
    const parsed = parseAt(buf, offset);
    if (parsed.ok) {
      opts.onRecord(parsed.value);
      offset += parsed.value.bytes;
      continue;
    }
    const where: CorruptRecord = { file: opts.file, index, offset, reason: parsed.reason };
    const next = nextGoodRecord(buf, offset, parsed.end);
    if (parsed.incomplete && next === undefined) {
      opts.onTorn(where);
      return;
    }
    if (!opts.skipCorrupt) {
      throw new BinlogCorruptError(
        `${opts.file}: record ${index} (byte ${offset}) is corrupt (${where.reason}); ` +
          'start with --binlog-skip-corrupt to skip damaged records (their jobs are lost)',
      );
    }
    opts.onSkipped(where);
    if (next === undefined) return;
    offset = next;
  }
}

/**
 * Where reading can go on after a damaged record at `from`: its own end if its framing held
 * and a whole record follows, else the first line start after `from` where a whole record is.
 */
function nextGoodRecord(buf: Buffer, from: number, framedEnd: number | undefined): number | undefined {
  if (framedEnd !== undefined && (framedEnd >= buf.length || parseAt(buf, framedEnd).ok)) return framedEnd;
  for (let nl = buf.indexOf(NEWLINE, from); nl !== -1 && nl + 1 < buf.length; nl = buf.indexOf(NEWLINE, nl + 1)) {
    if (parseAt(buf, nl + 1).ok) return nl + 1;
  }
  return undefined;
}

// ---- reading the first format (binlog.jsonl), streamed ----

const LEGACY_CHUNK_BYTES = 1024 * 1024;

/**
 * The records of a first-format file, read in 1 MiB pieces (the file may be far larger than a
 * string can be). A bad last line is what a crash in mid-write leaves (onTorn); a bad line
 * anywhere else throws unless skipCorrupt.
 */
export function readLegacyFile(path: string, opts: ReadOptions): void {
  const fd = openSync(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(LEGACY_CHUNK_BYTES);
    let carry: Buffer[] = [];
    let index = 0;
    let offset = 0; // of the line being assembled
    let pending: { line: Buffer; offset: number; index: number } | undefined;
    const handle = (line: Buffer, lineOffset: number, lineIndex: number, isLast: boolean): void => {
      const record = parseLegacyLine(line);
      if (typeof record !== 'string') {
        opts.onRecord({ ...record, offset: lineOffset, bytes: line.length + 1 });
        return;
      }
      const where: CorruptRecord = { file: opts.file, index: lineIndex, offset: lineOffset, reason: record };
      if (isLast) return opts.onTorn(where);
      if (!opts.skipCorrupt) {
        throw new BinlogCorruptError(
          `${opts.file} line ${lineIndex} (byte ${lineOffset}) is not a valid binlog record (${record}); ` +
            'start with --binlog-skip-corrupt to skip damaged records (their jobs are lost)',
        );
      }
      opts.onSkipped(where);
    };
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      let start = 0;
      for (let nl = chunk.indexOf(NEWLINE, 0); nl !== -1 && nl < n; nl = chunk.indexOf(NEWLINE, start)) {
        const piece = chunk.subarray(start, nl);
        const line = carry.length === 0 ? Buffer.from(piece) : Buffer.concat([...carry, piece]);
        carry = [];
        // One line behind, so the last line of the file is known as the last.
        if (pending) handle(pending.line, pending.offset, pending.index, false);
        index += 1;
        pending = { line, offset, index };
        offset += line.length + 1;
        start = nl + 1;
      }
      if (start < n) carry.push(Buffer.from(chunk.subarray(start, n)));
    }
    const rest = carry.length === 0 ? undefined : Buffer.concat(carry);
    if (rest !== undefined && rest.length > 0) {
      if (pending) handle(pending.line, pending.offset, pending.index, false);
      // A last line without its newline was cut short.
      opts.onTorn({ file: opts.file, index: index + 1, offset, reason: 'no end of line' });
    } else if (pending) {
      handle(pending.line, pending.offset, pending.index, true);
    }
  } finally {
    closeSync(fd);
  }
}

function parseLegacyLine(line: Buffer): { record: BinlogRecord; body?: Uint8Array } | string {
  if (line.length === 0) return 'an empty line';
  let value: unknown;
  try {
    value = JSON.parse(line.toString('utf8'));
  } catch {
    return 'not JSON';
  }
  const record = checkRecord(value, 'body');
  if (typeof record === 'string') return record;
  if (record.op !== 'job') return { record };
  const base64 = (value as { body: string }).body;
  delete (record as { body?: string }).body;
  return { record, body: new Uint8Array(Buffer.from(base64, 'base64')) };
}

// ---- folding ----

/**
 * Each live job's last written form, in the order of their last records (beanstalkd's replay
 * order, which fixes the order of buried lists), and the largest id ever handed out.
 */
export interface FoldedBinlog {
  jobs: Map<number, JobRecord>;
  /** The largest id in any record, deleted jobs' included: ids are never handed out twice. 0 if none. */
  lastId: number;
}

/** Order keys of first-format records: below every numbered record, in reading order. */
const LEGACY_ORDER_BASE = -(2 ** 52);

export class Folder {
  private readonly jobs = new Map<number, JobRecord & { order: number }>();
  private legacyRecords = 0;
  /** Jobs whose body is still a view into the file being read. */
  private readonly viewing = new Set<number>();
  lastId = 0;
  /** The largest record number read: later writes continue after it. */
  lastN = 0;

  /**
   * Applies one record. A `state` or `delete` for a job with no `job` record is what compaction
   * leaves (the job's older records were dropped with their segment, its current form written
   * later), so it is passed over.
   */
  apply({ record, body }: { record: BinlogRecord; body?: Uint8Array }): void {
    if (record.op === 'ids') {
      this.lastId = Math.max(this.lastId, record.lastId);
      return;
    }
    this.lastId = Math.max(this.lastId, record.id);
    if (record.op === 'delete') {
      this.jobs.delete(record.id);
      this.viewing.delete(record.id);
      return;
    }
    const order = record.n ?? LEGACY_ORDER_BASE + this.legacyRecords++;
    if (record.n !== undefined) this.lastN = Math.max(this.lastN, record.n);
    if (record.op === 'job') {
      // A view into the bytes being read; copied at the end of the file if the job lives then
      // (most jobs of a churn are deleted a few records later, and are never copied).
      this.jobs.set(record.id, { ...jobFields(record), body: body!, order });
      this.viewing.add(record.id);
      return;
    }
    const previous = this.jobs.get(record.id);
    if (previous !== undefined) this.jobs.set(record.id, { ...previous, ...stateFields(record), order });
  }

  /** The file being read is done with: the bodies still alive get bytes of their own. */
  endOfFile(): void {
    for (const id of this.viewing) {
      const job = this.jobs.get(id);
      if (job !== undefined) job.body = new Uint8Array(job.body);
    }
    this.viewing.clear();
  }

  /** The live jobs in the order of their newest records. */
  result(): FoldedBinlog {
    this.endOfFile();
    const sorted = [...this.jobs.values()].sort((a, b) => a.order - b.order);
    const jobs = new Map<number, JobRecord>();
    for (const { order: _order, n: _n, ...job } of sorted) jobs.set(job.id, job);
    return { jobs, lastId: this.lastId };
  }
}

export function segmentPath(dir: string, seq: number): string {
  return join(dir, segmentFileName(seq));
}
