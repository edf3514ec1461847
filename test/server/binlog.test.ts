// The embedded server's binlog (semantics b.7): which commands write a record, how a replay
// folds them, compaction, a torn last line, and the directory lock. Driven through the model
// API with explicit clocks, so no socket and no sleeping.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, fstatSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createModel, type ConnId, type ReferenceModel } from '../../src/model/index.js';
import { parseStatsYaml } from '../../src/protocol/stats-yaml.js';
import type { Request } from '../../src/protocol/types.js';
import { BinlogCorruptError, listSegments, readSegment, segmentPath } from '../../src/server/binlog-file.js';
import { BinlogLockedError, LOCK_FILE } from '../../src/server/binlog-lock.js';
import { openBinlog, type BinlogOptions, type OpenBinlog } from '../../src/server/binlog.js';
import { render } from '../model/harness.js';
import { US_PER_SECOND as SECOND_US } from '../../src/units.js';

/** The wall clock at the first start; each restart below happens a few seconds later. */
const WALL_START_US = 1_700_000_000 * SECOND_US;

const dirs: string[] = [];
const open: OpenBinlog[] = [];
afterEach(() => {
  for (const binlog of open.splice(0)) binlog.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'beanlab-binlog-test-'));
  dirs.push(dir);
  return dir;
}

/**
 * One server lifetime on `dir`: a model on a monotonic axis of its own (starting at 5 s, as a
 * fresh process's would not be at the wall clock), `wallSeconds` after WALL_START_US.
 */
class Life {
  readonly binlog: OpenBinlog;
  readonly model: ReferenceModel;
  readonly conn: ConnId;
  readonly warnings: string[] = [];
  nowUs = 5 * SECOND_US;

  constructor(
    readonly dir: string,
    wallSeconds = 0,
    options: Pick<BinlogOptions, 'skipCorrupt' | 'segmentBytes'> = {},
  ) {
    this.binlog = openBinlog(createModel({ startUs: this.nowUs }), {
      dir,
      nowUs: this.nowUs,
      wallNowUs: WALL_START_US + wallSeconds * SECOND_US,
      onWarning: (message) => this.warnings.push(message),
      ...options,
    });
    open.push(this.binlog);
    this.model = this.binlog.model;
    this.conn = this.model.connect(this.nowUs);
  }

  send(request: Request, conn = this.conn): string[] {
    const out = this.model.apply(conn, request, this.nowUs).map(render);
    this.model.checkInvariants();
    return out;
  }

  put(body: string, pri = 0, delaySeconds = 0): string[] {
    return this.send({ kind: 'put', pri, delaySeconds, ttrSeconds: 60, body: new TextEncoder().encode(body) });
  }

  job(id: number): Record<string, string> {
    const out = this.model.apply(this.conn, { kind: 'stats-job', id }, this.nowUs);
    const first = out[0];
    if (!first || !('reply' in first) || first.reply.kind !== 'OK') return {};
    return Object.fromEntries(parseStatsYaml(new TextDecoder().decode(first.reply.body)));
  }

  stats(request: Request = { kind: 'stats' }): Map<string, string> {
    const first = this.model.apply(this.conn, request, this.nowUs)[0];
    if (!first || !('reply' in first) || first.reply.kind !== 'OK') throw new Error('expected OK');
    return parseStatsYaml(new TextDecoder().decode(first.reply.body));
  }

  /** The binlog's records so far, as parsed objects (a job's body as latin1 text). */
  records(): Array<Record<string, unknown>> {
    return readRecords(this.dir);
  }

  stop(): void {
    open.splice(open.indexOf(this.binlog), 1);
    this.binlog.close();
  }
}

/** Every record of every segment, oldest first. */
function readRecords(dir: string): Array<Record<string, unknown>> {
  const records: Array<Record<string, unknown>> = [];
  for (const seq of listSegments(dir)) {
    readSegment(readFileSync(segmentPath(dir, seq)), {
      file: segmentPath(dir, seq),
      skipCorrupt: false,
      onRecord: ({ record, body }) => records.push(body === undefined ? { ...record } : { ...record, body: Buffer.from(body).toString('latin1') }),
      onSkipped: () => {},
      onTorn: (where) => {
        throw new Error(`torn record in ${where.file}`);
      },
    });
  }
  return records;
}

