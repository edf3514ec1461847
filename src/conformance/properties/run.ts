// The model-based layer: each named property is a fast-check `asyncModelRun` over generated
// step sequences, applied to the target and to the model side by side. A failure is shrunk
// (within a time budget) and comes back as a check with the seed, the failing step, and the
// shrunk sequence as a transcript that `beanlab replay` runs again.
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import type { Profile } from '../../protocol/types.js';
import type { TargetFactory } from '../../target/sessions.js';
import { BEANSTALKD_CAPABILITIES, subjectCommands, type Capabilities } from '../capabilities.js';
import { CAUSES, causeOf, errorCause } from '../causes.js';
import type { CheckResult } from '../corpus-runner.js';
import { PROPERTIES, opArbitrary, type PropertyDef } from './catalog.js';
import { Harness, Mismatch, Unpredictable, type TraceStep } from './harness.js';
import { describeOp, type Op } from './ops.js';

export interface PropertyRunOptions {
  profile: Profile;
  seed: number;
  /** Sequences per property. */
  numRuns: number;
  /** Steps per sequence, at most. */
  maxCommands: number;
  /** Per property, generation and shrinking together; what is found by then is reported. */
  timeLimitMs: number;
  /** Properties run at once (they mostly sleep). */
  concurrency: number;
  /** Nobody else uses the server: global stats are compared (as deltas). */
  exclusive: boolean;
  /** Makes tube names unique to this process on a shared server (the CLI passes time and pid). */
  tubeNonce: string;
  maxJobSize: number;
  only?: string;
  replyTimeoutMs?: number;
  onResult?: (result: CheckResult) => void;
  /** What the server can do (capabilities.ts); default: everything beanstalkd can. */
  capabilities?: Capabilities;
  /**
   * Resolves when nothing else of this run uses the server any more (the corpus running beside
   * the properties on a shared server): the properties that compare global stats wait for it.
   */
  othersDone?: Promise<unknown>;
  /**
   * Once aborted no property and no further sequence starts (a sequence under way finishes, so
   * the server is left as a client would leave it); the properties not started are left out.
   */
  signal?: AbortSignal;
}

interface Failure {
  trace: TraceStep[];
  ops: Op[];
  error: unknown;
  serverWide: boolean;
}

export function selectedProperties(only?: string): readonly PropertyDef[] {
  return PROPERTIES.filter((p) => !only || p.id.startsWith(only));
}

export async function runProperties(target: TargetFactory, opts: PropertyRunOptions): Promise<CheckResult[]> {
  const selected = selectedProperties(opts.only);
  const results: CheckResult[] = new Array(selected.length);
  // On a shared server the stats property needs the server to itself: it runs after the others.
  const alone = (p: PropertyDef) => Boolean(p.globalStats) && !target.freshPerCase;
  const order = [...selected.keys()].sort((a, b) => Number(alone(selected[a])) - Number(alone(selected[b])));
  let next = 0;
  const work = async (soloPhase: boolean) => {
    for (;;) {
      const i = order[next];
      if (i === undefined || alone(selected[i]) !== soloPhase || opts.signal?.aborted) return;
      next++;
      results[i] = await runProperty(selected[i], i, target, opts);
      opts.onResult?.(results[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency) }, () => work(false)));
  // Every command another check sends to a shared server would show in the global counters.
  if (order.some((i) => alone(selected[i]))) await opts.othersDone?.catch(() => undefined);
  await work(true);
  return results.filter((r) => r !== undefined);
}

async function runProperty(def: PropertyDef, index: number, target: TargetFactory, opts: PropertyRunOptions): Promise<CheckResult> {
  const base = { id: def.id, section: def.id.slice(0, def.id.lastIndexOf('/')), rule: def.rule, notes: [] as string[] };
  const globalStats = Boolean(def.globalStats) && (opts.exclusive || target.freshPerCase);
  let runNumber = 0;
  let lastFailure: Failure | undefined;
  let statsLagSeen = false;
  const subject = subjectCommands(def.id);
  // The time budget is kept here rather than by fast-check's interruptAfterTimeLimit, which
  // races the running sequence: on a slow or loaded machine it could cut the first sequence
  // short, end the property with zero runs ("Property interrupted after 0 tests") and leave the
  // abandoned sequence talking to the server. Here a sequence that has started always finishes;
  // once the budget is spent, the remaining runs and shrink attempts pass without touching the
  // server, so what was found by then is reported, shrunk as far as time allowed.
  const deadlineMs = Date.now() + opts.timeLimitMs;
  let completedRuns = 0;
  const commandArb: fc.Arbitrary<fc.AsyncCommand<RunModel, Harness>> = opArbitrary(def.mix, opts.maxJobSize).map((op) => new Step(op));
  const property = fc.asyncProperty(fc.commands([commandArb], { maxCommands: opts.maxCommands, size: 'max' }), async (commands) => {
    if (completedRuns > 0 && (Date.now() >= deadlineMs || opts.signal?.aborted)) return;
    runNumber++;
    const session = await target.open({ profile: opts.profile }).catch((error: unknown) => {
      // A server that cannot be started is this property's failure, not the whole run's.
      lastFailure = { trace: [], ops: [], error: new Error(`could not start or reach ${target.label}: ${error instanceof Error ? error.message : String(error)}`), serverWide: false };
      throw error;
    });
    const sequenceStartMs = performance.now();
    // The model's clock is the real one; a virtual-clock session would never let time pass.
    if (!session.realTime) throw new Error(`${target.label}: model-based properties need a real-time server`);
    const harness = new Harness({
      profile: opts.profile,
      session,
      tubePrefix: `bl${opts.tubeNonce}p${index}r${runNumber}t`,
      maxJobSize: opts.maxJobSize,
      globalStats,
      shared: !target.freshPerCase,
      replyTimeoutMs: opts.replyTimeoutMs ?? 2000,
      capabilities: opts.capabilities,
      subject,
    });
    const executed: Op[] = [];
    try {
      await fc.asyncModelRun(() => ({ model: { harness, executed } as RunModel, real: harness }), commands);
      await harness.finish();
    } catch (error) {
      if (error instanceof Unpredictable) return;
      const serverWide = globalStats || executed.some((op) => op.op === 'list-tubes');
      // A server that died is reported as such, not as the closed connections it left.
      const exit = await session.serverExit?.();
      const last = executed.at(-1);
      const when = exit && exit.atMs < sequenceStartMs ? ' before the sequence started' : last ? ` after '${describeOp(last)}'` : '';
      const cause = exit ? new Error(`server exited ${exit.how}${when}`) : error;
      lastFailure = { trace: [...harness.trace], ops: executed, error: cause, serverWide };
      throw error;
    } finally {
      statsLagSeen ||= harness.statsLagSeen;
      completedRuns++;
      await harness.close();
      await session.close().catch(() => undefined);
    }
  });
  try {
    await fc.assert(property, {
      seed: opts.seed,
      numRuns: opts.numRuns,
      endOnFailure: false,
    });
    if (statsLagSeen) {
      // Every difference was stats arriving late, which the run tolerated: that root cause.
      return { ...base, status: 'fail', expected: 'stats that count every command already answered', actual: 'values that arrived only when read again', seed: opts.seed, cause: CAUSES.statsLag };
    }
    return { ...base, status: 'pass', expected: '', actual: '', seed: opts.seed };
  } catch (error) {
    if (!lastFailure) throw error;
    const path = /path: "([^"]*)"/.exec(String((error as Error).message))?.[1];
    return failureResult(def, base, opts, lastFailure, path);
  }
}

