// `npm run bench:server`: the embedded server (`beanlab serve`, its own process) against a real
// beanstalkd, driven by the same clients in the same run, one server after the other so they do
// not compete for the two cores. Three parts:
// 1. throughput and memory: pipelined put rate, put+reserve+delete cycle rate, resident memory
//    while 200,000 ready jobs are held (right after the puts, and once settled);
// 2. hostile clients (issue 13): 6 connections pipelining 5,461 peek-ready of a 60,000-byte job
//    without ever reading, with a well-behaved probe client's latency beside them; a
//    reserve-with-timeout 0 + release loop that never reads; memory once they closed;
// 3. a long binlog churn (6,500 x 65,000-byte put + delete, 3 jobs kept): the binlog's size and
//    the restart time and memory.
// `--part N` runs one part only.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from '../src/client/client.js';
import { spawnBeanstalkd } from '../src/target/spawn.js';
import { spawnEmbeddedServer } from '../test/helpers/server-process.js';
import { neverReadingPipeliners, probeLatency, putJob, quantile, reserveReleaseLoop, rssKiB } from '../test/helpers/hostile-clients.js';

const BODY = Buffer.alloc(100, 'b');
const HELD_JOBS = 200_000;
const PUT_CONNECTIONS = 2;
/** Requests kept in flight per connection. */
const PUT_WINDOW = 1000;
const CYCLE_CONNECTIONS = 4;
const CYCLES_IN_FLIGHT_PER_CONNECTION = 64;
const WARMUP_MS = 1500;
const CYCLE_MEASURE_MS = 4000;
/**
 * How long a server holding the jobs is left alone before its memory is read again: beanlab
 * serve collects its garbage after 1 s idle, and V8 hands the freed pages back about 8 s after
 * a collection (its memory reducer). beanstalkd's RSS does not move.
 */
const SETTLE_MS = 12_000;
/** The same for the hostile part and the binlog restart, where less is at stake. */
const SHORT_SETTLE_MS = 3000;

const HOSTILE_CONNECTIONS = 6;
const HOSTILE_PIPELINE = 5461;
const HOSTILE_BODY_BYTES = 60_000;
const HOSTILE_MS = 3000;
const RESERVE_RELEASE_PAIRS = 20_000;

const CHURN_ROUNDS = 6500;
const CHURN_BODY_BYTES = 65_000;
const CHURN_KEPT = 3;
const CHURN_IN_FLIGHT = 8;

/** The whole bench gives up after this, stopping what it started. */
const BENCH_LIMIT_MS = 600_000;

const GOALS = { putRatio: 0.5, cycleRatio: 0.5, rssRatio: 2 };

/** A server this bench started: beanstalkd (src/target) or `beanlab serve` (test/helpers). */
interface ServerProcess {
  pid: number;
  port: number;
  stop(): Promise<unknown>;
}

const started: ServerProcess[] = [];
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const mib = (kib: number): number => kib / 1024;

type Kind = 'beanstalkd' | 'embedded';
const KINDS: Kind[] = ['beanstalkd', 'embedded'];

async function spawn(kind: Kind, binlogDir?: string): Promise<ServerProcess> {
  const server =
    kind === 'beanstalkd'
      ? await spawnBeanstalkd({ extraArgs: binlogDir ? ['-b', binlogDir] : [] })
      : await spawnEmbeddedServer({ args: binlogDir ? ['--binlog', binlogDir] : [] });
  started.push(server);
  return server;
}

async function stop(server: ServerProcess): Promise<void> {
  await server.stop();
  started.splice(started.indexOf(server), 1);
}

async function connectAll(port: number, count: number): Promise<Client[]> {
  return Promise.all(Array.from({ length: count }, () => Client.connect({ port, timeoutMs: 30_000 })));
}

// ---- part 1: throughput and memory ----

interface Figures {
  putsPerSecond: number;
  cyclesPerSecond: number;
  rssWithJobsKiB: number;
  rssSettledKiB: number;
  rssIdleKiB: number;
}

