// `npm run bench:server`: the embedded server (`beanlab serve`, its own process) against a real
// beanstalkd, driven by the same client in the same run. Measures pipelined put rate,
// put+reserve+delete cycle rate, and resident memory while 200,000 ready jobs are held.
// Servers are measured one after the other so they do not compete for the two cores.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Client } from '../src/client/client.js';
import { spawnBeanstalkd, spawnEmbeddedServer, type ServerProcess } from '../src/server/process.js';

const BODY = Buffer.alloc(100, 'b');
const HELD_JOBS = 200_000;
const PUT_CONNECTIONS = 2;
/** Requests kept in flight per connection. */
const PUT_WINDOW = 1000;
const CYCLE_CONNECTIONS = 4;
const CYCLES_IN_FLIGHT_PER_CONNECTION = 64;
const WARMUP_MS = 1500;
const CYCLE_MEASURE_MS = 4000;
/** The whole bench gives up after this, stopping what it started. */
const BENCH_LIMIT_MS = 180_000;

const GOALS = { putRatio: 0.5, cycleRatio: 0.5, rssRatio: 3 };

interface Figures {
  putsPerSecond: number;
  cyclesPerSecond: number;
  rssWithJobsKiB: number;
  rssIdleKiB: number;
}

function rssKiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

async function connectAll(port: number, count: number): Promise<Client[]> {
  return Promise.all(Array.from({ length: count }, () => Client.connect({ port, timeoutMs: 30_000 })));
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

async function measure(server: ServerProcess): Promise<Figures> {
  const rssIdleKiB = rssKiB(server.pid);
  await runCycles(server.port, 'warmup', WARMUP_MS);
  const cyclesPerSecond = await runCycles(server.port, 'cycles', CYCLE_MEASURE_MS);
  const putsPerSecond = await putJobs(server.port, 'held', HELD_JOBS);
  const check = await Client.connect({ port: server.port });
  const held = (await check.statsTube('held'))?.get('current-jobs-ready');
  await check.close();
  if (held !== String(HELD_JOBS)) throw new Error(`expected ${HELD_JOBS} ready jobs, server reports ${held}`);
  return { putsPerSecond, cyclesPerSecond, rssWithJobsKiB: rssKiB(server.pid), rssIdleKiB };
}

function row(label: string, real: number, embedded: number, unit: string, goal: string, met: boolean): string {
  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
  const ratio = `${(embedded / real).toFixed(2)}x`;
  return [
    label.padEnd(26),
    `${fmt(real)} ${unit}`.padStart(16),
    `${fmt(embedded)} ${unit}`.padStart(16),
    ratio.padStart(8),
    goal.padStart(10),
    met ? '  met' : '  MISSED',
  ].join('');
}

async function main(): Promise<void> {
  const started: ServerProcess[] = [];
  const limit = setTimeout(() => {
    process.stderr.write(`bench:server: over ${BENCH_LIMIT_MS / 1000} s, stopping\n`);
    void Promise.all(started.map((proc) => proc.stop(1000))).then(() => process.exit(1));
  }, BENCH_LIMIT_MS);
  try {
    const real = await spawnBeanstalkd();
    started.push(real);
    process.stdout.write(`beanstalkd pid ${real.pid} on 127.0.0.1:${real.port}: measuring...\n`);
    const realFigures = await measure(real);
    await real.stop();

    const embedded = await spawnEmbeddedServer();
    started.push(embedded);
    process.stdout.write(`beanlab serve pid ${embedded.pid} on 127.0.0.1:${embedded.port}: measuring...\n`);
    const embeddedFigures = await measure(embedded);
    await embedded.stop();

    const putRatio = embeddedFigures.putsPerSecond / realFigures.putsPerSecond;
    const cycleRatio = embeddedFigures.cyclesPerSecond / realFigures.cyclesPerSecond;
    const rssRatio = embeddedFigures.rssWithJobsKiB / realFigures.rssWithJobsKiB;
    const header = ['', 'beanstalkd', 'embedded', 'ratio', 'goal', ''];
    const lines = [
      `${header[0].padEnd(26)}${header[1].padStart(16)}${header[2].padStart(16)}${header[3].padStart(8)}${header[4].padStart(10)}`,
      row(`pipelined puts (${BODY.length} B)`, realFigures.putsPerSecond, embeddedFigures.putsPerSecond, '/s', `>= ${GOALS.putRatio}x`, putRatio >= GOALS.putRatio),
      row('put+reserve+delete cycles', realFigures.cyclesPerSecond, embeddedFigures.cyclesPerSecond, '/s', `>= ${GOALS.cycleRatio}x`, cycleRatio >= GOALS.cycleRatio),
      row(`RSS, ${HELD_JOBS.toLocaleString('en-US')} ready jobs`, realFigures.rssWithJobsKiB / 1024, embeddedFigures.rssWithJobsKiB / 1024, 'MiB', `<= ${GOALS.rssRatio}x`, rssRatio <= GOALS.rssRatio),
      row('RSS, idle', realFigures.rssIdleKiB / 1024, embeddedFigures.rssIdleKiB / 1024, 'MiB', '', true).replace(/ +met$/, ''),
    ];
    process.stdout.write(
      `\n${lines.join('\n')}\n\n` +
        `puts: ${PUT_CONNECTIONS} connections x ${PUT_WINDOW} in flight, ${HELD_JOBS.toLocaleString('en-US')} jobs; ` +
        `cycles: ${CYCLE_CONNECTIONS} connections x ${CYCLES_IN_FLIGHT_PER_CONNECTION} in flight, ${CYCLE_MEASURE_MS / 1000} s ` +
        `after a ${WARMUP_MS / 1000} s warm-up\n`,
    );
  } finally {
    clearTimeout(limit);
    await Promise.all(started.map((proc) => proc.stop()));
  }
}

await main();
