// `beanlab load --processes N`: one run as N shards, each a child process (`beanlab load
// --shard I/N`), because one Node process is one core. The parent starts the server (or reaches
// the target) once, starts the children against it with one run id and a start barrier, shows
// one progress display from what the children report over IPC, and merges their results
// (src/metrics/shard-merge.ts) into one result and one report.
//
// Ctrl-C: a terminal signals the whole foreground process group, children included; each child
// stops, audits its jobs and writes its partial result, and the parent merges what they wrote.
// A SIGINT sent to the parent alone is passed on to the children (a child takes a second SIGINT
// within a second as the same keypress). The server runs in its own process group (src/target/open.ts),
// so it is still there for the children's audits; the parent stops it last. Every wait is
// bounded: the children by the run's own bounds, the parent by those plus a margin, after which
// it kills the children (by PID) and merges what there is.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadResultSchema, type LoadResult } from '../metrics/load-result.js';
import { mergeShards } from '../metrics/shard-merge.js';
import type { Scenario } from '../scenario/schema.js';
import { formatAddress } from '../target/index.js';
import type { LoadProgress } from './run.js';
import { openTarget } from '../target/open.js';
import type { TargetSpec } from '../target/spec.js';

const BEANLAB_BIN = fileURLToPath(new URL('../../bin/beanlab.js', import.meta.url));

/** Beyond the run's own bounds (producing, draining, the barrier, the audit): starting Node, writing files. */
const CHILD_MARGIN_MS = 60_000;

export interface ProcessesOptions {
  count: number;
  /** The scenario file each child reads. */
  scenarioFile: string;
  /** Options passed to every child as they are (--duration, --rate, --seed ...). */
  childArgs: string[];
  target: TargetSpec | undefined;
  runId: string;
  barrierTimeoutMs: number;
  startAtMs?: number;
  /** The longest a child can take by the run's own bounds. */
  childBoundMs: number;
  signal: AbortSignal;
  onProgress?(progress: LoadProgress): void;
  /** A line a child wrote to stderr (not progress). */
  onChildOutput?(index: number, line: string): void;
  /** Every child has reported progress: the run is under way in all of them. */
  onStarted?(): void;
}

/** What a child sends its parent over IPC. */
export interface ChildMessage {
  kind: 'progress';
  progress: LoadProgress;
}

export interface ProcessesOutcome {
  result: LoadResult | undefined;
  /** Children that ended without writing a result, with how they ended. */
  failures: Array<{ index: number; how: string; stderr: string }>;
}

export async function runProcesses(scenario: Scenario, options: ProcessesOptions): Promise<ProcessesOutcome> {
  const target = await openTarget(options.target ?? { kind: 'embedded' });
  const dir = await mkdtemp(join(tmpdir(), 'beanlab-shards-'));
  try {
    const files = Array.from({ length: options.count }, (_, i) => join(dir, `shard-${i}.json`));
    const latest: Array<LoadProgress | undefined> = files.map(() => undefined);
    const children = files.map((file, index) =>
      startChild(index, file, formatAddress(target.address), target.ours, options, (progress) => {
        const news = latest[index] === undefined;
        latest[index] = progress;
        if (news && latest.every((p) => p !== undefined)) options.onStarted?.();
        options.onProgress?.(combine(latest));
      }),
    );
    // A SIGINT to the parent alone (not from a terminal) reaches the children this way.
    const forward = (): void => {
      for (const child of children) if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGINT');
    };
    options.signal.addEventListener('abort', forward, { once: true });
    const killAt = setTimeout(() => {
      for (const child of children) child.process.kill('SIGKILL');
    }, options.childBoundMs + options.barrierTimeoutMs + CHILD_MARGIN_MS);
    const endings = await Promise.all(children.map((c) => c.ended));
    clearTimeout(killAt);
    options.signal.removeEventListener('abort', forward);

    const results: LoadResult[] = [];
    const failures: ProcessesOutcome['failures'] = [];
    for (let i = 0; i < files.length; i++) {
      const result = await readShardResult(files[i]);
      if (result) results.push(result);
      else failures.push({ index: i, how: endings[i], stderr: children[i].stderr() });
    }
    if (results.length === 0) return { result: undefined, failures };
    const merged = mergeShards(results, scenario.slos);
    merged.load.target = target.label;
    return { result: merged, failures };
  } finally {
    await rm(dir, { recursive: true, force: true });
    await target.stop();
  }
}

interface Child {
  process: ChildProcess;
  ended: Promise<string>;
  stderr(): string;
}

function startChild(index: number, file: string, address: string, ours: boolean, options: ProcessesOptions, onProgress: (p: LoadProgress) => void): Child {
  const args = [
    BEANLAB_BIN,
    'load',
    options.scenarioFile,
    ...options.childArgs,
    '--target',
    address,
    '--shard',
    `${index}/${options.count}`,
    '--run-id',
    options.runId,
    '--barrier',
    '--barrier-timeout',
    String(options.barrierTimeoutMs / 1000),
    ...(options.startAtMs === undefined ? [] : ['--start-at', String(options.startAtMs)]),
    '--json',
    file,
    '--child',
    ...(ours ? ['--child-server-ours'] : []),
  ];
  // The parent's process group: a terminal's Ctrl-C reaches every child.
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  let partial = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    stderr += text;
    partial += text;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) if (line.trim() !== '') options.onChildOutput?.(index, line);
  });
  child.on('message', (message: ChildMessage) => {
    if (message?.kind === 'progress') onProgress(message.progress);
  });
  const ended = new Promise<string>((resolve) => {
    child.once('error', (error) => resolve(`could not start: ${error.message}`));
    child.once('exit', (code, signal) => resolve(signal ? `killed by ${signal}` : `exit status ${code}`));
  });
  return { process: child, ended, stderr: () => stderr };
}

async function readShardResult(file: string): Promise<LoadResult | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = loadResultSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** One progress line for the run from each child's latest: counts add up; the backlog is the server's, seen by each. */
function combine(latest: ReadonlyArray<LoadProgress | undefined>): LoadProgress {
  const known = latest.filter((p): p is LoadProgress => p !== undefined);
  return {
    repeat: 1,
    repeats: 1,
    run: 1,
    runs: 1,
    side: 'current',
    phase: known.some((p) => p.phase === 'producing') ? 'producing' : 'draining',
    elapsedSeconds: Math.max(...known.map((p) => p.elapsedSeconds)),
    durationSeconds: known[0].durationSeconds,
    puts: known.reduce((s, p) => s + p.puts, 0),
    completed: known.reduce((s, p) => s + p.completed, 0),
    backlog: Math.max(...known.map((p) => p.backlog)),
  };
}
