// The persistence cases (corpus/persistence.txt) through `beanlab conform --spawn` with a
// {binlog} placeholder: beanstalkd 1.12 with -b passes them; the same server with its -b
// commented out (it keeps nothing across a restart) fails them.
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { runConform } from '../../src/cli/conform.js';
import { describeWithBeanstalkd } from '../helpers/beanstalkd.js';
import { BEANLAB_BIN } from '../helpers/beanlab-cli.js';

async function conform(spawn: string, only: string): Promise<{ code: number; text: string }> {
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