/** The only segment file in `dir`. */
function onlySegment(dir: string): string {
  const segments = listSegments(dir);
  expect(segments).toHaveLength(1);
  return segmentPath(dir, segments[0]);
}

function binlogBytes(dir: string): number {
  return listSegments(dir).reduce((sum, seq) => sum + statSync(segmentPath(dir, seq)).size, 0);
}

const ops = (life: Life) => life.records().map((r) => `${r.op} ${r.id}${r.op === 'state' ? ` ${r.state}` : ''}`);

describe('binlog records', () => {
  it('are written for put, delete, bury, kick-job and a delayed release, and for nothing else', () => {
    const life = new Life(freshDir());
    const other = life.model.connect(life.nowUs);
    expect(life.put('a')).toEqual(['c1: INSERTED 1']);
    expect(life.put('b')).toEqual(['c1: INSERTED 2']);
    expect(ops(life)).toEqual(['job 1', 'job 2']);

    // None of these write: reservation, release without delay, touch, use/watch, pause, peek, stats, a TTR expiry, a close.
    life.send({ kind: 'reserve-with-timeout', timeoutSeconds: 0 });
    life.send({ kind: 'touch', id: 1 });
    expect(life.send({ kind: 'release', id: 1, pri: 9, delaySeconds: 0 })).toEqual(['c1: RELEASED']);
    life.send({ kind: 'use', tube: 'default' });
    life.send({ kind: 'watch', tube: 'other' });
    life.send({ kind: 'pause-tube', tube: 'default', delaySeconds: 0 });
    life.send({ kind: 'peek', id: 1 });
    life.send({ kind: 'stats-job', id: 1 });
    life.send({ kind: 'reserve-job', id: 2 }, other);
    life.nowUs += 61 * SECOND_US;
    life.model.tick(life.nowUs); // job 2's TTR runs out
    life.send({ kind: 'reserve-job', id: 2 }, other);
    life.model.disconnect(other, life.nowUs);
    expect(ops(life)).toEqual(['job 1', 'job 2']);

    expect(life.send({ kind: 'reserve-with-timeout', timeoutSeconds: 0 })).toEqual(['c1: RESERVED 2 b']);
    expect(life.send({ kind: 'bury', id: 2, pri: 3 })).toEqual(['c1: BURIED']);
    expect(life.send({ kind: 'kick-job', id: 2 })).toEqual(['c1: KICKED']);
    expect(life.send({ kind: 'reserve-with-timeout', timeoutSeconds: 0 })).toEqual(['c1: RESERVED 2 b']);
    expect(life.send({ kind: 'release', id: 2, pri: 4, delaySeconds: 30 })).toEqual(['c1: RELEASED']);
    expect(life.send({ kind: 'delete', id: 1 })).toEqual(['c1: DELETED']);
    // Failed commands write nothing.
    expect(life.send({ kind: 'delete', id: 1 })).toEqual(['c1: NOT_FOUND']);
    expect(life.send({ kind: 'bury', id: 2, pri: 0 })).toEqual(['c1: NOT_FOUND']);
    expect(ops(life)).toEqual(['job 1', 'job 2', 'state 2 buried', 'state 2 ready', 'state 2 delayed', 'delete 1']);
    expect(life.records()[4]).toMatchObject({ pri: 4, delaySeconds: 30, readyAtWallUs: WALL_START_US + 91 * SECOND_US });
  });

  it('for kick N, record exactly the jobs it moved: in the used tube, not the ones a delay made ready', () => {
    const life = new Life(freshDir());
    life.send({ kind: 'use', tube: 'k' });
    life.put('d1', 0, 10); // 1: delayed 10 s
    life.put('d2', 0, 100); // 2: delayed 100 s
    life.put('d3', 0, 200); // 3: delayed 200 s, the last in line
    life.put('d4', 0, 100); // 4: same ready time as 2, so after it (by id)
    const other = life.model.connect(life.nowUs);
    // 5: delayed in tube default, which c1's kick does not touch.
    life.send({ kind: 'put', pri: 0, delaySeconds: 100, ttrSeconds: 60, body: new Uint8Array([120]) }, other);
    life.nowUs += 20 * SECOND_US; // job 1's delay runs out, which is not written
    expect(life.send({ kind: 'kick', bound: 2 })).toEqual(['c1: KICKED 2']);
    expect(ops(life).slice(5)).toEqual(['state 2 ready', 'state 4 ready']);
    expect(life.records()[5]).toMatchObject({ state: 'ready', readyAtWallUs: 0, counters: { kicks: 1 } });
  });

  it('record the job fields of the moment: a put is written with no counters even when a waiter takes it at once', () => {
    const life = new Life(freshDir());
    const worker = life.model.connect(life.nowUs);
    expect(life.send({ kind: 'reserve' }, worker)).toEqual([]);
    expect(life.put('x', 7)).toEqual(['c1: INSERTED 1', 'c2: RESERVED 1 x']);
    expect(life.records()).toEqual([
      expect.objectContaining({ op: 'job', id: 1, tube: 'default', pri: 7, state: 'ready', ttrSeconds: 60, createdWallUs: WALL_START_US, counters: { reserves: 0, timeouts: 0, releases: 0, buries: 0, kicks: 0 }, body: 'x' }),
    ]);
  });
});

