// The YAML bodies of stats, stats-tube, stats-job, list-tubes and list-tubes-watched, field for
// field in the server's order (docs/semantics.md section d). 1.13 double-quotes names and uname
// strings; `version` is quoted in both.
import { formatStatsYaml } from '../protocol/stats-yaml.js';
import type { ModelCore } from './core.js';
import { COUNTER_NAMES, US_PER_SECOND } from './core.js';
import type { Tube } from './entities.js';
import { DELAYED, InFlightPut, Job, RESERVED, STATE_NAMES } from './entities.js';

type Field = readonly [key: string, value: string | number | boolean, quoted?: boolean];

export const BINLOG_MAX_SIZE = 10485760;

/** Whole seconds, truncated toward zero, as every beanstalkd stat is. */
export function truncSeconds(us: number): number {
  return us < 0 ? -truncSeconds(-us) : (us - (us % US_PER_SECOND)) / US_PER_SECOND;
}

/** rusage's `sec.micro` with six digits. */
export function formatCpuSeconds(us: number): string {
  const whole = truncSeconds(us);
  return `${whole}.${String(us - whole * US_PER_SECOND).padStart(6, '0')}`;
}

const encoder = new TextEncoder();

export function statsBody(core: ModelCore): Uint8Array {
  const quote = core.profile !== '1.12';
  const cpu = core.info.rusage ? core.info.rusage() : { userUs: 0, systemUs: 0 };
  const fields: Field[] = [
    ['current-jobs-urgent', core.urgentCount],
    ['current-jobs-ready', core.readyCount],
    ['current-jobs-reserved', core.reservedCount],
    ['current-jobs-delayed', core.delayedCount],
    ['current-jobs-buried', core.buriedCount],
    ...COUNTER_NAMES.map((name): Field => [`cmd-${name}`, core.cmd[name]]),
    ['job-timeouts', core.jobTimeouts],
    ['total-jobs', core.totalJobs],
    ['max-job-size', core.maxJobSize],
    ['current-tubes', core.tubeList.length],
    ['current-connections', core.conns.size],
    ['current-producers', core.producers],
    ['current-workers', core.workers],
    ['current-waiting', core.waitingCount],
    ['total-connections', core.totalConnections],
    ['pid', core.info.pid],
    ['version', core.profile, true],
    ['rusage-utime', formatCpuSeconds(cpu.userUs)],
    ['rusage-stime', formatCpuSeconds(cpu.systemUs)],
    ['uptime', truncSeconds(core.clockUs)],
    ['binlog-oldest-index', 0],
    ['binlog-current-index', 0],
    ['binlog-records-migrated', 0],
    ['binlog-records-written', 0],
    ['binlog-max-size', BINLOG_MAX_SIZE],
    ['draining', core.draining],
    ['id', core.info.instanceId],
    ['hostname', core.info.hostname, quote],
    ['os', core.info.os, quote],
    ['platform', core.info.platform, quote],
  ];
  return encoder.encode(formatStatsYaml(fields));
}

export function tubeStatsBody(core: ModelCore, tube: Tube): Uint8Array {
  const fields: Field[] = [
    ['name', tube.name, core.profile !== '1.12'],
    ['current-jobs-urgent', tube.urgent],
    ['current-jobs-ready', tube.ready.size],
    ['current-jobs-reserved', tube.reserved],
    ['current-jobs-delayed', tube.delayed.size],
    ['current-jobs-buried', tube.buried.size],
    ['total-jobs', tube.totalJobs],
    ['current-using', tube.using],
    ['current-watching', tube.watching],
    ['current-waiting', tube.waiting.length],
    ['cmd-delete', tube.cmdDelete],
    ['cmd-pause-tube', tube.cmdPauseTube],
    ['pause', truncSeconds(tube.pauseUs)],
    ['pause-time-left', tube.paused ? truncSeconds(tube.unpauseAtUs - core.clockUs) : 0],
  ];
  return encoder.encode(formatStatsYaml(fields));
}

/** Counters of a job that was never queued: an in-flight put's. */
const NEVER_QUEUED = { reserves: 0, timeouts: 0, releases: 0, buries: 0, kicks: 0 };

/**
 * An in-flight put is `invalid` with time-left 0 and zero counters: fmt_job_stats reads them from
 * the job make_job zeroed, with pri, delay and ttr (after 0 → 1) already set from the put line.
 */
export function jobStatsBody(core: ModelCore, job: Job | InFlightPut): Uint8Array {
  const queued = job instanceof Job;
  const timed = queued && (job.state === RESERVED || job.state === DELAYED);
  const counters = queued ? job : NEVER_QUEUED;
  const fields: Field[] = [
    ['id', job.id],
    ['tube', job.tube.name, core.profile !== '1.12'],
    ['state', queued ? STATE_NAMES[job.state] : 'invalid'],
    ['pri', job.pri],
    ['age', truncSeconds(core.clockUs - job.createdUs)],
    ['delay', job.delaySeconds],
    ['ttr', job.ttrSeconds],
    ['time-left', timed ? truncSeconds(job.deadlineUs - core.clockUs) : 0],
    ['file', 0],
    ['reserves', counters.reserves],
    ['timeouts', counters.timeouts],
    ['releases', counters.releases],
    ['buries', counters.buries],
    ['kicks', counters.kicks],
  ];
  return encoder.encode(formatStatsYaml(fields));
}

/** `---\n- name\n…`: names are never quoted, in either version. */
export function tubeListBody(tubes: readonly Tube[]): Uint8Array {
  let text = '---\n';
  for (const tube of tubes) text += `- ${tube.name}\n`;
  return encoder.encode(text);
}
