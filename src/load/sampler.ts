// The server as it sees itself, once per sample interval: `stats` (command counts, job
// timeouts, CPU from rusage) and `stats-tube` per tube (queue depths), plus the load generator's
// own CPU and the puts and completions of the interval. Samples go on the nominal grid k·interval
// (the queue series recorder halves its resolution on that grid); the rates use the real time
// elapsed, so a late sample does not inflate them.
import type { Client } from '../client/client.js';
import { QueueSeriesRecorder, type QueueDepths } from '../metrics/timeseries.js';
import type { LoadSeries } from '../metrics/load-result.js';
import type { RunClock } from './clock.js';
import type { JobTracker } from './tracker.js';

const MAX_POINTS = 600;
/** The commands whose per-second counts the report plots. */
const COMMANDS = ['put', 'reserve', 'reserve-with-timeout', 'delete', 'release', 'bury', 'touch', 'kick'] as const;

export interface ServerSnapshot {
  atUs: number;
  /** rusage user + system, seconds; null when the server does not report it. */
  cpuSeconds: number | null;
  jobTimeouts: number;
  commands: Record<string, number>;
}

export async function snapshotServer(client: Client, clock: RunClock): Promise<ServerSnapshot> {
  const stats = await client.stats();
  const number = (key: string) => Number(stats.get(key) ?? 0);
  const hasCpu = stats.has('rusage-utime') && stats.has('rusage-stime');
  const commands: Record<string, number> = {};
  for (const name of COMMANDS) commands[name] = number(`cmd-${name}`);
  return {
    atUs: clock.nowUs(),
    cpuSeconds: hasCpu ? number('rusage-utime') + number('rusage-stime') : null,
    jobTimeouts: number('job-timeouts'),
    commands,
  };
}

export class Sampler {
  readonly all: QueueSeriesRecorder;
  readonly byTube: QueueSeriesRecorder[];
  private readonly series: LoadSeries;
  private timer: NodeJS.Timeout | undefined;
  private tick = 0;
  private last: { snapshot: ServerSnapshot; cpuUs: number; puts: number; completed: number };
  private inFlight: Promise<void> | undefined;
  private stopped = false;
  /** The largest backlog (live jobs) seen, when, and when it was next empty: the drain time. */
  peakBacklog = 0;
  peakBacklogUs = 0;
  drainedUs: number | undefined;
  /** Jobs ready, delayed or reserved in the run's tubes at the last sample. */
  private serverBacklog = 0;

  constructor(
    private readonly client: Client,
    private readonly clock: RunClock,
    private readonly tracker: JobTracker,
    private readonly tubes: readonly string[],
    private readonly intervalUs: number,
    first: ServerSnapshot,
    private readonly fail: (error: unknown) => void,
    /**
     * Take the backlog from the server's tube counts, not from this process's bookkeeping: a
     * shard's jobs are finished by its siblings too, so only the server knows the run's backlog.
     */
    private readonly backlogFromServer = false,
  ) {
    this.all = new QueueSeriesRecorder(intervalUs, MAX_POINTS);
    this.byTube = tubes.map(() => new QueueSeriesRecorder(intervalUs, MAX_POINTS));
    this.series = {
      intervalUs,
      tUs: [],
      putsPerSecond: [],
      completedPerSecond: [],
      serverCpuPercent: [],
      loadgenCpuPercent: [],
      commandsPerSecond: Object.fromEntries(COMMANDS.map((c) => [c, []])),
    };
    this.last = { snapshot: first, cpuUs: loadgenCpuUs(), puts: 0, completed: 0 };
  }

  start(): void {
    this.schedule();
  }

  /** Takes one last sample (the end state) and stops. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.inFlight;
    this.tick += 1;
    await this.sample(this.tick * this.intervalUs);
  }

  /** Stops sampling without a last sample (the run failed). */
  cancel(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Per-second series; each point covers the interval ending at its time. */
  snapshot(): LoadSeries {
    return structuredClone(this.series);
  }

  /** Jobs put and not yet completed or buried, as far as this run can tell. */
  backlog(): number {
    return this.backlogFromServer ? this.serverBacklog : this.tracker.live;
  }

  /** Notes the backlog after every change worth it; cheap, called from the runner's progress loop. */
  observeBacklog(nowUs: number): void {
    const backlog = this.backlog();
    if (backlog > this.peakBacklog) {
      this.peakBacklog = backlog;
      this.peakBacklogUs = nowUs;
      this.drainedUs = undefined;
    } else if (backlog === 0 && this.drainedUs === undefined && this.peakBacklog > 0) {
      this.drainedUs = nowUs;
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    const dueUs = (this.tick + 1) * this.intervalUs;
    this.timer = setTimeout(() => {
      this.tick += 1;
      this.inFlight = this.sample(dueUs).catch((error: unknown) => {
        if (!this.stopped) this.fail(error);
      });
      void this.inFlight.then(() => this.schedule());
    }, Math.max(0, (dueUs - this.clock.nowUs()) / 1000));
  }

  private async sample(gridUs: number): Promise<void> {
    const [snapshot, tubes] = await Promise.all([
      snapshotServer(this.client, this.clock),
      Promise.all(this.tubes.map((tube) => this.client.statsTube(tube))),
    ]);
    const depths = tubes.map(depthsOf);
    this.serverBacklog = depths.reduce((sum, d) => sum + d.ready + d.delayed + d.reserved, 0);
    this.byTube.forEach((recorder, i) => recorder.push(gridUs, depths[i]));
    this.all.push(gridUs, depths.reduce(addDepths, { ready: 0, reserved: 0, delayed: 0, buried: 0 }));

    const elapsedSeconds = Math.max(1e-6, (snapshot.atUs - this.last.snapshot.atUs) / 1e6);
    const rate = (delta: number) => round1(delta / elapsedSeconds);
    const cpuUs = loadgenCpuUs();
    const s = this.series;
    s.tUs.push(gridUs);
    s.putsPerSecond.push(rate(this.tracker.putCount - this.last.puts));
    s.completedPerSecond.push(rate(this.tracker.completedCount - this.last.completed));
    const serverCpu = snapshot.cpuSeconds !== null && this.last.snapshot.cpuSeconds !== null ? snapshot.cpuSeconds - this.last.snapshot.cpuSeconds : null;
    s.serverCpuPercent.push(serverCpu === null ? null : rate(serverCpu * 100));
    s.loadgenCpuPercent.push(rate((cpuUs - this.last.cpuUs) / 1e4));
    for (const name of COMMANDS) s.commandsPerSecond[name].push(rate(snapshot.commands[name] - this.last.snapshot.commands[name]));
    this.last = { snapshot, cpuUs, puts: this.tracker.putCount, completed: this.tracker.completedCount };
    this.observeBacklog(snapshot.atUs);
  }
}

function depthsOf(stats: Map<string, string> | null): QueueDepths {
  const field = (key: string) => Number(stats?.get(`current-jobs-${key}`) ?? 0);
  return { ready: field('ready'), reserved: field('reserved'), delayed: field('delayed'), buried: field('buried') };
}

function addDepths(a: QueueDepths, b: QueueDepths): QueueDepths {
  return { ready: a.ready + b.ready, reserved: a.reserved + b.reserved, delayed: a.delayed + b.delayed, buried: a.buried + b.buried };
}

export function loadgenCpuUs(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