describe('binlog replay', () => {
  it('brings each job back in its last written form, keeps ids, and resets counters', () => {
    const dir = freshDir();
    const first = new Life(dir);
    first.send({ kind: 'use', tube: 'keep' });
    for (const body of ['ready', 'delayed', 'buried', 'reserved', 'released0', 'deleted']) first.put(body, 100);
    first.send({ kind: 'watch', tube: 'keep' });
    first.send({ kind: 'release', id: 2, pri: 5, delaySeconds: 600 }); // NOT_FOUND: not reserved yet
    first.send({ kind: 'reserve-job', id: 2 });
    first.send({ kind: 'release', id: 2, pri: 5, delaySeconds: 600 });
    first.send({ kind: 'reserve-job', id: 3 });
    first.send({ kind: 'bury', id: 3, pri: 9 });
    first.send({ kind: 'reserve-job', id: 4 });
    first.send({ kind: 'reserve-job', id: 5 });
    first.send({ kind: 'release', id: 5, pri: 0, delaySeconds: 0 });
    first.send({ kind: 'delete', id: 6 });
    first.send({ kind: 'pause-tube', tube: 'keep', delaySeconds: 1000 });
    first.stop();

    const second = new Life(dir, 5);
    expect(second.binlog.restoredJobs).toBe(5);
    expect(second.job(1)).toMatchObject({ tube: 'keep', state: 'ready', pri: '100', age: '5' });
    expect(second.job(2)).toMatchObject({ state: 'delayed', pri: '5', delay: '600', 'time-left': '595', releases: '1', reserves: '1' });
    expect(second.job(3)).toMatchObject({ state: 'buried', pri: '9', buries: '2' });
    expect(second.job(4)).toMatchObject({ state: 'ready', reserves: '0' });
    // The release without a delay was never written: old priority, no release counted.
    expect(second.job(5)).toMatchObject({ state: 'ready', pri: '100', releases: '0' });
    expect(second.job(6)).toEqual({});
    expect(Object.fromEntries(second.stats({ kind: 'stats-tube', tube: 'keep' }))).toMatchObject({ 'total-jobs': '0', pause: '0', 'current-jobs-ready': '3' });
    expect(second.stats().get('total-jobs')).toBe('0');
    expect(second.put('new')).toEqual(['c1: INSERTED 7']);

    // Another restart: the buried job's bury count grows again (beanstalkd's replay quirk).
    second.stop();
    expect(new Life(dir, 10).job(3)).toMatchObject({ buries: '3' });
  });

  it('makes a delayed job whose time passed while the server was down ready', () => {
    const dir = freshDir();
    const first = new Life(dir);
    first.put('soon', 0, 3);
    first.stop();
    const second = new Life(dir, 4);
    expect(second.job(1)).toMatchObject({ state: 'ready' });
    expect(second.send({ kind: 'reserve-with-timeout', timeoutSeconds: 0 })).toEqual(['c1: RESERVED 1 soon']);
  });

  it('keeps the buried order: kick after a restart kicks the earliest buried first', () => {
    const dir = freshDir();
    const first = new Life(dir);
    first.put('a');
    first.put('b');
    first.send({ kind: 'reserve-job', id: 2 });
    first.send({ kind: 'bury', id: 2, pri: 0 });
    first.send({ kind: 'reserve-job', id: 1 });
    first.send({ kind: 'bury', id: 1, pri: 0 });
    first.stop();
    const second = new Life(dir, 1);
    expect(second.send({ kind: 'peek-buried' })).toEqual(['c1: FOUND 2 b']);
    expect(second.send({ kind: 'kick', bound: 1 })).toEqual(['c1: KICKED 1']);
    expect(second.send({ kind: 'peek-ready' })).toEqual(['c1: FOUND 2 b']);
  });

  it('starts empty on an empty directory, and the first put gets id 1', () => {
    const life = new Life(freshDir());
    expect(life.binlog.restoredJobs).toBe(0);
    expect(life.put('x')).toEqual(['c1: INSERTED 1']);
  });
});

