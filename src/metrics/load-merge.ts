// Merging load results exactly: histograms travel HDR-encoded in the JSON, so the merged
// percentiles are those of one histogram holding every sample, not an average of percentiles.
// Two ways results combine:
//  - concurrent: parts of one run made at the same time (several load-generator processes
//    against one server): counts and rates add, the run lasts as long as the longest part;
//  - sequential: repeats of a run one after another: counts add, rates are over the total time,
//    and every repeat's sample is kept for compare's confidence intervals.
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import type { HistogramSummary } from './histogram.js';
import type { Breakdown, EventCounts, JobCounts, LatencySet, RunResult } from './result.js';
import { evaluateSlos, type SloSpec } from './slo.js';
import { harnessWarnings, MACHINE_BUSY_WARNING } from './load-harness.js';
import { isSound } from './load-verdict.js';
import type { QueueSeries } from './timeseries.js';
import { latencyStats, MAX_LISTED_IDS, type LoadDetails, type LoadResult, type LoadSeries, type RepeatSample } from './load-result.js';

export type MergeMode = 'concurrent' | 'sequential';

export function mergeHistograms(parts: readonly HistogramSummary[]): HistogramSummary {
  const merged = build({ numberOfSignificantValueDigits: 3 });
  let count = 0;
  let sumUs = 0;
  let maxUs = 0;
  for (const part of parts) {
    if (part.count === 0) continue;
    const decoded = decodeFromCompressedBase64(part.hdr);
    merged.add(decoded);
    decoded.destroy();
    count += part.count;
    sumUs += part.mean * part.count;
    maxUs = Math.max(maxUs, part.max);
  }
  const empty = count === 0;
  const summary: HistogramSummary = {
    count,
    mean: empty ? 0 : Math.round((sumUs / count) * 1000) / 1000,
    p50: empty ? 0 : merged.getValueAtPercentile(50),
    p90: empty ? 0 : merged.getValueAtPercentile(90),
    p99: empty ? 0 : merged.getValueAtPercentile(99),
    p999: empty ? 0 : merged.getValueAtPercentile(99.9),
    max: maxUs,
    hdr: encodeIntoCompressedBase64(merged),
  };
  merged.destroy();
  return summary;
}

/** Field by field sums; a field some parts lack (an optional count, such as jobs.unverified) counts 0 there. */
function sumFields<T extends Partial<Record<string, number>>>(parts: readonly T[]): T {
  const out = {} as Record<string, number>;
  for (const part of parts) for (const [key, value] of Object.entries(part)) out[key] = (out[key] ?? 0) + (value ?? 0);
  return out as T;
}

function mergeLatency(parts: readonly LatencySet[]): LatencySet {
  const merged: LatencySet = {
    queueWaitUs: mergeHistograms(parts.map((p) => p.queueWaitUs)),
    serviceUs: mergeHistograms(parts.map((p) => p.serviceUs)),
    endToEndUs: mergeHistograms(parts.map((p) => p.endToEndUs)),
  };
  const puts = parts.flatMap((p) => (p.putUs ? [p.putUs] : []));
  if (puts.length > 0) merged.putUs = mergeHistograms(puts);
  return merged;
}

function mergeBreakdowns(parts: ReadonlyArray<Record<string, Breakdown>>): Record<string, Breakdown> {
  const keys = [...new Set(parts.flatMap((p) => Object.keys(p)))];
  const out: Record<string, Breakdown> = {};
  for (const key of keys) {
    const present = parts.flatMap((p) => (p[key] ? [p[key]] : []));
    out[key] = { jobs: sumFields<JobCounts>(present.map((b) => b.jobs)), latency: mergeLatency(present.map((b) => b.latency)) };
  }
  return out;
}

/** Series side by side: concurrent parts add point by point; sequential ones follow each other in time. */
function mergeSeries<S extends { intervalUs: number; tUs: number[] }>(
  parts: readonly S[],
  durationsUs: readonly number[],
  mode: MergeMode,
  valueKeys: ReadonlyArray<keyof S>,
): S {
  const out = structuredClone(parts[0]);
  if (mode === 'sequential') {
    let offsetUs = durationsUs[0];
    parts.slice(1).forEach((part, i) => {
      out.tUs.push(...part.tUs.map((t) => t + offsetUs));
      for (const key of valueKeys) (out[key] as unknown[]).push(...(part[key] as unknown[]));
      offsetUs += durationsUs[i + 1];
    });
    return out;
  }
  for (const part of parts.slice(1)) {
    if (part.tUs.length > out.tUs.length) out.tUs = [...part.tUs];
    for (const key of valueKeys) {
      const into = out[key] as Array<number | null>;
      (part[key] as Array<number | null>).forEach((v, i) => {
        into[i] = v === null || into[i] === null ? (into[i] ?? v) : (into[i] ?? 0) + v;
      });
    }
  }
  return out;
}