/** Puts `total` jobs into `tube` over several pipelined connections; returns puts per second. */
async function putJobs(port: number, tube: string, total: number): Promise<number> {
  const clients = await connectAll(port, PUT_CONNECTIONS);
  await Promise.all(clients.map((client) => client.use(tube)));
  let issued = 0;
  const startedMs = performance.now();
  await Promise.all(
    clients.map(async (client) => {
      // PUT_WINDOW independent loops per connection keep that many puts outstanding.
      const loops = Array.from({ length: PUT_WINDOW }, async () => {
        while (issued < total) {
          issued += 1;
          await client.put(BODY, { ttrSeconds: 120 });
        }
      });
      await Promise.all(loops);
    }),
  );
  const elapsedS = (performance.now() - startedMs) / 1000;
  await Promise.all(clients.map((client) => client.close()));
  return total / elapsedS;
}

/** put → reserve → delete loops on several connections for `durationMs`; returns cycles per second. */
async function runCycles(port: number, tube: string, durationMs: number): Promise<number> {
  const clients = await connectAll(port, CYCLE_CONNECTIONS);
  await Promise.all(clients.map(async (client) => (await client.use(tube), await client.watch(tube), await client.ignore('default'))));
  let cycles = 0;
  const startedMs = performance.now();
  const stopAtMs = startedMs + durationMs;
  await Promise.all(
    clients.map(async (client) => {
      const loops = Array.from({ length: CYCLES_IN_FLIGHT_PER_CONNECTION }, async () => {
        while (performance.now() < stopAtMs) {
          await client.put(BODY, { ttrSeconds: 120 });
          // Every reserve follows its own put on the same connection, so a ready job always
          // exists when it is processed; the timeout only guards against a broken server.
          const job = await client.reserveWithTimeout(5);
          if (typeof job === 'string') throw new Error(`reserve answered ${job}`);
          if (!(await client.delete(job.id))) throw new Error(`delete ${job.id}: NOT_FOUND`);
          cycles += 1;
        }
      });
      await Promise.all(loops);
    }),
  );
  const elapsedS = (performance.now() - startedMs) / 1000;
  await Promise.all(clients.map((client) => client.close()));
  return cycles / elapsedS;
}

async function measureThroughput(kind: Kind): Promise<Figures> {
  const server = await spawn(kind);
  process.stdout.write(`${kind} pid ${server.pid}: throughput and memory...\n`);
  const rssIdleKiB = rssKiB(server.pid);
  await runCycles(server.port, 'warmup', WARMUP_MS);
  const cyclesPerSecond = await runCycles(server.port, 'cycles', CYCLE_MEASURE_MS);
  const putsPerSecond = await putJobs(server.port, 'held', HELD_JOBS);
  const check = await Client.connect({ port: server.port });
  const held = (await check.statsTube('held'))?.get('current-jobs-ready');
  await check.close();
  if (held !== String(HELD_JOBS)) throw new Error(`expected ${HELD_JOBS} ready jobs, server reports ${held}`);
  const rssWithJobsKiB = rssKiB(server.pid);
  await sleep(SETTLE_MS);
  const rssSettledKiB = rssKiB(server.pid);
  await stop(server);
  return { putsPerSecond, cyclesPerSecond, rssWithJobsKiB, rssSettledKiB, rssIdleKiB };
}

// ---- part 2: hostile clients ----

interface Hostile {
  idleKiB: number;
  peakKiB: number;
  afterCloseKiB: number;
  loopPeakKiB: number;
  probeP50Ms: number;
  probeP99Ms: number;
  probeMaxMs: number;
  firstReplyMs: number;
  roundTrips: number;
}

/** The largest RSS seen while sampling every 50 ms for `ms`. */
async function peakRssKiB(pid: number, ms: number): Promise<number> {
  let peak = 0;
  for (const stopAt = performance.now() + ms; performance.now() < stopAt; ) {
    peak = Math.max(peak, rssKiB(pid));
    await sleep(50);
  }
  return peak;
}