describe('binlog compaction', () => {
  it('rewrites the file at start as one record per live job, so restarts do not grow it', () => {
    const dir = freshDir();
    const first = new Life(dir);
    for (let i = 0; i < 5; i++) first.put(`j${i}`);
    for (const id of [1, 2, 3]) first.send({ kind: 'delete', id });
    first.send({ kind: 'reserve-job', id: 4 });
    first.send({ kind: 'bury', id: 4, pri: 0 });
    expect(readRecords(dir)).toHaveLength(9);
    first.stop();
    const second = new Life(dir);
    expect(second.records().map((r) => `${r.op} ${r.id ?? r.lastId} ${r.state}`)).toEqual(['ids 5 undefined', 'job 5 ready', 'job 4 buried']);
    // A rewritten job's header carries its fields and the body's size; the body follows it raw.
    const text = readFileSync(onlySegment(dir), 'latin1');
    expect(text).toMatch(/^[0-9a-f]{8} \{"op":"job","id":5,"n":\d+,"tube":"default","pri":0,"delaySeconds":0,"ttrSeconds":60,"state":"ready","readyAtWallUs":0,"createdWallUs":\d+,"counters":\{"reserves":0,"timeouts":0,"releases":0,"buries":0,"kicks":0\},"bodyBytes":2\}\nj4\n/m);
    expect(text).not.toContain('"body"');
    second.stop();
    const sizeAfterOne = binlogBytes(dir);
    new Life(dir).stop();
    new Life(dir).stop();
    // Only the bury count grows (one digit here); the record count stays.
    expect(readRecords(dir)).toHaveLength(3);
    expect(binlogBytes(dir)).toBe(sizeAfterOne);
    expect(listSegments(dir)).toHaveLength(1);
  });

  it("never hands out a deleted job's id again, even after its records were compacted away", () => {
    const dir = freshDir();
    const first = new Life(dir);
    first.put('a');
    first.put('b');
    first.send({ kind: 'delete', id: 2 });
    first.stop();
    new Life(dir).stop();
    const third = new Life(dir);
    expect(third.records().map((r) => r.op)).toEqual(['ids', 'job']);
    expect(third.put('c')).toEqual(['c1: INSERTED 3']);
  });
});

