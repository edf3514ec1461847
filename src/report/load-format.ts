// What the load reports (terminal, Markdown, HTML) show, as rows of cells: each view only lays
// the same rows out its own way, so the three never disagree.
import type { HistogramSummary } from '../metrics/histogram.js';
import type { LoadResult } from '../metrics/load-result.js';
import { formatSloValue, formatUs } from './format.js';

export const LATENCY_COLUMNS = ['latency', 'p50', 'p90', 'p99', 'p99.9', 'avg', 'max', 'samples'];

/** The latencies a load run measures, in the order a job lives them. */
export function latencyRows(result: LoadResult): string[][] {
  const rows: Array<[string, HistogramSummary | undefined]> = [
    ['HTTP request (enqueue)', result.load.http?.latencyUs],
    ['put', result.latency.putUs],
    ['put to reserve', result.latency.queueWaitUs],
    ['service', result.latency.serviceUs],
    ['put to delete', result.latency.endToEndUs],
  ];
  return rows.flatMap(([label, h]) => (h && h.count > 0 ? [[label, ...histogramCells(h)]] : []));
}

function histogramCells(h: HistogramSummary): string[] {
  return [h.p50, h.p90, h.p99, h.p999, h.mean, h.max].map(formatUs).concat(String(h.count));
}

/**
 * What the latency table leaves out. Closed loop: a put is timed from when it was sent, and it
 * is sent only when an earlier one was answered, so the time it waited for that is in no figure.
 */
export function latencyNote(result: LoadResult): string | undefined {
  if (result.load.mode !== 'closed') return undefined;
  return (
    'closed loop: each put is timed from when it was sent, and it waited for a free pipeline slot first; ' +
    'that waiting time is left out of every percentile, so a server stall shows only in max'
  );
}

export const RATE_COLUMNS = ['per second', 'target', 'achieved', 'low 2.5%', 'median', 'high 97.5%'];

/** Puts and completions per second: the overall rates next to the spread of the per-second samples. */
export function rateRows(result: LoadResult): string[][] {
  const s = result.load.series;
  // Only intervals that began while producers ran: the drain's empty seconds would drag the
  // spread of puts down.
  const producing = (values: number[]) => values.filter((_, i) => s.tUs[i] - s.intervalUs < result.load.producingUs);
  const spread = (values: number[]) => {
    const sorted = producing(values).sort((a, b) => a - b);
    const at = (q: number) => (sorted.length === 0 ? '-' : String(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]));
    return [at(0.025), at(0.5), at(0.975)];
  };
  const target = result.load.targetRatePerSecond;
  return [
    ['puts', target === null ? 'max (closed loop)' : String(target), String(result.load.achievedRatePerSecond), ...spread(s.putsPerSecond)],
    // Over the producing window, like puts: the drain's length swings with retry backoff.
    ['jobs completed', '-', String(result.throughput.jobsPerSecond), ...spread(s.completedPerSecond)],
  ];
}

export function headline(result: LoadResult): string {
  const l = result.load;
  const loop = l.mode === 'closed' ? `closed loop, pipeline ${l.pipeline}` : 'open loop';
  const interrupted = l.interrupted ? ', INTERRUPTED' : '';
  return `${result.scenario} against ${l.target}: ${formatUs(result.durationUs)}, ${loop}, driver ${l.driver}, ${l.producerConnections} producer and ${l.workerConnections} worker connections, seed ${result.seed}${interrupted}`;
}

export function jobsLine(result: LoadResult): string {
  const j = result.jobs;
  const unverified = j.unverified === undefined ? '' : `, ${j.unverified} unverified`;
  return `jobs: ${j.put} put, ${j.completed} completed, ${j.buried} buried, ${j.remaining} still queued, ${j.lost} lost${unverified}, ${j.duplicated} run more than once`;
}

export function eventsLine(result: LoadResult): string {
  const e = result.events;
  return `events: ${e.retries} retries, ${e.ttrExpiries} TTR expiries, ${e.duplicateExecutions} duplicate executions, ${e.lateCompletions} late completions, ${e.crashes} crashes, ${e.kicked} kicked`;
}

