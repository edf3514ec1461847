// `npm run bench:conform`: the speed figures of `beanlab conform` against a real beanstalkd
// (default profile: at most 90 s; --quick: at most 20 s), a benchmark rather than a timed test.
import { performance } from 'node:perf_hooks';
import { runConform } from '../src/cli/conform.js';
import { findBeanstalkd } from '../src/target/spawn.js';

const binary = findBeanstalkd();
if (!binary) {
  console.error('bench:conform needs beanstalkd (set BEANSTALKD or put it on PATH)');
  process.exit(2);
}
const spawn = `${binary} -l 127.0.0.1 -p {port}`;
for (const quick of [true, false]) {
  const startMs = performance.now();
  const code = await runConform({ profile: '1.12', concurrency: 8, quick, spawn, replayDir: 'reports/bench-replays' }, () => {});
  const seconds = (performance.now() - startMs) / 1000;
  const limit = quick ? 20 : 90;
  console.log(`conform ${quick ? '--quick' : '(default)'} against beanstalkd 1.12: ${seconds.toFixed(1)} s (limit ${limit} s), exit ${code}`);
}