describe('binlog compaction while the server runs (segments)', () => {
  const SEGMENT_BYTES = 16 * 1024;

  it('keeps the directory within 2 x the live records + 2 segments through a long churn, and restores what lives', () => {
    const dir = freshDir();
    const life = new Life(dir, 0, { segmentBytes: SEGMENT_BYTES });
    const other = life.model.connect(life.nowUs);
    // Three jobs that stay: one buried (state records after its put), one delayed, one ready.
    life.put('buried for good', 3);
    life.send({ kind: 'reserve-job', id: 1 });
    life.send({ kind: 'bury', id: 1, pri: 4 });
    life.put('delayed for good', 0, 3600);
    life.put('ready for good', 7);
    const body = 'z'.repeat(1000);
    let largest = 0;
    for (let i = 0; i < 3000; i++) {
      const [inserted] = life.send({ kind: 'put', pri: 0, delaySeconds: 0, ttrSeconds: 60, body: new TextEncoder().encode(body) }, other);
      const id = Number(/INSERTED (\d+)/.exec(inserted)![1]);
      life.send({ kind: 'delete', id }, other);
      const { totalBytes, liveBytes } = life.binlog.stats();
      largest = Math.max(largest, totalBytes);
      expect(totalBytes).toBeLessThanOrEqual(2 * liveBytes + 3 * SEGMENT_BYTES);
    }
    const stats = life.binlog.stats();
    // 3,000 puts of 1 KB went through; the segments hold a small multiple of what lives.
    expect(stats.compactions).toBeGreaterThan(50);
    expect(largest).toBeLessThan(4 * SEGMENT_BYTES);
    expect(binlogBytes(dir)).toBe(stats.totalBytes);
    expect(listSegments(dir).length).toBeLessThanOrEqual(4);
    life.stop();

    const second = new Life(dir, 10, { segmentBytes: SEGMENT_BYTES });
    expect(second.binlog.restoredJobs).toBe(3);
    expect(second.job(1)).toMatchObject({ state: 'buried', pri: '4', reserves: '1', buries: '2' });
    expect(second.job(2)).toMatchObject({ state: 'delayed', 'time-left': '3590' });
    expect(second.job(3)).toMatchObject({ state: 'ready', pri: '7' });
    expect(second.send({ kind: 'peek', id: 3 })).toEqual(['c1: FOUND 3 ready for good']);
    expect(second.put('next')).toEqual(['c1: INSERTED 3004']);
  });

  it('restores the same jobs in the same order as a binlog that was never compacted (random commands)', () => {
    const seed = Number(process.env.BEANLAB_SEED ?? Date.now() % 2 ** 31);
    console.log(`binlog compaction differential seed=${seed} (set BEANLAB_SEED to reproduce)`);
    let state = seed;
    const random = (n: number): number => {
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
    };
    const compacted = new Life(freshDir(), 0, { segmentBytes: 2048 });
    const plain = new Life(freshDir(), 0, { segmentBytes: 1024 * 1024 * 1024 });
    const both = [compacted, plain];
    let lastId = 0;
    for (let step = 0; step < 2500; step++) {
      // Recent ids only: jobs that age out of reach stay as they are (buried ones pile up in
      // order) while compaction moves their records forward.
      const id = Math.max(1, lastId - random(20));
      const choice = random(10);
      const request: Request =
        choice < 3
          ? { kind: 'put', pri: random(5), delaySeconds: random(3) === 0 ? 100 + random(100) : 0, ttrSeconds: 60, body: new TextEncoder().encode(`body ${step} ${'x'.repeat(random(300))}`) }
          : choice < 6
            ? { kind: 'delete', id }
            : choice < 7
              ? { kind: 'reserve-job', id }
              : choice < 8
                ? { kind: 'bury', id, pri: random(5) }
                : choice < 9
                  ? { kind: 'release', id, pri: random(5), delaySeconds: random(2) * 50 }
                  : { kind: 'kick-job', id };
      const outputs = both.map((life) => life.send(request));
      expect(outputs[0]).toEqual(outputs[1]);
      const inserted = /INSERTED (\d+)/.exec(outputs[0].join(' '));
      if (inserted) lastId = Number(inserted[1]);
    }
    expect(compacted.binlog.stats().compactions).toBeGreaterThan(10);
    for (const life of both) life.stop();
    const [a, b] = both.map((life) => new Life(life.dir, 5));
    expect(a.binlog.restoredJobs).toBe(b.binlog.restoredJobs);
    for (let id = 1; id <= lastId; id++) {
      expect(a.job(id), `job ${id}`).toEqual(b.job(id));
      expect(a.send({ kind: 'peek', id })).toEqual(b.send({ kind: 'peek', id }));
    }
    // The buried list comes back in the same order: see its head, kick it, again.
    let buried = 0;
    for (let i = 0; i < 1000; i++) {
      const head = a.send({ kind: 'peek-buried' });
      expect(head).toEqual(b.send({ kind: 'peek-buried' }));
      if (head[0] === 'c1: NOT_FOUND') break;
      buried += 1;
      expect(a.send({ kind: 'kick', bound: 1 })).toEqual(b.send({ kind: 'kick', bound: 1 }));
    }
    expect(buried).toBeGreaterThan(1);
    expect(a.send({ kind: 'list-tubes' })).toEqual(b.send({ kind: 'list-tubes' }));
  });
});