/** One generated step as fast-check sees it; the harness's state decides whether it can run. */
interface RunModel {
  harness: Harness;
  executed: Op[];
}

class Step implements fc.AsyncCommand<RunModel, Harness> {
  constructor(readonly op: Op) {}
  check(model: Readonly<RunModel>): boolean {
    return model.harness.canRun(this.op);
  }
  async run(model: RunModel, real: Harness): Promise<void> {
    model.executed.push(this.op);
    await real.run(this.op);
  }
  toString(): string {
    return describeOp(this.op);
  }
}

function failureResult(
  def: PropertyDef,
  base: Pick<CheckResult, 'id' | 'section' | 'rule' | 'notes'>,
  opts: PropertyRunOptions,
  failure: Failure,
  path: string | undefined,
): CheckResult {
  const error = failure.error;
  const mismatch = error instanceof Mismatch ? error : undefined;
  const where = mismatch ? `after step "${mismatch.step}": ` : '';
  const transcript = renderTranscript(def, opts, failure, path);
  const caps = opts.capabilities ?? BEANSTALKD_CAPABILITIES;
  const subject = subjectCommands(def.id);
  const facts = mismatch ? { ...mismatch.facts, expected: mismatch.expected.replace(/^[^ ]*< /, ''), actual: mismatch.actual } : { expected: '', actual: String(error) };
  return {
    ...base,
    status: 'fail',
    // A property about a command the server lacks fails as that command's absence.
    cause: mismatch
      ? causeOf(facts, caps, { missingSubject: caps.missing.find((m) => subject.has(m) && m === facts.command) })
      : errorCause(error instanceof Error ? error.message : String(error)),
    expected: `${where}${mismatch ? mismatch.expected : 'the sequence to run'}`,
    actual: mismatch ? mismatch.actual : `error: ${error instanceof Error ? error.message : String(error)}`,
    seed: opts.seed,
    transcript,
    replay: `beanlab conform --only ${def.id} --seed ${opts.seed} --profile ${opts.profile}\n${transcript}`,
  };
}

/** The shrunk failing sequence as a corpus case (corpus/FORMAT.md): raw lines per connection. */
export function renderTranscript(def: PropertyDef, opts: PropertyRunOptions, failure: Failure, path: string | undefined): string {
  const lines = [
    `# Shrunk counterexample of ${def.id}: seed ${opts.seed}${path ? `, path ${path}` : ''}, profile ${opts.profile}.`,
    `# Steps: ${failure.ops.map(describeOp).join('; ')}`,
    `# Replay it with: beanlab replay THIS_FILE [--target HOST:PORT | --spawn CMD]`,
    `case ${def.id.replace(/\/property-/, '/counterexample-')}`,
    `rule: ${def.rule}`,
    `source: generated by beanlab conform, property ${def.id}, seed ${opts.seed}`,
    `profiles: ${opts.profile}`,
  ];
  if (failure.serverWide) lines.push('needs: fresh');
  for (const step of failure.trace) {
    switch (step.kind) {
      case 'send':
        lines.push(`${step.conn}>> ${step.text}`);
        break;
      case 'expect':
        lines.push(`${step.conn}< ${step.expect}`);
        if (step.actual !== undefined) lines.push(`# actual: ${step.actual}`);
        break;
      case 'sleep':
        lines.push(`sleep ${(step.ms / 1000).toFixed(3)}s`);
        break;
      case 'close':
        lines.push(`${step.conn}! close`);
        break;
    }
  }
  return lines.join('\n');
}