const QUEUE_KEYS = ['ready', 'reserved', 'delayed', 'buried'] as const;

function mergeQueue(parts: readonly RunResult['queue'][], durationsUs: readonly number[], mode: MergeMode): RunResult['queue'] {
  const tubes = [...new Set(parts.flatMap((p) => Object.keys(p.byTube)))];
  const byTube: Record<string, QueueSeries> = {};
  for (const tube of tubes) {
    const present = parts.flatMap((p, i) => (p.byTube[tube] ? [{ s: p.byTube[tube], d: durationsUs[i] }] : []));
    byTube[tube] = mergeSeries(present.map((x) => x.s), present.map((x) => x.d), mode, QUEUE_KEYS);
  }
  return { all: mergeSeries(parts.map((p) => p.all), durationsUs, mode, QUEUE_KEYS), byTube };
}

function mergeLoadSeries(parts: readonly LoadSeries[], durationsUs: readonly number[], mode: MergeMode): LoadSeries {
  const keys = ['putsPerSecond', 'completedPerSecond', 'loadgenCpuPercent', 'serverCpuPercent'] as const;
  // Concurrent parts watched the same server: its CPU is not added up.
  const merged = mergeSeries(parts, durationsUs, mode, mode === 'concurrent' ? keys.slice(0, 3) : keys);
  const commands = [...new Set(parts.flatMap((p) => Object.keys(p.commandsPerSecond)))];
  merged.commandsPerSecond = {};
  for (const command of commands) {
    const present = parts.map((p) => ({ ...p, values: p.commandsPerSecond[command] ?? [] }));
    merged.commandsPerSecond[command] = mergeSeries(present, durationsUs, mode, ['values']).values;
  }
  return merged;
}