describe('a damaged binlog', () => {
  it('ignores a torn last record with a warning', () => {
    const dir = freshDir();
    const first = new Life(dir);
    first.put('kept');
    first.put('torn');
    first.stop();
    const file = onlySegment(dir);
    const bytes = readFileSync(file);
    // A crash in the middle of writing job 2's record leaves part of it.
    writeFileSync(file, bytes.subarray(0, bytes.length - 3));
    const second = new Life(dir);
    expect(second.warnings).toEqual([expect.stringMatching(/binlog-000001\.bl record 2 \(byte \d+\) is incomplete.*ignored/)]);
    expect(second.binlog.restoredJobs).toBe(1);
    expect(second.job(1)).toMatchObject({ state: 'ready' });
    expect(second.put('next')).toEqual(['c1: INSERTED 2']);
  });

  it('refuses a record with a flipped byte, body or header, naming it; --binlog-skip-corrupt starts without it', () => {
    const dir = freshDir();
    const first = new Life(dir);
    first.put('first body');
    first.put('second body');
    first.put('third body');
    first.stop();
    const file = onlySegment(dir);
    const intact = readFileSync(file);
    for (const [where, text] of [
      ['body', 'second body'],
      ['header', '"id":2'],
    ]) {
      const damaged = Buffer.from(intact);
      const at = damaged.indexOf(text) + text.length - 1;
      damaged[at] ^= 0x01; // 'y' -> 'x', '2' -> '3': one bit
      writeFileSync(file, damaged);
      expect(() => new Life(dir), where).toThrow(BinlogCorruptError);
      expect(() => new Life(dir), where).toThrow(/^binlog-000001\.bl: record 2 \(byte \d+\) is corrupt \(checksum mismatch\); start with --binlog-skip-corrupt/);
      // The refused start released the directory and left the file as it was.
      expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
      expect(readFileSync(file)).toEqual(damaged);
    }
    const skipping = new Life(dir, 1, { skipCorrupt: true });
    expect(skipping.binlog.skippedRecords).toBe(1);
    expect(skipping.warnings).toEqual([expect.stringMatching(/^skipped 1 corrupt binlog record: binlog-000001\.bl record 2 \(byte \d+: checksum mismatch\)$/)]);
    expect(skipping.binlog.restoredJobs).toBe(2);
    expect(skipping.send({ kind: 'peek', id: 1 })).toEqual(['c1: FOUND 1 first body']);
    expect(skipping.send({ kind: 'peek', id: 2 })).toEqual(['c1: NOT_FOUND']);
    expect(skipping.send({ kind: 'peek', id: 3 })).toEqual(['c1: FOUND 3 third body']);
    skipping.stop();
    // The damaged record is gone with the start's compaction; the next start needs no option.
    expect(new Life(dir, 2).binlog.restoredJobs).toBe(2);
  });

  it('skips a stretch of garbage in the middle and goes on at the next whole record', () => {
    const dir = freshDir();
    const first = new Life(dir);
    first.put('a');
    const mid = binlogBytes(dir);
    first.put('b');
    first.put('c');
    first.stop();
    const file = onlySegment(dir);
    const bytes = readFileSync(file);
    writeFileSync(file, Buffer.concat([bytes.subarray(0, mid), Buffer.from('\n\0garbage 123\n'), bytes.subarray(mid + 5)]));
    expect(() => new Life(dir)).toThrow(/record 2 .* is corrupt/);
    const skipping = new Life(dir, 1, { skipCorrupt: true });
    expect(skipping.binlog.skippedRecords).toBe(1);
    expect(skipping.binlog.restoredJobs).toBe(2);
    expect(skipping.send({ kind: 'peek', id: 3 })).toEqual(['c1: FOUND 3 c']);
  });
});