export function cpuLine(result: LoadResult): string {
  const c = result.load.cpu;
  const server = c.serverPercent === null ? 'not reported' : `${c.serverPercent}% of a core (${c.serverSeconds} s)`;
  return `CPU: server ${server}; load generator ${c.loadgenPercent}% of a core (${c.loadgenSeconds} s)`;
}

/**
 * How the load generator kept to the load asked of it: how late open-loop puts went out (put
 * latencies are timed from the intended time, so they include it), worker service measured
 * against configured, and the event loop's lag. Undefined for results without these figures.
 */
export function harnessLine(result: LoadResult): string | undefined {
  const h = result.load.harness;
  if (!h) return undefined;
  const parts: string[] = [];
  if (h.sendLagUs.count > 0) parts.push(`puts sent ${formatUs(h.sendLagUs.p50)} late (p50), ${formatUs(h.sendLagUs.p99)} (p99)`);
  if (h.serviceConfiguredUs.count > 0) {
    parts.push(`worker service ${formatUs(h.serviceMeasuredUs.mean)} for ${formatUs(h.serviceConfiguredUs.mean)} configured (mean)`);
  }
  if (h.eventLoopLagUs.count > 0) parts.push(`event-loop lag ${formatUs(h.eventLoopLagUs.p99)} (p99)`);
  return parts.length === 0 ? undefined : `load generator: ${parts.join('; ')}`;
}

/**
 * A sharded run: which shard (a shard's own result), or the shards merged and how each load
 * generator fared (its CPU per put or completion, its event loop's lag). Empty for a lone run.
 */
export function shardLines(result: LoadResult): string[] {
  const shard = result.load.shard;
  if (!shard) return [];
  if (shard.index !== undefined) {
    const lines = [`shard ${shard.index}/${shard.count} of run ${shard.runId}${shard.coordinated ? ', started with its siblings and audited after they stopped' : ''}`];
    if (shard.gone > 0) {
      lines.push(
        `GONE: ${shard.gone} of this shard's jobs that its workers did not finish were no longer on the server: ` +
          `a sibling shard completed them, or they are lost; beanlab merge of every shard's result tells which`,
      );
    }
    return lines;
  }
  const shards = shard.shards ?? [];
  const starts = shards.map((s) => s.startedAtMs);
  const spread = starts.length > 1 ? `, started within ${formatUs((Math.max(...starts) - Math.min(...starts)) * 1000)} of each other` : '';
  const lines = [`shards: ${shards.length} of ${shard.count} of run ${shard.runId}${spread}`];
  for (const s of shards) {
    const ops = s.puts + s.completed;
    const perOp = ops > 0 ? `, ${formatUs((s.loadgenCpuSeconds * 1e6) / ops)} per put or completion` : '';
    const lag = s.eventLoopLagUs ? `; event-loop lag ${formatUs(s.eventLoopLagUs.p99)} (p99)` : '';
    lines.push(`  shard ${s.index}: ${s.puts} puts, ${s.completed} completed; CPU ${s.loadgenCpuSeconds} s${perOp}${lag}${s.interrupted ? '; interrupted' : ''}`);
  }
  return lines;
}

/**
 * Everything that makes the run untrustworthy or failed beyond its SLOs, then warnings and notes;
 * empty when sound. The words are the README's: lost, unverified, duplicated, unanswered.
 */