function mergeDetails(parts: readonly LoadResult[], mode: MergeMode, durationUs: number, merged: Omit<RunResult, 'slo' | 'pass'>): LoadDetails {
  const details = parts.map((p) => p.load);
  const durations = parts.map((p) => p.durationUs);
  const sum = (f: (d: LoadDetails) => number) => details.reduce((s, d) => s + f(d), 0);
  const weighted = (f: (d: LoadDetails) => number) =>
    durationUs === 0 ? 0 : details.reduce((s, d, i) => s + f(d) * durations[i], 0) / durationUs;
  const targetRates = details.map((d) => d.targetRatePerSecond);
  const serverSeconds = details.map((d) => d.cpu.serverSeconds);
  const serverKnown = serverSeconds.every((s) => s !== null);
  const serverTotal = mode === 'concurrent' ? Math.max(...serverSeconds.map((s) => s ?? 0)) : serverSeconds.reduce<number>((s, v) => s + (v ?? 0), 0);
  const loadgenSeconds = sum((d) => d.cpu.loadgenSeconds);
  const out: LoadDetails = {
    target: [...new Set(details.map((d) => d.target))].join(', '),
    driver: details[0].driver,
    mode: details[0].mode,
    targetRatePerSecond: targetRates.some((r) => r === null)
      ? null
      : mode === 'concurrent'
        ? round3(sum((d) => d.targetRatePerSecond!))
        : details[0].targetRatePerSecond,
    achievedRatePerSecond: round3(mode === 'concurrent' ? sum((d) => d.achievedRatePerSecond) : weighted((d) => d.achievedRatePerSecond)),
    producingUs: mode === 'concurrent' ? Math.max(...details.map((d) => d.producingUs)) : sum((d) => d.producingUs),
    producerConnections: mode === 'concurrent' ? sum((d) => d.producerConnections) : details[0].producerConnections,
    workerConnections: mode === 'concurrent' ? sum((d) => d.workerConnections) : details[0].workerConnections,
    pipeline: details[0].pipeline,
    interrupted: details.some((d) => d.interrupted),
    errors: details.flatMap((d) => d.errors),
    cpu: {
      serverSeconds: serverKnown ? round3(serverTotal) : null,
      serverPercent: serverKnown && durationUs > 0 ? round3((serverTotal * 1e8) / durationUs) : null,
      loadgenSeconds: round3(loadgenSeconds),
      loadgenPercent: durationUs > 0 ? round3((loadgenSeconds * 1e8) / durationUs) : 0,
    },
    series: mergeLoadSeries(details.map((d) => d.series), durations, mode),
    integrity: mergeIntegrity(details.map((d) => d.integrity)),
    // Concurrent parts' repeats cannot be combined exactly, so the merged run is one sample.
    repeats: mode === 'sequential' ? details.flatMap((d) => d.repeats) : [repeatSampleOf(merged)],
  };
  if (details.every((d) => d.completedWhileProducing !== undefined)) out.completedWhileProducing = sum((d) => d.completedWhileProducing!);
  const unanswered = mergeUnanswered(details, durations, mode);
  if (unanswered) out.unanswered = unanswered;
  const harnesses = details.flatMap((d) => (d.harness ? [d.harness] : []));
  if (harnesses.length > 0) {
    const figures = {
      serviceConfiguredUs: mergeHistograms(harnesses.map((h) => h.serviceConfiguredUs)),
      serviceMeasuredUs: mergeHistograms(harnesses.map((h) => h.serviceMeasuredUs)),
      sendLagUs: mergeHistograms(harnesses.map((h) => h.sendLagUs)),
      eventLoopLagUs: mergeHistograms(harnesses.map((h) => h.eventLoopLagUs)),
    };
    out.harness = { ...figures, warnings: [...harnessWarnings(figures), ...machineWarnings(harnesses.map((h) => h.warnings), details.length)] };
  }
  const https = details.flatMap((d) => (d.http ? [d.http] : []));
  if (https.length > 0) {
    out.http = {
      requests: https.reduce((s, h) => s + h.requests, 0),
      non2xx: https.reduce((s, h) => s + h.non2xx, 0),
      errors: https.reduce((s, h) => s + h.errors, 0),
      targetRatePerSecond: mode === 'concurrent' ? https.reduce((s, h) => s + h.targetRatePerSecond, 0) : https[0].targetRatePerSecond,
      latencyUs: mergeHistograms(https.map((h) => h.latencyUs)),
    };
    if (https.every((h) => h.scheduled !== undefined)) out.http.scheduled = https.reduce((s, h) => s + h.scheduled!, 0);
    if (https.every((h) => h.neverSent !== undefined)) out.http.neverSent = https.reduce((s, h) => s + h.neverSent!, 0);
    if (mode === 'concurrent') out.repeats = [repeatSampleOf(merged, out.http.latencyUs)];
  }
  // Concurrent parts are one sample: on a busy machine if any part was.
  if (mode === 'concurrent' && details.some((d) => d.repeats.some((r) => r.machineBusy))) out.repeats = out.repeats.map((r) => ({ ...r, machineBusy: true }));
  const abs = details.flatMap((d) => (d.ab ? [d.ab] : []));
  // One A/B result keeps its order; several have no one order (nor seed) between them.
  if (abs.length > 0) out.ab = abs.length === 1 ? { ...abs[0] } : { baselineTarget: abs[0].baselineTarget, baseline: abs.flatMap((a) => a.baseline) };
  return out;
}

type Integrity = LoadDetails['integrity'];

function mergeIntegrity(parts: readonly Integrity[]): Integrity {
  const total = (f: (i: Integrity) => number | undefined) => parts.reduce((s, i) => s + (f(i) ?? 0), 0);
  const ids = (f: (i: Integrity) => number[] | undefined) => parts.flatMap((i) => f(i) ?? []).slice(0, MAX_LISTED_IDS);
  return {
    lostIds: ids((i) => i.lostIds),
    duplicatedIds: ids((i) => i.duplicatedIds),
    duplicateDeliveries: total((i) => i.duplicateDeliveries),
    foreignJobs: total((i) => i.foreignJobs),
    idCollisions: total((i) => i.idCollisions),
    unverifiedIds: ids((i) => i.unverifiedIds),
    unverifiedReason: parts.find((i) => i.unverifiedReason)?.unverifiedReason ?? null,
    undeleted: total((i) => i.undeleted),
    undeletedIds: ids((i) => i.undeletedIds),
    undeletedByState: sumFields(parts.map((i) => i.undeletedByState ?? {})),
    completedChecked: total((i) => i.completedChecked),
    completedTotal: total((i) => i.completedTotal),
    tubeMismatches: parts.flatMap((i) => i.tubeMismatches ?? []),
    notes: parts.flatMap((i) => i.notes ?? []),
  };
}

