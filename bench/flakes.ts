// `npm run bench:flakes`: does `beanlab conform` give the same verdict every time? N consecutive
// full `--spawn` runs against beanstalkd, and N `--quick --exclusive --target` runs through a
// plain TCP forwarder (test/helpers/tcp-forwarder.ts) in front of one beanstalkd, optionally
// while a busy loop holds one core. Each run is the real CLI in its own process; the figures are
// pass counts, and every failing check is listed with the seed that reproduces it.
//
//   npm run bench:flakes -- [--runs N] [--spawn-runs N] [--target-runs N] [--busy] [--only spawn|target]
import { spawn as spawnChild, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { findBeanstalkd, spawnBeanstalkd } from '../src/target/spawn.js';
import { BEANLAB_BIN } from '../test/helpers/beanlab-cli.js';
import { startForwarder } from '../test/helpers/tcp-forwarder.js';

const USAGE = 'usage: npm run bench:flakes -- [--runs N] [--spawn-runs N] [--target-runs N] [--busy] [--only spawn|target]';
let parsed;
try {
  parsed = parseArgs({
    options: {
      runs: { type: 'string', default: '10' },
      'spawn-runs': { type: 'string' },
      'target-runs': { type: 'string' },
      busy: { type: 'boolean', default: false },
      only: { type: 'string' },
    },
  });
} catch (error) {
  console.error(`bench:flakes: ${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}
const { values } = parsed;
if (values.only !== undefined && values.only !== 'spawn' && values.only !== 'target') {
  console.error(`bench:flakes: --only must be spawn or target, got '${values.only}'\n${USAGE}`);
  process.exit(2);
}
const count = (text: string | undefined): number => {
  const n = Number(text ?? values.runs);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`bench:flakes: a run count must be an integer ≥ 0, got '${text}'`);
    process.exit(2);
  }
  return n;
};
const spawnRuns = values.only === 'target' ? 0 : count(values['spawn-runs']);
const targetRuns = values.only === 'spawn' ? 0 : count(values['target-runs']);
/** One run's bound: a full run takes about a minute; a stuck one must not stop the benchmark. */
const RUN_TIMEOUT_MS = 240_000;
const OUTPUT_TAIL_CHARS = 2000;
/** Where the reports of failing runs are kept (under the gitignored reports/). */
const KEPT_REPORTS_DIR = 'reports/bench-flakes';

const binary = findBeanstalkd();
if (!binary) {
  console.error('bench:flakes needs beanstalkd (set BEANSTALKD or put it on PATH)');
  process.exit(2);
}

interface RunOutcome {
  code: number | null;
  seconds: number;
  failing: string[];
  seed?: number;
}

const work = mkdtempSync(join(tmpdir(), 'beanlab-flakes-'));
let busy: ChildProcess | undefined;
const stopBusy = () => {
  const pid = busy?.pid;
  busy = undefined;
  if (pid !== undefined) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
};
process.once('exit', stopBusy);

async function conform(label: string, args: string[], n: number): Promise<RunOutcome> {
  const json = join(work, `run-${n}.json`);
  const startMs = performance.now();
  const child = spawnChild(process.execPath, [BEANLAB_BIN, 'conform', ...args, '--json', json, '--report', join(work, `report-${n}`)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The tail of the output says why a run ended without a result (a crash, a usage error).
  let tail = '';
  const keep = (chunk: Buffer) => (tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.once('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  const seconds = (performance.now() - startMs) / 1000;
  try {
    const result = JSON.parse(readFileSync(json, 'utf8')) as { seed: number; checks: Array<{ id: string; status: string; actual: string }> };
    const failing = result.checks.filter((c) => c.status === 'fail').map((c) => `${c.id}: ${c.actual.split('\n')[0].slice(0, 120)}`);
    // A failing run's report (with its replays) is kept for a look at what happened.
    if (failing.length > 0) {
      const kept = join(KEPT_REPORTS_DIR, `${label.replace(/[^a-z]+/gi, '-')}${n}-seed-${result.seed}`);
      mkdirSync(KEPT_REPORTS_DIR, { recursive: true });
      cpSync(join(work, `report-${n}`), kept, { recursive: true });
      failing.push(`(report kept in ${kept})`);
    }
    return { code, seconds, failing, seed: result.seed };
  } catch {
    return { code, seconds, failing: [`(no result: exit ${code}; output ended: ${tail.trim().split('\n').slice(-3).join(' | ')})`] };
  }
}

async function series(label: string, runs: number, args: string[]): Promise<string> {
  let passed = 0;
  const seconds: number[] = [];
  const failures = new Map<string, number[]>();
  for (let i = 1; i <= runs; i++) {
    const outcome = await conform(label, args, i);
    seconds.push(outcome.seconds);
    if (outcome.code === 0 && outcome.failing.length === 0) passed++;
    for (const f of outcome.failing) failures.set(f, [...(failures.get(f) ?? []), outcome.seed ?? -1]);
    const verdict = outcome.code === 0 ? 'pass' : `exit ${outcome.code}: ${outcome.failing.join('; ')}`;
    console.log(`  ${label} ${i}/${runs}: ${verdict} (${outcome.seconds.toFixed(1)} s, seed ${outcome.seed})`);
  }
  const median = seconds.sort((a, b) => a - b)[Math.floor(seconds.length / 2)] ?? 0;
  const lines = [`${label}: ${passed}/${runs} passed (median ${median.toFixed(1)} s per run)`];
  for (const [f, seeds] of failures) lines.push(`    ${seeds.length}× ${f} (seeds ${seeds.join(', ')})`);
  return lines.join('\n');
}

if (values.busy) {
  busy = spawnChild(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
  console.log(`busy loop on one core: pid ${busy.pid}`);
}
const summary: string[] = [];
// Ctrl-C: conform children share this process group and stop with it; the beanstalkd of the
// forwarder runs has a group of its own, so it is stopped here by its PID, then the summary so far.
let stopServer: (() => Promise<void>) | undefined;
process.once('SIGINT', () => {
  console.log('\nstopping (Ctrl-C)');
  stopBusy();
  void (stopServer?.() ?? Promise.resolve()).finally(() => {
    rmSync(work, { recursive: true, force: true });
    console.log(`\nbench:flakes, interrupted:\n${summary.join('\n') || '(no series finished)'}`);
    process.exit(130);
  });
});
try {
  if (spawnRuns > 0) {
    console.log(`${spawnRuns} full runs: conform --spawn '${binary} -l 127.0.0.1 -p {port}'`);
    summary.push(await series('full --spawn', spawnRuns, ['--spawn', `${binary} -l 127.0.0.1 -p {port}`]));
  }
  if (targetRuns > 0) {
    const server = await spawnBeanstalkd({ binary });
    const forwarder = await startForwarder(server);
    stopServer = async () => {
      await forwarder.close();
      await server.stop();
    };
    try {
      console.log(`${targetRuns} runs: conform --quick --exclusive --target 127.0.0.1:${forwarder.port} (a TCP forwarder to beanstalkd on port ${server.port})`);
      summary.push(await series('--quick --exclusive --target via forwarder', targetRuns, ['--quick', '--exclusive', '--target', `127.0.0.1:${forwarder.port}`]));
    } finally {
      await forwarder.close();
      await server.stop();
    }
  }
} finally {
  stopBusy();
  rmSync(work, { recursive: true, force: true });
}
console.log(`\nbench:flakes${values.busy ? ' (one core kept busy)' : ''}:\n${summary.join('\n')}`);