export function problemLines(result: LoadResult): string[] {
  const l = result.load;
  const i = l.integrity;
  const lines = l.errors.map((e) => `error: ${e}`);
  if (l.unanswered && l.unanswered.total > 0) {
    const u = l.unanswered;
    const since = u.sinceUs === null ? '' : `; the server stopped answering at ${(u.sinceUs / 1e6).toFixed(1)} s`;
    lines.push(
      `UNANSWERED: ${u.total} operations got no answer (${u.puts} puts, ${u.workerOps} worker operations)${since}; ` +
        `their latencies are recorded at their age when the run ended`,
    );
  }
  if (result.jobs.lost > 0) {
    const collisions = i.idCollisions ? `; ${i.idCollisions} of them acknowledged with an id the server gave another job it held` : '';
    lines.push(`LOST: ${result.jobs.lost} acknowledged jobs are gone: the server answered that it no longer had them (ids ${listIds(i.lostIds, result.jobs.lost)})${collisions}`);
  }
  const unverified = result.jobs.unverified ?? 0;
  if (unverified > 0) {
    lines.push(`UNVERIFIED: ${unverified} acknowledged jobs could not be checked, so neither lost nor kept is known: ${i.unverifiedReason ?? 'no reason recorded'} (ids ${listIds(i.unverifiedIds ?? [], unverified)})`);
  }
  if ((i.undeleted ?? 0) > 0) {
    const states = Object.entries(i.undeletedByState ?? {}).map(([state, n]) => `${n} ${state}`);
    lines.push(
      `NOT DELETED: ${i.undeleted} jobs answered DELETED are still on the server (${states.join(', ') || 'present'}; ids ${listIds(i.undeletedIds ?? [], i.undeleted!)})`,
    );
  }
  for (const mismatch of i.tubeMismatches ?? []) lines.push(`TUBE: ${mismatch}`);
  if ((i.unclaimedCompletions ?? 0) > 0) {
    lines.push(`UNCLAIMED: ${i.unclaimedCompletions} completed jobs are claimed by no shard as put and unfinished (ids ${i.duplicatedIds.join(', ')}): see the note`);
  }
  if (i.duplicateDeliveries > 0) {
    lines.push(
      `DUPLICATED: ${i.duplicatedIds.length}${i.duplicatedIds.length >= 100 ? '+' : ''} jobs handed out again while another worker held them ` +
        `or after they were deleted (${i.duplicateDeliveries} deliveries; ids ${i.duplicatedIds.join(', ')})`,
    );
  }
  if (l.http && (l.http.neverSent ?? 0) > 0) {
    lines.push(`NOT SENT: ${l.http.neverSent} of ${l.http.scheduled} scheduled HTTP requests were never sent (the clients were waiting for answers); they are recorded at their age`);
  }
  if (l.http && (l.http.errors > 0 || l.http.non2xx > 0)) lines.push(`HTTP: ${l.http.errors} errors, ${l.http.non2xx} non-2xx answers of ${l.http.requests} requests`);
  for (const warning of l.harness?.warnings ?? []) lines.push(`warning: ${warning}`);
  if (i.foreignJobs > 0) lines.push(`note: ${i.foreignJobs} jobs this run did not put were reserved and released (a shared tube?)`);
  for (const note of i.notes ?? []) lines.push(`note: ${note}`);
  return lines;
}

function listIds(ids: readonly number[], total: number): string {
  return `${ids.join(', ')}${total > ids.length ? ', ...' : ''}`;
}

export function sloRows(result: LoadResult): string[][] {
  return result.slo.map((s) => [s.pass ? 'pass' : 'FAIL', s.name, formatSloValue(s), formatSloValue(s, s.limit)]);
}

export function verdict(result: LoadResult): 'PASS' | 'FAIL' {
  return result.pass && !result.load.interrupted ? 'PASS' : 'FAIL';
}

export const TUBE_COLUMNS = ['tube', 'put', 'completed', 'buried', 'queued', 'lost', 'p99 put', 'p99 to reserve', 'p99 to delete'];

export function tubeRows(result: LoadResult): string[][] {
  const p99 = (h: HistogramSummary | undefined) => (h && h.count > 0 ? formatUs(h.p99) : '-');
  return Object.entries(result.byTube).map(([tube, b]) => [
    tube,
    String(b.jobs.put),
    String(b.jobs.completed),
    String(b.jobs.buried),
    String(b.jobs.remaining),
    String(b.jobs.lost),
    p99(b.latency.putUs),
    p99(b.latency.queueWaitUs),
    p99(b.latency.endToEndUs),
  ]);
}
