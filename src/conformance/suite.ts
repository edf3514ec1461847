// The whole suite against one target: the capability probe first (root causes before any check
// relies on them), then the transcript corpus and the model-based properties at the same time,
// the UNIX-socket restart check where the target allows it, and the result as data. Nothing is
// printed or written; progress goes to callbacks (the library's runConformance, src/api).
import type { Profile } from '../protocol/types.js';
import { nextEvent } from '../target/connection.js';
import type { TargetFactory } from '../target/sessions.js';
import { replayArgs, type TargetSpec } from '../target/spec.js';
import { INTEGER_IDS_CHECK_ID, integerIdsCheck, probeCapabilities } from './capabilities.js';
import { runCorpus, type CheckResult } from './corpus-runner.js';
import { runProperties, selectedProperties } from './properties/run.js';
import { buildResult, type ConformanceResult } from './result.js';
import type { TargetCoverage } from './testserv.js';
import type { TranscriptCase } from './transcript.js';
import { checkStaleSocketReplaced, STALE_SOCKET_CHECK_ID } from './unix-socket.js';

/** Budgets of the generated layer: the default, and `quick`. */
export const BUDGETS = {
  default: { numRuns: 25, maxCommands: 25, timeLimitMs: 45_000 },
  quick: { numRuns: 8, maxCommands: 15, timeLimitMs: 9_000 },
} as const;
/** beanstalkd's -z default, assumed when the server will not say. */
const DEFAULT_MAX_JOB_SIZE = 65535;
const STATS_TIMEOUT_MS = 2000;
/** Generated sequences of one property run at once. */
const PROPERTY_CONCURRENCY = 32;

/** A target as the suite runs it: its description (for replay lines and coverage) and its sessions. */
export interface SuiteTarget {
  spec: TargetSpec;
  factory: TargetFactory;
}

export interface SuiteOptions {
  profile: Profile;
  /** Only checks whose id starts with this. */
  only?: string;
  /** Corpus cases run at once on targets with a fresh server per case. */
  concurrency?: number;
  /** Generated sequences per property (default: the budget's). */
  runs?: number;
  /** The short budget of the generated layer. */
  quick?: boolean;
  /** Nobody else uses an address target: compare global stats too (as deltas). */
  exclusive?: boolean;
  /** Stops starting checks (those under way finish: their servers are left as clients leave them). */
  signal?: AbortSignal;
}

export interface SuiteHooks {
  /** Each corpus or property check as it finishes. */
  onResult?(check: CheckResult): void;
  /** Corpus and property checks finished of all selected, once they are counted and after each. */
  onProgress?(checksDone: number, checksTotal: number): void;
}

/** Both layers against one target; the corpus and the properties run at the same time. */
export async function runSuite(
  target: SuiteTarget,
  cases: readonly TranscriptCase[],
  seed: number,
  options: SuiteOptions,
  hooks: SuiteHooks = {},
): Promise<ConformanceResult> {
  const { factory, spec } = target;
  const budget = options.quick ? BUDGETS.quick : BUDGETS.default;
  const again = replayArgs(spec);
  const maxJobSize = await serverMaxJobSize(factory, options.profile);
  // Root causes first: what the server lacks is found once, before any check relies on it.
  const tubeNonce = `${process.pid.toString(36)}${Date.now().toString(36)}`;
  const capabilities = await probeCapabilities(factory, { profile: options.profile, tube: `bl${tubeNonce}probe`, replyTimeoutMs: 2000 });
  const idsCheck = selects(options.only, INTEGER_IDS_CHECK_ID) ? [integerIdsCheck(capabilities)] : [];
  const total = cases.filter((c) => selects(options.only, c.id)).length + selectedProperties(options.only).length;
  let done = 0;
  hooks.onProgress?.(done, total);
  const tick = (check: CheckResult): void => {
    hooks.onResult?.(check);
    hooks.onProgress?.(++done, total);
  };
  const corpusRun = runCorpus(cases, factory, {
    profile: options.profile,
    only: options.only,
    concurrency: options.concurrency,
    replayArgs: again,
    onResult: tick,
    capabilities,
    signal: options.signal,
  });
  const [corpus, properties] = await Promise.all([
    corpusRun,
    runProperties(factory, {
      othersDone: corpusRun,
      profile: options.profile,
      seed,
      numRuns: options.runs ?? budget.numRuns,
      maxCommands: budget.maxCommands,
      timeLimitMs: budget.timeLimitMs,
      concurrency: PROPERTY_CONCURRENCY,
      exclusive: Boolean(options.exclusive),
      tubeNonce,
      maxJobSize,
      only: options.only,
      onResult: tick,
      capabilities,
      signal: options.signal,
    }),
  ]);
  const replay = (id: string) => `beanlab conform --only ${id} --profile ${options.profile}${again ? ` ${again}` : ''}`;
  const checks: CheckResult[] = [...idsCheck.map((c) => ({ ...c, replay: replay(c.id) })), ...corpus, ...properties];
  const socketCommand = restartableCommand(spec);
  if (socketCommand && selects(options.only, STALE_SOCKET_CHECK_ID)) checks.push(await checkStaleSocketReplaced(socketCommand));
  return buildResult(factory.label, options.profile, checks, seed, capabilities);
}

function selects(only: string | undefined, id: string): boolean {
  return !only || id.startsWith(only);
}

/** A spawn command with {socket}: beanlab can start it twice on one path (the stale-socket check). */
export function restartableCommand(spec: TargetSpec): string | undefined {
  return spec.kind === 'spawn' && spec.command.includes('{socket}') ? spec.command : undefined;
}

/**
 * What a target lets a run cover (for the lines of testserv.c tests it leaves out): over a UNIX
 * socket, restarted on one socket path, with a binlog (a {binlog} command, or the embedded server
 * without faults; beanlab cannot restart a server it did not start).
 */
export function coverageOf(spec: TargetSpec): TargetCoverage {
  const unixSocket = spec.kind === 'address' ? /^unix:./.test(spec.address.trim()) : spec.kind === 'spawn' && spec.command.includes('{socket}');
  const binlog = spec.kind === 'spawn' ? spec.command.includes('{binlog}') : spec.kind === 'embedded' && !spec.faults?.length;
  return { unixSocket, restartable: restartableCommand(spec) !== undefined, binlog };
}

/** The server's max-job-size (a shared server may run with -z): a raw `stats`; the default if it will not say. */
async function serverMaxJobSize(target: TargetFactory, profile: Profile): Promise<number> {
  const session = await target.open({ profile });
  try {
    const conn = await session.connect();
    conn.send(Buffer.from('stats\r\n'));
    const event = await nextEvent(conn, STATS_TIMEOUT_MS);
    if (event?.kind === 'reply' && event.reply.kind === 'OK') {
      const m = /^max-job-size: (\d+)$/m.exec(Buffer.from(event.reply.body).toString('latin1'));
      if (m) return Number(m[1]);
    }
    return DEFAULT_MAX_JOB_SIZE;
  } finally {
    await session.close();
  }
}