async function measureHostile(kind: Kind): Promise<Hostile> {
  const server = await spawn(kind);
  process.stdout.write(`${kind} pid ${server.pid}: hostile clients...\n`);
  const jobId = await putJob(server, { bodyBytes: HOSTILE_BODY_BYTES });
  const idleKiB = rssKiB(server.pid);
  const readers = await neverReadingPipeliners(server, { connections: HOSTILE_CONNECTIONS, command: 'peek-ready', count: HOSTILE_PIPELINE });
  // The probe starts beside them: its connect and first reply, then round trips.
  const [peakKiB, probe] = await Promise.all([peakRssKiB(server.pid, HOSTILE_MS), probeLatency(server, { durationMs: HOSTILE_MS - 200, maxRoundTrips: 1_000_000, timeoutMs: 60_000 })]);
  readers.stop();
  await sleep(SHORT_SETTLE_MS);
  const afterCloseKiB = rssKiB(server.pid);
  const loop = await reserveReleaseLoop(server, { jobId, count: RESERVE_RELEASE_PAIRS });
  const loopPeakKiB = await peakRssKiB(server.pid, 2000);
  loop.stop();
  await stop(server);
  return {
    idleKiB,
    peakKiB,
    afterCloseKiB,
    loopPeakKiB,
    probeP50Ms: quantile(probe.latenciesMs, 0.5),
    probeP99Ms: quantile(probe.latenciesMs, 0.99),
    probeMaxMs: quantile(probe.latenciesMs, 1),
    firstReplyMs: probe.firstReplyMs,
    roundTrips: probe.latenciesMs.length,
  };
}

// ---- part 3: binlog churn ----

interface Churn {
  churnSeconds: number;
  binlogBytes: number;
  restartMs: number;
  emptyStartMs: number;
  rssAfterRestartKiB: number;
}

function directoryBytes(dir: string): number {
  return readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
}

/** From spawn to a server that answers with all `jobs` ready. */
async function timedStart(kind: Kind, dir: string, jobs: number): Promise<{ server: ServerProcess; ms: number }> {
  const startedMs = performance.now();
  const server = await spawn(kind, dir);
  const client = await Client.connect({ port: server.port });
  const ready = (await client.stats()).get('current-jobs-ready');
  await client.close();
  const ms = performance.now() - startedMs;
  if (ready !== String(jobs)) throw new Error(`${kind} restarted with ${ready} ready jobs, expected ${jobs}`);
  return { server, ms };
}

