// `beanlab load`, `compare` and `merge` as subprocesses: exit codes, files, Ctrl-C.
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadResultSchema, type LoadResult } from '../../src/metrics/load-result.js';
import { abOrder, orderText } from '../../src/load/ab-order.js';
import { runBeanlab } from '../helpers/beanlab-cli.js';
import { describeWithBeanstalkd } from '../helpers/beanstalkd.js';

const beanlab = (args: string[], opts: { interruptAfterMs?: number } = {}) => runBeanlab(args, { timeoutMs: 40_000, ...opts });

const dir = mkdtempSync(join(tmpdir(), 'beanlab-load-cli-'));
const scenarioFile = join(dir, 'tiny.yaml');
writeFileSync(
  scenarioFile,
  `name: tiny
durationSeconds: 0.5
producers: [{ tube: t, arrival: { process: constant, ratePerSecond: 100 } }]
workers: [{ count: 2, watch: [t], service: { distribution: constant, seconds: 0 } }]
slos:
  - { name: impossible, metric: endToEnd, stat: max, maxSeconds: 0 }
`,
);

describe('beanlab load: bad input', () => {
  it('exits 2 with one line for a missing scenario, a bad option or an unreachable target', async () => {
    const missing = await beanlab(['load', join(dir, 'nope.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/cannot read scenario/);
    const unreachable = await beanlab(['load', scenarioFile, '--target', '127.0.0.1:1']);
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toMatch(/cannot connect to 127\.0\.0\.1:1/);
    const both = await beanlab(['load', scenarioFile, '--rate', '10', '--pipeline', '4']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/exclude each other/);
  });
});

describeWithBeanstalkd('beanlab load, compare and merge', (binary) => {
  const spawnArgs = ['--spawn', `${binary} -l 127.0.0.1 -p {port}`];
  const resultFile = join(dir, 'result.json');
  let result: LoadResult;

  beforeAll(async () => {
    const run = await beanlab(['load', scenarioFile, ...spawnArgs, '--json', resultFile, '--report', join(dir, 'report')]);
    // The impossible SLO fails: exit 1, after writing everything.
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toMatch(/FAIL {2}impossible/);
    expect(run.stdout).toMatch(/│ put to delete/);
    result = loadResultSchema.parse(JSON.parse(readFileSync(resultFile, 'utf8')));
  });

  it('writes a valid result and a self-contained report', () => {
    expect(result.kind).toBe('load');
    expect(result.jobs.put).toBeGreaterThan(20);
    expect(result.jobs.lost).toBe(0);
    const html = readFileSync(join(dir, 'report', 'report.html'), 'utf8');
    expect(html).toContain('uPlot');
    expect(html).not.toMatch(/<script src=/);
    expect(existsSync(join(dir, 'report', 'report.md'))).toBe(true);
  });

  it('A/B mode: prints the random order with its seed, keeps both in the result, and ends report.md with the comparison', async () => {
    const plain = join(dir, 'plain.yaml');
    writeFileSync(plain, readFileSync(scenarioFile, 'utf8').replace(/slos:[\s\S]*$/, ''));
    const abFile = join(dir, 'ab.json');
    const run = await beanlab(['load', plain, ...spawnArgs, '--baseline-spawn', `${binary} -l 127.0.0.1 -p {port}`, '--repeat', '2', '--order-seed', '5', '--json', abFile, '--report', join(dir, 'ab-report')]);
    expect(run.code, run.stderr).toBe(0);
    const order = orderText(abOrder(2, 5));
    expect(run.stdout).toContain(`A/B runs in random order (--order-seed 5 repeats it): ${order}`);
    const ab = loadResultSchema.parse(JSON.parse(readFileSync(abFile, 'utf8')));
    expect(ab.load.ab).toMatchObject({ orderSeed: 5, order });
    const markdown = readFileSync(join(dir, 'ab-report', 'report.md'), 'utf8');
    expect(markdown).toMatch(/A\/B runs in random order \(--order-seed 5 repeats it\)[^\n]*\n\n## A\/B against .*: no regression\n/);
    // Two pairs are too few for a verdict, and the table says how many it takes.
    expect(markdown).toMatch(/\| too few samples \|/);
    expect(markdown).toMatch(/it needs 5 samples per side \(--repeat 5\)/);
  });

  it('compare: exit 0 for the same result, 1 with a Markdown table for a slower one', async () => {
    const sameJson = join(dir, 'same.json');
    const same = await beanlab(['compare', resultFile, resultFile, '--json', sameJson]);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toMatch(/no regression/);
    const comparison = JSON.parse(readFileSync(sameJson, 'utf8'));
    expect(comparison).toMatchObject({ kind: 'comparison', regression: false, method: 'unpaired', threshold: 'p99=+10%,throughput=-5%' });
    expect(comparison.rows.find((r: { metric: string }) => r.metric === 'put.p99')).toMatchObject({ change: 0, verdict: 'ok', samples: [1, 1] });
    // One load run per side never makes a regression, however different: say how many it takes.
    const slower = structuredClone(result);
    slower.load.repeats[0].latency.putUs.p99 *= 3;
    const slowerFile = join(dir, 'slower.json');
    writeFileSync(slowerFile, JSON.stringify(slower));
    const single = await beanlab(['compare', resultFile, slowerFile, '--threshold', 'put.p99=+10%']);
    expect(single.code, single.stdout).toBe(0);
    expect(single.stdout).toMatch(/\| put\.p99 \|.*inconclusive/);
    expect(single.stdout).toMatch(/Run with --repeat 4 for a verdict \(4 samples per side\)/);
    // Five repeats a side, all three times slower: a regression.
    const repeated = (r: LoadResult, factor: number) => {
      const copy = structuredClone(r);
      copy.load.repeats = [0.98, 0.99, 1, 1.01, 1.02].map((k) => {
        const sample = structuredClone(r.load.repeats[0]);
        sample.latency.putUs.p99 = r.load.repeats[0].latency.putUs.p99 * factor * k;
        return sample;
      });
      return copy;
    };
    const baseFive = join(dir, 'base5.json');
    const slowFive = join(dir, 'slow5.json');
    writeFileSync(baseFive, JSON.stringify(repeated(result, 1)));
    writeFileSync(slowFive, JSON.stringify(repeated(result, 3)));
    const markdown = join(dir, 'compare.md');
    const flagged = await beanlab(['compare', baseFive, slowFive, '--threshold', 'put.p99=+10%', '--markdown', markdown]);
    expect(flagged.code).toBe(1);
    expect(flagged.stdout).toMatch(/\| put\.p99 \|.*\*\*REGRESSION\*\*/);
    expect(readFileSync(markdown, 'utf8')).toBe(flagged.stdout);
    const bad = await beanlab(['compare', resultFile, slowerFile, '--threshold', 'p99=-3%']);
    expect(bad.code).toBe(2);
  });

  it('compare: refuses results of different kinds or scenarios (exit 2) unless --force', async () => {
    const simFile = join(dir, 'sim.json');
    const sim = await beanlab(['sim', scenarioFile, '--seed', '1', '--json', simFile]);
    expect(sim.code, sim.stderr).not.toBe(2);
    const refused = await beanlab(['compare', simFile, resultFile]);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/the baseline is a sim result and the current one a load result: not comparable \(--force/);
    // Pointed at the command that judges a measurement against the simulator's seed spread.
    expect(refused.stderr).toMatch(/beanlab validate SCENARIO checks a real run against the simulator's spread over seeds/);
    // A sim result written before the simulator gave puts per second: n/a, not a -100% regression.
    const older = JSON.parse(readFileSync(simFile, 'utf8'));
    delete older.throughput.putsPerSecond;
    const olderFile = join(dir, 'sim-older.json');
    writeFileSync(olderFile, JSON.stringify(older));
    const forced = await beanlab(['compare', olderFile, resultFile, '--force']);
    expect(forced.code, forced.stdout).toBe(0);
    expect(forced.stdout).toMatch(/\| putsPerSecond \| n\/a \|.*n\/a \(not measured in the baseline\)/);
    expect(forced.stdout).not.toMatch(/REGRESSION/);
    const other = structuredClone(result);
    other.scenario = 'another';
    const otherFile = join(dir, 'other.json');
    writeFileSync(otherFile, JSON.stringify(other));
    const scenarios = await beanlab(['compare', resultFile, otherFile]);
    expect(scenarios.code).toBe(2);
    expect(scenarios.stderr).toMatch(/different scenarios: tiny and another/);
  });

  it('merge: two results add up, histograms included', async () => {
    const merged = join(dir, 'merged.json');
    const run = await beanlab(['merge', resultFile, resultFile, '--json', merged]);
    expect(run.code).toBe(1); // each part failed its SLO
    const m = loadResultSchema.parse(JSON.parse(readFileSync(merged, 'utf8')));
    expect(m.jobs.put).toBe(2 * result.jobs.put);
    expect(m.latency.putUs!.count).toBe(2 * result.latency.putUs!.count);
    expect(m.latency.putUs!.p99).toBe(result.latency.putUs!.p99);
  });

  it('stops on Ctrl-C and still writes the partial result', async () => {
    const partial = join(dir, 'partial.json');
    const run = await beanlab(['load', scenarioFile, ...spawnArgs, '--duration', '60', '--json', partial], { interruptAfterMs: 2500 });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/stopping \(Ctrl-C\)/);
    const r = loadResultSchema.parse(JSON.parse(readFileSync(partial, 'utf8')));
    expect(r.load.interrupted).toBe(true);
    expect(r.jobs.lost).toBe(0);
    expect(r.durationUs).toBeLessThan(30e6);
  });
});