describe('binlog files of the first format (binlog.jsonl)', () => {
  const legacyJob = (id: number, body: string, extra: object = {}) =>
    JSON.stringify({
      op: 'job', id, tube: 'old', pri: 5, delaySeconds: 0, ttrSeconds: 60, state: 'ready', readyAtWallUs: 0,
      createdWallUs: WALL_START_US, counters: { reserves: 1, timeouts: 0, releases: 0, buries: 0, kicks: 0 },
      body: Buffer.from(body).toString('base64'), ...extra,
    });

  it('are read, and replaced by a segment at the start', () => {
    const dir = freshDir();
    writeFileSync(
      join(dir, 'binlog.jsonl'),
      [
        JSON.stringify({ op: 'ids', lastId: 7 }),
        legacyJob(3, 'three'),
        legacyJob(4, 'four'),
        JSON.stringify({ op: 'state', id: 4, pri: 2, delaySeconds: 0, state: 'buried', readyAtWallUs: 0, counters: { reserves: 1, timeouts: 0, releases: 0, buries: 1, kicks: 0 } }),
        JSON.stringify({ op: 'delete', id: 3 }),
        '',
      ].join('\n'),
    );
    const life = new Life(dir, 1);
    expect(life.binlog.restoredJobs).toBe(1);
    expect(life.job(4)).toMatchObject({ tube: 'old', state: 'buried', pri: '2', buries: '2' });
    expect(life.send({ kind: 'peek', id: 4 })).toEqual(['c1: FOUND 4 four']);
    expect(life.put('new')).toEqual(['c1: INSERTED 8']);
    expect(existsSync(join(dir, 'binlog.jsonl'))).toBe(false);
    expect(listSegments(dir)).toHaveLength(1);
  });

  it('of 530 MiB (more than a string can hold) are read piece by piece', { timeout: 120_000 }, () => {
    const dir = freshDir();
    // The issue's case: 64 KiB put + delete, over and over, with 3 jobs left.
    const body = 'p'.repeat(64 * 1024);
    const path = join(dir, 'binlog.jsonl');
    const fd = openSync(path, 'w');
    try {
      let id = 0;
      const block: string[] = [];
      for (let i = 0; i < 64; i++) {
        id += 1;
        block.push(legacyJob(id, body), JSON.stringify({ op: 'delete', id }));
      }
      const blockBytes = Buffer.from(`${block.join('\n')}\n`);
      // Ids repeat from block to block: each block puts and deletes the same 64 ids again.
      while (fstatSync(fd).size < 530 * 1024 * 1024) writeSync(fd, blockBytes);
      writeSync(fd, `${legacyJob(1001, 'kept 1')}\n${legacyJob(1002, 'kept 2')}\n${legacyJob(1003, 'kept 3')}\n`);
    } finally {
      closeSync(fd);
    }
    expect(statSync(path).size).toBeGreaterThan(0x1fffffe8);
    const life = new Life(dir, 1);
    expect(life.binlog.restoredJobs).toBe(3);
    expect(life.send({ kind: 'peek', id: 1003 })).toEqual(['c1: FOUND 1003 kept 3']);
    expect(binlogBytes(dir)).toBeLessThan(4096);
  });
});

describe('the binlog directory lock', () => {
  it('lets one server at a time use a directory, and frees it on close', () => {
    const dir = freshDir();
    const first = new Life(dir);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
    expect(() => new Life(dir)).toThrow(BinlogLockedError);
    expect(() => new Life(dir)).toThrow(`binlog directory ${dir} is in use by process ${process.pid}`);
    first.stop();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    new Life(dir).stop();
  });

  it('is refused while another live process holds it', () => {
    const dir = freshDir();
    writeFileSync(join(dir, LOCK_FILE), `${process.ppid}\n`);
    expect(() => new Life(dir)).toThrow(`is in use by process ${process.ppid}`);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8').trim()).toBe(String(process.ppid));
  });

  it('is taken over from an owner that is gone (a crash left the lock file)', () => {
    const dir = freshDir();
    const gone = spawnSync(process.execPath, ['-e', ''], { timeout: 10_000 }).pid;
    writeFileSync(join(dir, LOCK_FILE), `${gone}\n`);
    const life = new Life(dir);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
    life.stop();
  });
});