async function measureChurn(kind: Kind): Promise<Churn> {
  const dir = mkdtempSync(join(tmpdir(), `beanlab-bench-binlog-${kind}-`));
  try {
    const empty = await timedStart(kind, dir, 0);
    process.stdout.write(`${kind} pid ${empty.server.pid}: binlog churn...\n`);
    const client = await Client.connect({ port: empty.server.port, timeoutMs: 30_000 });
    const body = Buffer.alloc(CHURN_BODY_BYTES, 'c');
    for (let i = 0; i < CHURN_KEPT; i++) await client.put(`kept ${i}`);
    const startedMs = performance.now();
    let round = 0;
    await Promise.all(
      Array.from({ length: CHURN_IN_FLIGHT }, async () => {
        while (round < CHURN_ROUNDS) {
          round += 1;
          const id = await client.put(body, { ttrSeconds: 60 });
          if (!(await client.delete(id))) throw new Error(`delete ${id}: NOT_FOUND`);
        }
      }),
    );
    const churnSeconds = (performance.now() - startedMs) / 1000;
    await client.close();
    await stop(empty.server);
    const binlogBytes = directoryBytes(dir);
    const restarted = await timedStart(kind, dir, CHURN_KEPT);
    await sleep(SHORT_SETTLE_MS);
    const rssAfterRestartKiB = rssKiB(restarted.server.pid);
    await stop(restarted.server);
    return { churnSeconds, binlogBytes, restartMs: restarted.ms, emptyStartMs: empty.ms, rssAfterRestartKiB };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- report ----

/** `text` broken at spaces into lines of at most 100 columns. */
function wrap(text: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > 100) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  return [...lines, line].join('\n');
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function row(label: string, real: string, embedded: string, ratio: number | undefined, goal = '', met?: boolean): string {
  return [
    label.padEnd(34),
    real.padStart(14),
    embedded.padStart(14),
    (ratio === undefined ? '' : `${ratio.toFixed(2)}x`).padStart(8),
    goal.padStart(9),
    met === undefined ? '' : met ? '  met' : '  MISSED',
  ].join('');
}

const HEADER = `${''.padEnd(34)}${'beanstalkd'.padStart(14)}${'embedded'.padStart(14)}${'ratio'.padStart(8)}${'goal'.padStart(9)}`;

function throughputTable(real: Figures, emb: Figures): string[] {
  const putRatio = emb.putsPerSecond / real.putsPerSecond;
  const cycleRatio = emb.cyclesPerSecond / real.cyclesPerSecond;
  const settledRatio = emb.rssSettledKiB / real.rssSettledKiB;
  const jobs = HELD_JOBS.toLocaleString('en-US');
  return [
    HEADER,
    row(`pipelined puts (${BODY.length} B) /s`, fmt(real.putsPerSecond), fmt(emb.putsPerSecond), putRatio, `>= ${GOALS.putRatio}x`, putRatio >= GOALS.putRatio),
    row('put+reserve+delete cycles /s', fmt(real.cyclesPerSecond), fmt(emb.cyclesPerSecond), cycleRatio, `>= ${GOALS.cycleRatio}x`, cycleRatio >= GOALS.cycleRatio),
    row(`RSS MiB, ${jobs} jobs, settled`, fmt(mib(real.rssSettledKiB), 1), fmt(mib(emb.rssSettledKiB), 1), settledRatio, `<= ${GOALS.rssRatio}x`, settledRatio <= GOALS.rssRatio),
    row(`RSS MiB, ${jobs} jobs, just put`, fmt(mib(real.rssWithJobsKiB), 1), fmt(mib(emb.rssWithJobsKiB), 1), emb.rssWithJobsKiB / real.rssWithJobsKiB),
    row('RSS MiB, idle', fmt(mib(real.rssIdleKiB), 1), fmt(mib(emb.rssIdleKiB), 1), emb.rssIdleKiB / real.rssIdleKiB),
    row('RSS MiB for the jobs (minus idle)', fmt(mib(real.rssSettledKiB - real.rssIdleKiB), 1), fmt(mib(emb.rssSettledKiB - emb.rssIdleKiB), 1), (emb.rssSettledKiB - emb.rssIdleKiB) / (real.rssSettledKiB - real.rssIdleKiB)),
  ];
}

function hostileTable(real: Hostile, emb: Hostile): string[] {
  const growth = (h: Hostile, kib: number): string => `+${fmt(mib(kib - h.idleKiB), 1)}`;
  return [
    HEADER,
    row('RSS MiB, idle with the job', fmt(mib(real.idleKiB), 1), fmt(mib(emb.idleKiB), 1), undefined),
    row('never-reading peek-ready: peak', growth(real, real.peakKiB), growth(emb, emb.peakKiB), undefined),
    row('  after they closed (settled)', growth(real, real.afterCloseKiB), growth(emb, emb.afterCloseKiB), undefined),
    row('rwt 0 + release loop: peak', growth(real, real.loopPeakKiB), growth(emb, emb.loopPeakKiB), undefined),
    row('probe: connect + first reply ms', fmt(real.firstReplyMs, 1), fmt(emb.firstReplyMs, 1), undefined),
    row('probe round trip p50 ms', fmt(real.probeP50Ms, 3), fmt(emb.probeP50Ms, 3), undefined),
    row('probe round trip p99 ms', fmt(real.probeP99Ms, 3), fmt(emb.probeP99Ms, 3), undefined),
    row('probe round trip max ms', fmt(real.probeMaxMs, 3), fmt(emb.probeMaxMs, 3), undefined),
    row('probe round trips', fmt(real.roundTrips), fmt(emb.roundTrips), undefined),
  ];
}

function churnTable(real: Churn, emb: Churn): string[] {
  return [
    HEADER,
    row('churn seconds', fmt(real.churnSeconds, 1), fmt(emb.churnSeconds, 1), emb.churnSeconds / real.churnSeconds),
    row('binlog MiB after the churn', fmt(real.binlogBytes / 1048576, 1), fmt(emb.binlogBytes / 1048576, 1), emb.binlogBytes / real.binlogBytes),
    row(`restart ms (${CHURN_KEPT} jobs back)`, fmt(real.restartMs), fmt(emb.restartMs), undefined),
    row('start ms, empty binlog', fmt(real.emptyStartMs), fmt(emb.emptyStartMs), undefined),
    row('RSS MiB after the restart, settled', fmt(mib(real.rssAfterRestartKiB), 1), fmt(mib(emb.rssAfterRestartKiB), 1), undefined),
  ];
}

async function main(): Promise<void> {
  const partArg = process.argv.indexOf('--part');
  const only = partArg >= 0 ? Number(process.argv[partArg + 1]) : undefined;
  const limit = setTimeout(() => {
    process.stderr.write(`bench:server: over ${BENCH_LIMIT_MS / 1000} s, stopping\n`);
    void Promise.all(started.map((proc) => proc.stop())).then(() => process.exit(1));
  }, BENCH_LIMIT_MS);
  const out: string[] = [];
  try {
    if (only === undefined || only === 1) {
      const [real, emb] = [await measureThroughput(KINDS[0]), await measureThroughput(KINDS[1])];
      out.push(
        '',
        ...throughputTable(real, emb),
        '',
        wrap(`puts: ${PUT_CONNECTIONS} connections x ${PUT_WINDOW} in flight, ${HELD_JOBS.toLocaleString('en-US')} jobs; cycles: ` +
          `${CYCLE_CONNECTIONS} connections x ${CYCLES_IN_FLIGHT_PER_CONNECTION} in flight, ${CYCLE_MEASURE_MS / 1000} s after a ` +
          `${WARMUP_MS / 1000} s warm-up; settled: ${SETTLE_MS / 1000} s after the last put`),
      );
    }
    if (only === undefined || only === 2) {
      const [real, emb] = [await measureHostile(KINDS[0]), await measureHostile(KINDS[1])];
      out.push(
        '',
        ...hostileTable(real, emb),
        '',
        wrap(`${HOSTILE_CONNECTIONS} connections x ${HOSTILE_PIPELINE} peek-ready of a ${HOSTILE_BODY_BYTES.toLocaleString('en-US')}-byte job ` +
          `in one write each, never read, for ${HOSTILE_MS / 1000} s beside a list-tube-used probe; then one connection x ` +
          `${RESERVE_RELEASE_PAIRS.toLocaleString('en-US')} reserve-with-timeout 0 + release, never read`),
      );
    }
    if (only === undefined || only === 3) {
      const [real, emb] = [await measureChurn(KINDS[0]), await measureChurn(KINDS[1])];
      out.push(
        '',
        ...churnTable(real, emb),
        '',
        wrap(`${CHURN_ROUNDS.toLocaleString('en-US')} x (put ${CHURN_BODY_BYTES.toLocaleString('en-US')} bytes, delete), ${CHURN_IN_FLIGHT} in flight, ` +
          `${CHURN_KEPT} small jobs kept (beanstalkd -b, beanlab serve --binlog); restart = spawn until stats shows the jobs`),
      );
    }
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    clearTimeout(limit);
    await Promise.all(started.map((proc) => proc.stop()));
  }
}

await main();