/** Unanswered operations add up; `sinceUs` is the earliest, on the merged run's time line. */
function mergeUnanswered(details: readonly LoadDetails[], durationsUs: readonly number[], mode: MergeMode): LoadDetails['unanswered'] {
  const present = details.filter((d) => d.unanswered !== undefined);
  if (present.length === 0) return undefined;
  let sinceUs: number | null = null;
  let offsetUs = 0;
  details.forEach((d, i) => {
    const since = d.unanswered?.sinceUs;
    if (since !== undefined && since !== null) {
      const at = since + (mode === 'sequential' ? offsetUs : 0);
      sinceUs = sinceUs === null ? at : Math.min(sinceUs, at);
    }
    offsetUs += durationsUs[i];
  });
  const sum = (f: (u: NonNullable<LoadDetails['unanswered']>) => number) => present.reduce((s, d) => s + f(d.unanswered!), 0);
  return { total: sum((u) => u.total), puts: sum((u) => u.puts), workerOps: sum((u) => u.workerOps), sinceUs };
}

/** The numbers of one run that compare looks at. */
export function repeatSampleOf(result: Omit<RunResult, 'slo' | 'pass'>, httpUs?: HistogramSummary): RepeatSample {
  const latency: RepeatSample['latency'] = {};
  for (const [key, h] of Object.entries(result.latency)) if (h) latency[key] = latencyStats(h);
  if (httpUs) latency.httpUs = latencyStats(httpUs);
  const sample: RepeatSample = { durationUs: result.durationUs, jobsPerSecond: result.throughput.jobsPerSecond, latency };
  // A result that does not measure puts per second (sim) has none to compare, not zero.
  if (result.throughput.putsPerSecond !== undefined) sample.putsPerSecond = result.throughput.putsPerSecond;
  return sample;
}

/**
 * Merges load results. SLOs are evaluated again when the scenario's are given; without them a
 * merged result passes only if every part passed (the parts' verdicts are all that is known).
 */
export function mergeLoadResults(parts: readonly LoadResult[], mode: MergeMode, slos?: readonly SloSpec[]): LoadResult {
  if (parts.length === 0) throw new RangeError('nothing to merge');
  const durations = parts.map((p) => p.durationUs);
  const durationUs = mode === 'concurrent' ? Math.max(...durations) : durations.reduce((a, b) => a + b, 0);
  const jobs = sumFields<JobCounts>(parts.map((p) => p.jobs));
  const producing = parts.map((p) => p.load.producingUs);
  const producingUs = mode === 'concurrent' ? Math.max(...producing) : producing.reduce((a, b) => a + b, 0);
  const perSecond = (n: number, us: number) => (us === 0 ? 0 : round3((n * 1e6) / us));
  // Rates over the producing window, as each part measured them (older results: over the run).
  const whileProducing = parts.every((p) => p.load.completedWhileProducing !== undefined)
    ? perSecond(parts.reduce((s, p) => s + p.load.completedWhileProducing!, 0), producingUs)
    : perSecond(jobs.completed, durationUs);
  const measured: Omit<RunResult, 'slo' | 'pass'> = {
    kind: 'load',
    version: parts[0].version,
    scenario: parts[0].scenario,
    seed: parts[0].seed,
    clock: 'real',
    durationUs,
    drainUs: Math.max(...parts.map((p) => p.drainUs)),
    jobs,
    events: sumFields<EventCounts>(parts.map((p) => p.events)),
    throughput: { jobsPerSecond: whileProducing, putsPerSecond: perSecond(jobs.put, producingUs) },
    latency: mergeLatency(parts.map((p) => p.latency)),
    byTube: mergeBreakdowns(parts.map((p) => p.byTube)),
    byPriority: mergeBreakdowns(parts.map((p) => p.byPriority)),
    queue: mergeQueue(parts.map((p) => p.queue), durations, mode),
  };
  const load = mergeDetails(parts, mode, durationUs, measured);
  const slo = slos ? evaluateSlos(measured, slos) : [];
  const pass = isSound(jobs, load) && (slos ? slo.every((s) => s.pass) : parts.every((p) => p.pass));
  return { ...measured, kind: 'load', slo, pass, load };
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** The parts' "machine was busy" warnings (not recomputable from the merged figures): one line. */
function machineWarnings(partWarnings: ReadonlyArray<readonly string[]>, parts: number): string[] {
  const busy = partWarnings.map((ws) => ws.find((w) => w.startsWith(MACHINE_BUSY_WARNING))).filter((w): w is string => w !== undefined);
  if (busy.length <= 1) return busy;
  return [`${MACHINE_BUSY_WARNING}in ${busy.length} of ${parts} parts, other processes held its cores (each part's figures are in its own result); the latencies include waiting for a core`];
}
