// The embedded server's binlog (semantics b.7): which commands write a record, how a replay
// folds them, compaction, a torn last line, and the directory lock. Driven through the model
// API with explicit clocks, so no socket and no sleeping.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createModel, type ConnId, type ReferenceModel } from '../../src/model/index.js';
import { parseStatsYaml } from '../../src/protocol/stats-yaml.js';
import type { Request } from '../../src/protocol/types.js';
import { BINLOG_FILE, BinlogCorruptError } from '../../src/server/binlog-file.js';
import { BinlogLockedError, LOCK_FILE } from '../../src/server/binlog-lock.js';
import { openBinlog, type OpenBinlog } from '../../src/server/binlog.js';
import { render } from '../model/harness.js';

const SECOND_US = 1_000_000;
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
  ) {
    this.binlog = openBinlog(createModel({ startUs: this.nowUs }), {
      dir,
      nowUs: this.nowUs,
      wallNowUs: WALL_START_US + wallSeconds * SECOND_US,
      onWarning: (message) => this.warnings.push(message),
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

  /** The binlog's records so far, as parsed objects. */
  records(): Array<Record<string, unknown>> {
    return readLines(this.dir).map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  stop(): void {
    open.splice(open.indexOf(this.binlog), 1);
    this.binlog.close();
  }
}

function readLines(dir: string): string[] {
  return readFileSync(join(dir, BINLOG_FILE), 'utf8').split('\n').filter(Boolean);
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
      expect.objectContaining({ op: 'job', id: 1, tube: 'default', pri: 7, state: 'ready', ttrSeconds: 60, createdWallUs: WALL_START_US, counters: { reserves: 0, timeouts: 0, releases: 0, buries: 0, kicks: 0 }, body: 'eA==' }),
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
    expect(readLines(dir)).toHaveLength(9);
    first.stop();
    const second = new Life(dir);
    expect(second.records().map((r) => `${r.op} ${r.id ?? r.lastId} ${r.state}`)).toEqual(['ids 5 undefined', 'job 5 ready', 'job 4 buried']);
    second.stop();
    const sizeAfterOne = readFileSync(join(dir, BINLOG_FILE)).length;
    new Life(dir).stop();
    new Life(dir).stop();
    // Only the bury count grows (one digit here); the record count stays.
    expect(readLines(dir)).toHaveLength(3);
    expect(readFileSync(join(dir, BINLOG_FILE)).length).toBe(sizeAfterOne);
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

describe('a damaged binlog', () => {
  it('ignores a torn last line with a warning', () => {
    const dir = freshDir();
    const first = new Life(dir);
    first.put('kept');
    first.put('torn');
    first.stop();
    const lines = readLines(dir);
    // A crash in the middle of writing job 2's record leaves half a line.
    writeFileSync(join(dir, BINLOG_FILE), `${lines[0]}\n${lines[1].slice(0, 40)}`);
    const second = new Life(dir);
    expect(second.warnings).toEqual([expect.stringMatching(/binlog\.jsonl line 2 is incomplete or corrupt.*ignored/)]);
    expect(second.binlog.restoredJobs).toBe(1);
    expect(second.job(1)).toMatchObject({ state: 'ready' });
    expect(second.put('next')).toEqual(['c1: INSERTED 2']);
  });

  it('refuses a corrupt line that is not the last one', () => {
    const dir = freshDir();
    const first = new Life(dir);
    first.put('a');
    first.stop();
    appendFileSync(join(dir, BINLOG_FILE), 'garbage\n{"op":"delete","id":1}\n');
    expect(() => new Life(dir)).toThrow(BinlogCorruptError);
    expect(() => new Life(dir)).toThrow(/line 2 is not a valid binlog record/);
    // The refused start released the directory and left the file as it was.
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    expect(readLines(dir)).toHaveLength(3);
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
