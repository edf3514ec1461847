// The property harness's checker: given what the model expects on a connection and what the
// server's connection delivered, it decides ok or mismatch, and gathers the facts the root
// cause needs (causes.ts). No sockets, no clock: the driver (harness.ts) reads the events and
// hands them here. Reply comparison itself (id mapping, masks, tolerances, stats deltas) is
// compare.ts; the id map it binds on INSERTED is the model side's (model-side.ts).
import type { ConnId, Output } from '../../model/api.js';
import { parseStatsYaml } from '../../protocol/stats-yaml.js';
import type { Reply } from '../../protocol/types.js';
import type { ConnEvent } from '../../target/connection.js';
import type { FailureFacts } from '../causes.js';
import { describeEvent } from '../corpus-runner.js';
import { compareReply, type CompareOptions } from './compare.js';
import type { Op } from './ops.js';

/**
 * The sequence reached a point beanstalkd 1.12 does not answer deterministically: the TTR of a
 * job whose owner is not waiting in reserve, or a step that would create a deadline too close
 * to another one. Probed: such a job may stay reserved for seconds
 * past its deadline while other connections keep the server busy (reported to the semantics
 * doc's owner). The run ends there, as a pass of everything observed before it.
 */
export class Unpredictable extends Error {
  override name = 'Unpredictable';
}

/** The facts of a mismatch beyond the two texts: for the root cause (causes.ts). */
export type MismatchFacts = Omit<FailureFacts, 'expected' | 'actual'>;

/** The sequence broke: the server's reply differs from the model's. */
export class Mismatch extends Error {
  override name = 'Mismatch';
  constructor(
    readonly step: string,
    readonly expected: string,
    readonly actual: string,
    /** The command the reply answered, the fields that differ: for the root cause (causes.ts). */
    readonly facts: MismatchFacts = {},
  ) {
    super(`${step}: expected ${expected}, got ${actual}`);
  }
}

/** The checker's decision on one expected output. `expect` is in transcript syntax (the history's). */
export type Verdict =
  | { ok: true; expect: string }
  | {
      ok: false;
      expect: string;
      actual: string;
      facts: MismatchFacts;
      /** A stats reply that differs and may be read again: values arriving late are tolerated (statsLag). */
      rereadable: boolean;
    };

export interface CheckContext {
  compare: CompareOptions;
  replyTimeoutMs: number;
  /** The command the reply answers (the last one sent on its connection, or the reserve waiting there). */
  command?: string;
  /** The step being run, and whether the output is on that step's connection. */
  op?: Op;
  onStepConnection: boolean;
}

/**
 * One output of the model against the event the server's connection delivered (undefined:
 * nothing within the reply timeout). Binds the server's id on INSERTED (compare.ts).
 */
export function checkOutput(output: Output, event: ConnEvent | undefined, ctx: CheckContext): Verdict {
  const nothing = `nothing within ${ctx.replyTimeoutMs} ms`;
  if ('close' in output) {
    if (event?.kind === 'closed') return { ok: true, expect: 'closed' };
    return { ok: false, expect: 'closed', actual: event ? describeEvent(event) : nothing, facts: {}, rereadable: false };
  }
  const result = compareReply(output.reply, event, ctx.compare);
  if (result.ok) return { ok: true, expect: result.expect };
  return {
    ok: false,
    expect: result.expect,
    actual: event ? result.actual : `no reply within ${ctx.replyTimeoutMs} ms`,
    facts: { command: ctx.command, fields: result.fields },
    rereadable: event?.kind === 'reply' && statsRereadable(output.reply, ctx),
  };
}

/** Only a stats or stats-tube step's own OK reply is read again (the other replies do not lag). */
function statsRereadable(expected: Reply, ctx: CheckContext): boolean {
  return expected.kind === 'OK' && (ctx.op?.op === 'stats' || ctx.op?.op === 'stats-tube') && ctx.onStepConnection;
}

/** A reply the model does not expect (yet), found where the driver looks for strays. */
export function strayReply(event: ConnEvent, command: string | undefined): { expect: string; actual: string; facts: MismatchFacts } {
  return { expect: 'nothing 100ms', actual: describeEvent(event), facts: { command } };
}

/**
 * A stats reply read again a moment later (the model answered the same line again at that
 * moment): undefined when the model gave no reply on `conn`, else whether it matches now.
 */
export function checkReread(outputs: readonly Output[], conn: ConnId, event: ConnEvent | undefined, compare: CompareOptions): { ok: boolean; expect: string } | undefined {
  const modelReply = outputs.find((o): o is Output & { reply: Reply } => 'reply' in o && o.conn === conn)?.reply;
  if (!modelReply) return undefined;
  const result = compareReply(modelReply, event, compare);
  return { ok: result.ok, expect: result.expect };
}

/**
 * A stats baseline: the model's and the server's answer to the same `stats`. Undefined when
 * either is not OK (the caller reports it as a mismatch). The model's side is the first reply
 * among its outputs.
 */
export function baselineStats(modelOutputs: readonly Output[], event: ConnEvent | undefined): { model: Map<string, string>; real: Map<string, string> } | undefined {
  const modelReply = modelOutputs.find((o): o is Output & { reply: Reply } => 'reply' in o)?.reply;
  if (!event || event.kind !== 'reply' || event.reply.kind !== 'OK' || modelReply?.kind !== 'OK') return undefined;
  return { model: parseStatsYaml(Buffer.from(modelReply.body).toString('latin1')), real: statsOf(event)! };
}

/** The stats map of an OK reply; undefined for anything else (the caller reports it as a mismatch). */
export function statsOf(event: ConnEvent | undefined): Map<string, string> | undefined {
  if (event?.kind !== 'reply' || event.reply.kind !== 'OK') return undefined;
  return parseStatsYaml(Buffer.from(event.reply.body).toString('latin1'));
}

/** The server has seen every connection but the run's own close (it may count fewer: ours still opening). */
export function serverIsQuiet(stats: Map<string, string>, ownConnections: number): boolean {
  return !(Number(stats.get('current-connections')) > ownConnections);
}

/**
 * Whether a stats baseline misses the quiet-server polls before it: a server whose stats lag (a
 * cache) answers with values from before them, and every later delta would be off by what they did.
 */
export function baselineIsStale(stats: Map<string, string>, lastPollCmdStats: number): boolean {
  const cmdStats = Number(stats.get('cmd-stats'));
  return Number.isFinite(cmdStats) && Number.isFinite(lastPollCmdStats) && cmdStats <= lastPollCmdStats;
}
