// `npm run bench:shards`: what a second load-generator process buys on this machine. Runs
// `beanlab load --processes 1` and `--processes 2` side by side (alternating, ABBA, so a drift of
// the shared machine's load weighs on both alike) for two workloads, against beanstalkd 1.12 and
// against the embedded server:
//  - put-max: closed-loop pipelined puts (scenarios/put-max.yaml), puts per second;
//  - workers: open loop at a fixed rate into a thousand workers with a 50 ms service time, where
//    the harness's timers are the limit: how far service runs over, how late puts go out;
// and reports, per run, the rate, the load generator's CPU per put or completion, each shard's
// event-loop lag (p99), and the load average while it ran. A benchmark, not a test: it only
// reports, with ratios (2 processes / 1), since absolute figures drift on a shared machine.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadResultSchema, type LoadResult } from '../src/metrics/load-result.js';
import { findBeanstalkd } from '../src/target/index.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const BIN = new URL('../bin/beanlab.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'beanlab-bench-shards-'));

const binary = findBeanstalkd();
if (!binary) {
  console.error('bench:shards needs beanstalkd (set BEANSTALKD or put it on PATH)');
  process.exit(2);
}

const workersScenario = join(dir, 'workers.yaml');
writeFileSync(
  workersScenario,
  `name: workers
durationSeconds: ${SECONDS}
tubes: [work]
producers: [{ tube: work, arrival: { process: constant, ratePerSecond: 8000 }, bodyBytes: 100 }]
workers: [{ count: 1000, watch: [work], service: { distribution: constant, seconds: 0.05 } }]
load: { drainSeconds: 5 }
`,
);

const workloads = {
  'put-max': { file: new URL('../scenarios/put-max.yaml', import.meta.url).pathname, args: ['--duration', String(SECONDS)] },
  workers: { file: workersScenario, args: [] as string[] },
};
const targets = { beanstalkd: ['--spawn', `${binary} -l 127.0.0.1 -p {port}`], embedded: [] as string[] };

interface Figures {
  rate: number;
  completedPerSecond: number;
  cpuUsPerOp: number;
  lagP99Ms: number[];
  sendLagP99Ms: number | null;
  serviceOverrunPercent: number | null;
  serverCpuPercent: number | null;
  load1: number;
  sound: boolean;
}

function run(args: string[], timeoutMs: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`beanlab ${args.join(' ')} took over ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

async function measure(workload: keyof typeof workloads, target: keyof typeof targets, processes: number): Promise<Figures> {
  const json = join(dir, `${workload}-${target}-${processes}.json`);
  const w = workloads[workload];
  const before = loadavg()[0];
  await run(['load', w.file, ...w.args, ...targets[target], '--processes', String(processes), '--json', json], 180_000);
  const after = loadavg()[0];
  const r: LoadResult = loadResultSchema.parse(JSON.parse(readFileSync(json, 'utf8')));
  const l = r.load;
  const h = l.harness!;
  const overrun = h.serviceConfiguredUs.count > 0 ? ((h.serviceMeasuredUs.mean - h.serviceConfiguredUs.mean) / h.serviceConfiguredUs.mean) * 100 : null;
  return {
    rate: l.achievedRatePerSecond,
    completedPerSecond: r.throughput.jobsPerSecond,
    cpuUsPerOp: (l.cpu.loadgenSeconds * 1e6) / Math.max(1, r.jobs.put + r.jobs.completed),
    lagP99Ms: (l.shard?.shards ?? []).map((s) => (s.eventLoopLagUs?.p99 ?? 0) / 1000),
    sendLagP99Ms: h.sendLagUs.count > 0 ? h.sendLagUs.p99 / 1000 : null,
    serviceOverrunPercent: overrun,
    serverCpuPercent: l.cpu.serverPercent,
    load1: Math.round(((before + after) / 2) * 10) / 10,
    sound: r.jobs.lost === 0 && (r.jobs.unverified ?? 0) === 0 && l.errors.length === 0,
  };
}

const fmt = (v: number | null, digits = 1) => (v === null ? '-' : v.toFixed(digits));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(`bench:shards: ${SECONDS} s runs, ${ROUNDS} rounds (ABBA), load average at start ${loadavg().map((x) => x.toFixed(1)).join(' ')}\n`);
for (const target of Object.keys(targets) as Array<keyof typeof targets>) {
  for (const workload of Object.keys(workloads) as Array<keyof typeof workloads>) {
    const results: Record<number, Figures[]> = { 1: [], 2: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const processes of round % 2 === 0 ? [1, 2] : [2, 1]) {
        const f = await measure(workload, target, processes);
        results[processes].push(f);
        console.log(
          `${target.padEnd(10)} ${workload.padEnd(8)} --processes ${processes}: ${fmt(f.rate, 0)} puts/s, ${fmt(f.completedPerSecond, 0)} done/s, ` +
            `${fmt(f.cpuUsPerOp, 1)} µs CPU per put or completion, loop lag p99 ${f.lagP99Ms.map((x) => fmt(x)).join(' / ')} ms, ` +
            `send lag p99 ${fmt(f.sendLagP99Ms)} ms, service +${fmt(f.serviceOverrunPercent)}%, server CPU ${fmt(f.serverCpuPercent, 0)}%, ` +
            `load ${f.load1}${f.sound ? '' : ', NOT SOUND'}`,
        );
      }
    }
    const m = (p: number, f: (x: Figures) => number | null) => {
      const values = results[p].map(f).filter((v): v is number => v !== null);
      return values.length === 0 ? null : median(values);
    };
    const ratio = (f: (x: Figures) => number | null) => {
      const [a, b] = [m(1, f), m(2, f)];
      return a === null || b === null || a === 0 ? '-' : `${(b / a).toFixed(2)}x`;
    };
    const worstLag = (x: Figures) => Math.max(...x.lagP99Ms);
    console.log(
      `${target} ${workload}, medians (1 -> 2 processes): rate ${fmt(m(1, (x) => x.rate), 0)} -> ${fmt(m(2, (x) => x.rate), 0)} (${ratio((x) => x.rate)}); ` +
        `CPU per put or completion ${fmt(m(1, (x) => x.cpuUsPerOp))} -> ${fmt(m(2, (x) => x.cpuUsPerOp))} µs (${ratio((x) => x.cpuUsPerOp)}); ` +
        `worst shard loop lag p99 ${fmt(m(1, worstLag))} -> ${fmt(m(2, worstLag))} ms; send lag p99 ${fmt(m(1, (x) => x.sendLagP99Ms))} -> ${fmt(m(2, (x) => x.sendLagP99Ms))} ms; ` +
        `service overrun ${fmt(m(1, (x) => x.serviceOverrunPercent))} -> ${fmt(m(2, (x) => x.serviceOverrunPercent))}%\n`,
    );
  }
}
rmSync(dir, { recursive: true, force: true });
