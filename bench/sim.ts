// `npm run bench:sim`: simulated jobs per second on scenarios/mmc.yaml (M/M/10, one million jobs,
// beanstalkd's semantics via the reference model). Goal: 500,000 jobs/s on one core. When SimPy is
// installed (Debian's python3-simpy), the same bare M/M/c queue runs in SimPy for comparison.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { parseScenario } from '../src/scenario/load.js';
import { simulate } from '../src/sim/run.js';

const GOAL_JOBS_PER_SECOND = 500_000;
const SIMPY_JOBS = 200_000;
const file = 'scenarios/mmc.yaml';
const seed = 1;

const scenario = parseScenario(readFileSync(file, 'utf8'), file);
console.log(`seed: ${seed}`);
const startedMs = performance.now();
const result = simulate(scenario, seed);
const elapsedSeconds = (performance.now() - startedMs) / 1000;
const beanlabRate = result.jobs.completed / elapsedSeconds;
console.log(
  `beanlab sim  ${file}: ${result.jobs.completed} jobs in ${elapsedSeconds.toFixed(2)} s = ` +
    `${Math.round(beanlabRate).toLocaleString('en')} simulated jobs/s ` +
    `(goal ${GOAL_JOBS_PER_SECOND.toLocaleString('en')}: ${beanlabRate >= GOAL_JOBS_PER_SECOND ? 'met' : 'missed'}); ` +
    `mean queue wait ${(result.latency.queueWaitUs.mean / 1e6).toFixed(4)} s`,
);

// The bare M/M/c queue in SimPy: 3.x/4.x (`simpy`) or Debian's 2.x (`SimPy.Simulation`).
const SIMPY_SCRIPT = String.raw`
import json, random, sys, time
N, LAM, MU, C = int(sys.argv[1]), 8.0, 1.0, 10
random.seed(1)
waits = []
try:
    import simpy
    api = 'simpy ' + getattr(simpy, '__version__', '3+')
    def run():
        env = simpy.Environment()
        servers = simpy.Resource(env, capacity=C)
        def job(env):
            arrived = env.now
            with servers.request() as req:
                yield req
                waits.append(env.now - arrived)
                yield env.timeout(random.expovariate(MU))
        def source(env):
            for _ in range(N):
                yield env.timeout(random.expovariate(LAM))
                env.process(job(env))
        env.process(source(env))
        env.run()
except ImportError:
    from SimPy.Simulation import Process, Resource, activate, hold, initialize, now, release, request, simulate
    api = 'SimPy 2'
    class Job(Process):
        def serve(self, servers):
            arrived = now()
            yield request, self, servers
            waits.append(now() - arrived)
            yield hold, self, random.expovariate(MU)
            yield release, self, servers
    class Source(Process):
        def generate(self, servers):
            for _ in range(N):
                yield hold, self, random.expovariate(LAM)
                job = Job()
                activate(job, job.serve(servers))
    def run():
        initialize()
        servers = Resource(capacity=C)
        source = Source()
        activate(source, source.generate(servers))
        simulate(until=1e15)
started = time.perf_counter()
run()
elapsed = time.perf_counter() - started
print(json.dumps({'api': api, 'jobs': len(waits), 'seconds': elapsed, 'meanWait': sum(waits) / len(waits)}))
`;

function findSimpyPython(): string | undefined {
  for (const python of ['/usr/bin/python3', 'python3']) {
    if (python.startsWith('/') && !existsSync(python)) continue;
    const probe = spawnSync(python, ['-c', 'import importlib.util as u, sys; sys.exit(0 if u.find_spec("simpy") or u.find_spec("SimPy") else 1)'], {
      timeout: 10_000,
    });
    if (probe.status === 0) return python;
  }
  return undefined;
}

const python = findSimpyPython();
if (python === undefined) {
  console.log('SimPy not installed (apt-get install python3-simpy): no side-by-side comparison.');
} else {
  const run = spawnSync(python, ['-c', SIMPY_SCRIPT, String(SIMPY_JOBS)], { encoding: 'utf8', timeout: 600_000 });
  if (run.status !== 0) {
    console.log(`SimPy run failed: ${run.stderr.trim().split('\n').pop()}`);
  } else {
    const simpy = JSON.parse(run.stdout) as { api: string; jobs: number; seconds: number; meanWait: number };
    const simpyRate = simpy.jobs / simpy.seconds;
    console.log(
      `${simpy.api} (bare M/M/10, ${simpy.jobs} jobs): ${Math.round(simpyRate).toLocaleString('en')} jobs/s; ` +
        `mean queue wait ${simpy.meanWait.toFixed(4)} s`,
    );
    console.log(`ratio: beanlab sim runs ${(beanlabRate / simpyRate).toFixed(2)}x SimPy's rate, with beanstalkd semantics on top`);
  }
}
