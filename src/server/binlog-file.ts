// The binlog's file: beanlab's own format (beanstalkd's binary one is not needed), one JSON
// record per line. A `job` record carries a whole job (a put, or a job rewritten by
// compaction); `state` carries what bury, kick and a delayed release change; `delete` ends a
// job. Times are wall-clock µs, so a delayed job keeps its absolute ready time across a
// restart as beanstalkd's does (semantics b.7, h.7).
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { z } from 'zod';

export const BINLOG_FILE = 'binlog.jsonl';

const counters = z.object({
  reserves: z.number().int().nonnegative(),
  timeouts: z.number().int().nonnegative(),
  releases: z.number().int().nonnegative(),
  buries: z.number().int().nonnegative(),
  kicks: z.number().int().nonnegative(),
});
const persistedState = z.enum(['ready', 'delayed', 'buried']);
const id = z.number().int().positive();

/** What a state change rewrites; the rest of the job stays as its `job` record had it. */
const stateFields = {
  id,
  pri: z.number().int().nonnegative(),
  delaySeconds: z.number().int().nonnegative(),
  state: persistedState,
  /** DELAYED: wall-clock ready time; otherwise 0. */
  readyAtWallUs: z.number(),
  counters,
};

const jobRecord = z.object({
  op: z.literal('job'),
  ...stateFields,
  tube: z.string().min(1),
  ttrSeconds: z.number().int().nonnegative(),
  createdWallUs: z.number(),
  /** base64 */
  body: z.string(),
});
const stateRecord = z.object({ op: z.literal('state'), ...stateFields });
const deleteRecord = z.object({ op: z.literal('delete'), id });
/** Written by compaction: the largest id handed out, which a deleted job's record no longer shows. */
const idsRecord = z.object({ op: z.literal('ids'), lastId: id });
const record = z.discriminatedUnion('op', [jobRecord, stateRecord, deleteRecord, idsRecord]);

export type JobRecord = z.infer<typeof jobRecord>;
export type StateRecord = z.infer<typeof stateRecord>;
export type BinlogRecord = z.infer<typeof record>;
export type PersistedState = z.infer<typeof persistedState>;

/** A binlog directory the server cannot use; its message is one line for the CLI. */
export class BinlogError extends Error {
  override name = 'BinlogError';
}

export class BinlogCorruptError extends BinlogError {
  override name = 'BinlogCorruptError';
}

export function encodeRecord(r: BinlogRecord): string {
  return `${JSON.stringify(r)}\n`;
}

export function encodeBody(body: Uint8Array): string {
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('base64');
}

export function decodeBody(base64: string): Uint8Array {
  return new Uint8Array(Buffer.from(base64, 'base64'));
}

/**
 * Folds a binlog's text into each live job's last written form, in the order of their last
 * records (beanstalkd's replay order, which fixes the order of buried lists). A bad last line
 * is what a crash in mid-write leaves, so it is dropped with a warning; a bad line anywhere
 * else means the file was damaged otherwise, and dropping it silently could lose jobs.
 */
export interface FoldedBinlog {
  jobs: Map<number, JobRecord>;
  /** The largest id in any record, deleted jobs' included: ids are never handed out twice. 0 if none. */
  lastId: number;
}

export function foldRecords(text: string, file: string, onWarning: (message: string) => void): FoldedBinlog {
  const jobs = new Map<number, JobRecord>();
  let lastId = 0;
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((line, index) => {
    const parsed = parseLine(line);
    if (parsed !== undefined && applyRecord(jobs, parsed)) {
      lastId = Math.max(lastId, parsed.op === 'ids' ? parsed.lastId : parsed.id);
      return;
    }
    const where = `${file} line ${index + 1}`;
    if (index < lines.length - 1) throw new BinlogCorruptError(`${where} is not a valid binlog record: ${line.slice(0, 80)}`);
    onWarning(`${where} is incomplete or corrupt (a crash while writing it?); ignored`);
  });
  return { jobs, lastId };
}

function parseLine(line: string): BinlogRecord | undefined {
  try {
    const parsed = record.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** False when the record cannot apply (a change to a job that has no `job` record). */
function applyRecord(jobs: Map<number, JobRecord>, r: BinlogRecord): boolean {
  if (r.op === 'ids') return true;
  const previous = jobs.get(r.id);
  // Delete, then set: the map's order is the order of each job's last record.
  jobs.delete(r.id);
  switch (r.op) {
    case 'job':
      jobs.set(r.id, r);
      return true;
    case 'state': {
      if (previous === undefined) return false;
      const { op: _op, ...fields } = r;
      jobs.set(r.id, { ...previous, ...fields });
      return true;
    }
    case 'delete':
      return true;
  }
}

export function readBinlogText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}

/**
 * Replaces the file with one `job` record per live job (after an `ids` record), so it does not grow across restarts.
 * Written aside, synced and renamed over the old file: a crash in the middle leaves the old
 * file whole. This runs once per start, so the one fsync costs nothing that matters.
 */
export function compactBinlog(path: string, { jobs, lastId }: FoldedBinlog): void {
  const staging = `${path}.compacting`;
  const fd = openSync(staging, 'w');
  try {
    if (lastId > 0) writeAll(fd, encodeRecord({ op: 'ids', lastId }));
    for (const job of jobs.values()) writeAll(fd, encodeRecord(job));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(staging, path);
}

/** One record, with write(2) right away: what a reply has announced survives a SIGKILL (no fsync, like beanstalkd -F). */
export function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset);
}
