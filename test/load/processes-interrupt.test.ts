// Ctrl-C in a terminal reaches the whole foreground process group: `load --processes 2`'s parent
// and both of its shards. Each shard stops, audits its jobs on the server (which runs in a group
// of its own, so it is still there) and writes its partial result; the parent says "stopping"
// once, merges the partial results into one and stops the server last.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { loadResultSchema } from '../../src/metrics/load-result.js';
import { describeWithBeanstalkd } from '../helpers/beanstalkd.js';
import { runBeanlabInGroup } from '../helpers/process-group.js';
import { writeNoWorkersScenario } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'beanlab-proc-int-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const scenarioFile = writeNoWorkersScenario(dir);

describeWithBeanstalkd('Ctrl-C to the process group of load --processes 2', (binary) => {
  it('ends every shard cleanly and merges their partial results', async () => {
    const json = join(dir, 'merged.json');
    const run = await runBeanlabInGroup(['load', scenarioFile, '--spawn', `${binary} -l 127.0.0.1 -p {port}`, '--processes', '2', '--json', json], {
      timeoutMs: 60_000,
      // Once both shards are under way; twice, 200 ms apart, as a keypress forwarded by npm arrives.
      ctrlC: { after: /2 shards of run \S+ started/, afterMs: 1500, times: 2, everyMs: 200 },
    });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr.match(/stopping \(Ctrl-C\)/g)).toHaveLength(1);
    expect(run.stderr).not.toMatch(/wrote no result|Error/);
    const result = loadResultSchema.parse(JSON.parse(readFileSync(json, 'utf8')));
    expect(result.load.interrupted).toBe(true);
    expect(result.load.errors).toEqual([]);
    expect(result.load.shard!.shards!.map((s) => [s.index, s.interrupted])).toEqual([
      [0, true],
      [1, true],
    ]);
    expect(result.jobs.put).toBeGreaterThan(50);
    expect(result.jobs.lost).toBe(0);
    expect(result.jobs.unverified).toBe(0);
    expect(result.jobs.remaining).toBe(result.jobs.put);
    expect(result.load.integrity.tubeMismatches).toEqual([]);
    expect(run.stdout).toMatch(/INTERRUPTED/);
    expect(run.stdout).not.toMatch(/LOST|UNVERIFIED|GONE/);
  }, 90_000);
});
