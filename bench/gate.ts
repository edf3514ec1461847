// `npm run bench:gate`: how often does `beanlab compare` call one and the same beanstalkd a
// regression? N A/B tries (`load --baseline-target` and `--target` at one server, 5 pairs each,
// the default gate 'p99=+10%,throughput=-5%'), in the shape of test/load/regression.test.ts: a
// short, noisy run whose p99 is the second largest of 200 values, the worst case for the gate.
// Each try's runs go in a fresh random order (src/load/ab-order.ts). Reports the tries that
// raised an alarm against the bound the gate states (falseAlarmAtMost),
// and, per metric, how the pairs split (current above / below baseline): runs of equal servers
// that are alike split evenly; a side that is systematically slower shows as a lopsided split.
//
//   npm run bench:gate -- [--tries N] [--repeat N] [--busy] [--json FILE]
import { spawn as spawnChild, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { NotStartedError, runLoad } from '../src/load/run.js';
import { compareAb, DEFAULT_THRESHOLDS, parseThresholds } from '../src/metrics/compare.js';
import { binomialUpperTail } from '../src/metrics/compare-stats.js';
import { findBeanstalkd, spawnBeanstalkd } from '../src/target/index.js';
import { steady } from '../test/load/helpers.js';
import { pairSplits, sideUs, uSumTwoSided, type PairSplit, type SideU } from '../test/helpers/side-balance.js';

const USAGE = 'usage: npm run bench:gate -- [--tries N] [--repeat N] [--busy] [--json FILE]';
let parsed;
try {
  parsed = parseArgs({
    options: {
      tries: { type: 'string', default: '50' },
      repeat: { type: 'string', default: '5' },
      busy: { type: 'boolean', default: false },
      json: { type: 'string' },
    },
  });
} catch (error) {
  console.error(`bench:gate: ${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}
const { values } = parsed;
const positive = (name: string, text: string): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`bench:gate: --${name} must be an integer ≥ 1, got '${text}'\n${USAGE}`);
    process.exit(2);
  }
  return n;
};
const tries = positive('tries', values.tries);
const repeat = positive('repeat', values.repeat);
const binary = findBeanstalkd();
if (!binary) {
  console.error('bench:gate needs beanstalkd (set BEANSTALKD or put it on PATH)');
  process.exit(2);
}

// The regression test's scenario: 800 puts/s for 0.25 s, two workers deleting at once.
const scenario = steady(800, 0.25);
const gate = parseThresholds(DEFAULT_THRESHOLDS);

let busy: ChildProcess | undefined;
if (values.busy) {
  busy = spawnChild(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
  console.log(`busy loop on one core: pid ${busy.pid}`);
}
process.once('exit', () => busy?.pid !== undefined && process.kill(busy.pid, 'SIGKILL'));

const server = await spawnBeanstalkd({ binary });
const address = `127.0.0.1:${server.port}`;
// Ctrl-C ends the try under way and prints the summary of those done; the server, in a process
// group of its own (the terminal's signal does not reach it), is stopped by its PID below.
const interrupt = new AbortController();
process.once('SIGINT', () => {
  console.log('\nstopping (Ctrl-C): the summary covers the tries done');
  interrupt.abort();
});
console.log(`${tries} A/B tries of ${repeat} pairs against one beanstalkd (${binary}, port ${server.port}), gate '${DEFAULT_THRESHOLDS}'`);
const alarms: Array<{ seed: number; orderSeed?: number; order?: string; rows: string[] }> = [];
const splits: PairSplit[][] = [];
const us: SideU[] = [];
let bound = 0;
let done = 0;
try {
  for (let seed = 1; seed <= tries && !interrupt.signal.aborted; seed++) {
    let result;
    try {
      result = await runLoad(scenario, { target: { kind: 'address', address }, baselineTarget: { kind: 'address', address }, repeat, seed, signal: interrupt.signal });
    } catch (error) {
      if (error instanceof NotStartedError) break;
      throw error;
    }
    // An interrupted try is not a whole comparison.
    if (result.load.interrupted || interrupt.signal.aborted) break;
    done++;
    const comparison = compareAb(result, gate);
    bound = comparison.falseAlarmAtMost;
    splits.push(pairSplits(result, gate));
    us.push(...sideUs(result, gate));
    const flagged = comparison.rows.filter((r) => r.verdict === 'regression').map((r) => `${r.metric} ${r.change >= 0 ? '+' : ''}${Math.round(r.change * 1000) / 10}%`);
    const { orderSeed, order } = result.load.ab!;
    if (flagged.length > 0) alarms.push({ seed, orderSeed, order, rows: flagged });
    console.log(`  try ${seed}/${tries}: ${flagged.length === 0 ? 'no regression' : `ALARM ${flagged.join(', ')}`}`);
  }
} finally {
  await server.stop();
}

// Per metric, the pairs of all tries together: how many had current above and below baseline.
const byMetric = new Map<string, { above: number; below: number; ties: number }>();
for (const split of splits.flat()) {
  const total = byMetric.get(split.metric) ?? { above: 0, below: 0, ties: 0 };
  total.above += split.above;
  total.below += split.below;
  total.ties += split.ties;
  byMetric.set(split.metric, total);
}
const surprise = binomialUpperTail(done, bound, alarms.length);
console.log(`\nbench:gate${values.busy ? ' (one core kept busy)' : ''}: ${alarms.length} of ${done} tries raised an alarm on equal servers; ` +
  `the gate states at most ${(bound * 100).toFixed(1)}% per comparison (${(done * bound).toFixed(1)} expected at most` +
  (alarms.length > 0 ? `; ${alarms.length} or more at that rate: chance ${surprise.toPrecision(2)})` : ')'));
for (const alarm of alarms) console.log(`    seed ${alarm.seed}, order seed ${alarm.orderSeed} (${alarm.order}): ${alarm.rows.join(', ')}`);
console.log('pairs, current above / below baseline (ties left out); U summed over the tries, and the chance of one so far from the middle when neither side measures higher:');
for (const [metric, { above, below, ties }] of byMetric) {
  const mine = us.filter((u) => u.metric === metric);
  const uSum = mine.reduce((sum, u) => sum + u.u, 0);
  const uP = uSumTwoSided(repeat, repeat, mine.length, uSum);
  console.log(`  ${metric.padEnd(16)} ${String(above).padStart(4)} / ${String(below).padEnd(4)} ties ${String(ties).padEnd(3)} U ${uSum} of ${(mine.length * repeat * repeat) / 2} expected, p = ${uP.toPrecision(2)}`);
}
if (values.json) {
  writeFileSync(values.json, JSON.stringify({ tries: done, repeat, busy: values.busy, falseAlarmAtMost: bound, alarms, pairs: Object.fromEntries(byMetric) }, null, 2) + '\n');
}
