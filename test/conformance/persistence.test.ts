// The persistence cases (corpus/persistence.txt) through `beanlab conform --spawn` with a
// {binlog} placeholder: beanstalkd 1.12 with -b passes them; the same server with its -b
// commented out (it keeps nothing across a restart) fails them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sessionsFor } from '../../src/target/sessions-for.js';
import { runConform } from '../../src/cli/conform.js';
import { spawnBeanstalkd } from '../../src/target/spawn.js';
import { describeWithBeanstalkd } from '../helpers/beanstalkd.js';
import { BEANLAB_BIN } from '../helpers/beanlab-cli.js';

async function conform(spawn: string, only: string | undefined): Promise<{ code: number; text: string }> {
  let text = '';
  const code = await runConform({ profile: '1.12', concurrency: 4, quick: true, verbose: true, spawn, only, replayDir: `${tmpdir()}/beanlab-persistence-replays` }, (t) => (text += t));
  return { code, text };
}


describeWithBeanstalkd('conform --spawn with {binlog}: persistence across a restart', (binary) => {
  it('passes on beanstalkd -b, and skips the stats case that needs a server without a binlog', { timeout: 60_000 }, async () => {
    const spawn = `${binary} -b {binlog} -l 127.0.0.1 -p {port}`;
    const persistence = await conform(spawn, 'persistence/');
    expect(persistence.code, persistence.text).toBe(0);
    expect(persistence.text).toContain('7 checks: 7 passed, 0 failed, 0 skipped');
    const stats = await conform(spawn, 'stats/stats/binlog-fields-without-binlog');
    expect(stats.text).toMatch(/stats\/stats\/binlog-fields-without-binlog: checks a server without a binlog; .* always runs with one/);
  });

  it('the whole suite (corpus and properties) passes on beanstalkd -b: stats-job `file` is the binlog file', { timeout: 120_000 }, async () => {
    // {max_job_size} too: the cases that need a small limit run, not skipped.
    const { code, text } = await conform(`${binary} -b {binlog} -z {max_job_size} -l 127.0.0.1 -p {port}`, undefined);
    expect(text).toMatch(/\d+ checks: \d+ passed, 0 failed, \d+ skipped/);
    expect(text).not.toMatch(/needs server option max-job-size/);
    expect(code, text).toBe(0);
  });

  it('runs the cases that need a small job size limit with {max_job_size}, and skips them without', { timeout: 60_000 }, async () => {
    const limited = await conform(`${binary} -z {max_job_size} -l 127.0.0.1 -p {port}`, 'producer/put/');
    expect(limited.code, limited.text).toBe(0);
    expect(limited.text).not.toContain('needs server option max-job-size');
    const plain = await conform(`${binary} -l 127.0.0.1 -p {port}`, 'producer/put/');
    expect(plain.text).toMatch(/producer\/put\/max-job-size-option-limit: needs server option max-job-size 10/);
    // Without a limit the case would fail: beanstalkd then accepts an 11-byte body.
    const ignored = await conform(`${binary} -l 127.0.0.1 -p {port} # -z {max_job_size}`, 'producer/put/max-job-size-option-limit');
    expect(ignored.code).toBe(1);
  });

  it('a running server (--target) with a binlog is seen to have one; without -b it is not', { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'beanlab-shared-binlog-'));
    const withBinlog = await spawnBeanstalkd({ binary, extraArgs: ['-b', dir] });
    const plain = await spawnBeanstalkd({ binary });
    try {
      const chosen = await sessionsFor({ kind: 'address', address: `127.0.0.1:${withBinlog.port}` });
      expect(chosen.binlogAlways).toBe(true);
      const session = await chosen.open({ profile: '1.12' });
      expect(session.binlog).toBe(true);
      await session.close();
      expect((await sessionsFor({ kind: 'address', address: `127.0.0.1:${plain.port}` })).binlogAlways).toBe(false);
    } finally {
      await withBinlog.stop();
      await plain.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails on a server that keeps nothing across a restart', { timeout: 60_000 }, async () => {
    // The shell comment hides -b {binlog} from beanstalkd: the same server, without a binlog.
    const { code, text } = await conform(`${binary} -l 127.0.0.1 -p {port} # -b {binlog}`, 'persistence/restart/ready-job-kept');
    expect(code).toBe(1);
    expect(text).toContain('FAIL persistence/restart/ready-job-kept');
    expect(text).toMatch(/actual: +NOT_FOUND/);
  });
});

describe('conform targets without a binlog', () => {
  it('skip the persistence cases and say how to run them', { timeout: 60_000 }, async () => {
    const { code, text } = await conform(`${process.execPath} ${BEANLAB_BIN} serve --port {port}`, 'persistence/');
    expect(code).toBe(0);
    expect(text).toContain('7 checks: 0 passed, 0 failed, 7 skipped');
    expect(text).toMatch(/persistence\/restart\/ready-job-kept: needs a binlog \(beanstalkd -b\) and a restart/);
  });
});
