// Fault injection for the conformance suite's self-test (`beanlab serve --fault NAME[=VALUE]`).
// Each fault breaks exactly one beanstalkd behaviour of the embedded server by wrapping the
// reference model (rewriting requests or outputs) or the engine's sink; the model itself stays
// correct. `beanlab conform` must catch every fault marked `mutant` (the mutation score).
import type { ConnId, JobView, Output, ReferenceModel } from '../model/api.js';
import { UINT32_MAX, type Reply, type Request } from '../protocol/types.js';
import type { EngineSink } from './engine.js';
import { ForwardingModel } from './model-wrapper.js';

export interface FaultSpec {
  name: string;
  /** The `=VALUE` part, for faults that take one (slow=MS). */
  value?: number;
}

export interface Fault {
  name: string;
  /** One line for `--help` and reports. */
  description: string;
  /** Counted in the mutation score: conformance must fail against it. */
  mutant: boolean;
  takesValue?: boolean;
  model?(inner: ReferenceModel, spec: FaultSpec): ReferenceModel;
  sink?(inner: EngineSink, spec: FaultSpec): EngineSink;
}

/** The seam a fault plugs into (src/server/tcp.ts ServerOptions.intercept). */
export interface FaultIntercept {
  model?(model: ReferenceModel): ReferenceModel;
  sink?(sink: EngineSink): EngineSink;
}

type Hooks = {
  /** Rewrite a request before the model sees it, or answer it without the model (an Output list). */
  request?(conn: ConnId, request: Request, nowUs: number, model: FaultyModel): Request | Output[];
  /** Rewrite the outputs of any call (apply, tick, hangup, disconnect). */
  outputs?(outputs: Output[], model: FaultyModel): Output[];
  /** Replace a disconnect entirely. */
  disconnect?(conn: ConnId, nowUs: number, model: FaultyModel): Output[];
};

/** A ReferenceModel that delegates to the real one through a fault's hooks. */
class FaultyModel extends ForwardingModel {
  /** Ids the model handed out, so hooks can look jobs up (the model API has no job listing). */
  readonly insertedIds: number[] = [];
  /** The time and request of the call in progress, for hooks that act on the model themselves. */
  nowUs = 0;
  request: Request | undefined;

  constructor(
    inner: ReferenceModel,
    private readonly hooks: Hooks,
  ) {
    super(inner);
  }

  override apply(conn: ConnId, request: Request, nowUs: number): Output[] {
    this.nowUs = nowUs;
    this.request = request;
    // Due events first, so a hook sees the state the request meets.
    const due = this.inner.tick(nowUs);
    const rewritten = this.hooks.request ? this.hooks.request(conn, request, nowUs, this) : request;
    const outputs = Array.isArray(rewritten) ? rewritten : this.inner.apply(conn, rewritten, nowUs);
    const all = this.after([...due, ...outputs]);
    this.request = undefined;
    return all;
  }
  override tick(nowUs: number): Output[] {
    this.nowUs = nowUs;
    return this.after(this.inner.tick(nowUs));
  }
  override hangup(conn: ConnId, nowUs: number): Output[] {
    return this.after(this.inner.hangup(conn, nowUs));
  }
  override disconnect(conn: ConnId, nowUs: number): Output[] {
    return this.after(this.hooks.disconnect ? this.hooks.disconnect(conn, nowUs, this) : this.inner.disconnect(conn, nowUs));
  }

  /** Every live job the model inserted, oldest first. */
  jobs(): JobView[] {
    return this.insertedIds.flatMap((id) => this.inner.job(id) ?? []);
  }

  private after(outputs: Output[]): Output[] {
    for (const o of outputs) if ('reply' in o && o.reply.kind === 'INSERTED') this.insertedIds.push(o.reply.id);
    return this.hooks.outputs ? this.hooks.outputs(outputs, this) : outputs;
  }
}

function wrap(hooks: Hooks): (inner: ReferenceModel) => ReferenceModel {
  return (inner) => new FaultyModel(inner, hooks);
}

const mapReplies = (f: (reply: Reply, conn: ConnId) => Reply | undefined) => (outputs: Output[]): Output[] =>
  outputs.flatMap((o): Output[] => {
    if (!('reply' in o)) return [o];
    const reply = f(o.reply, o.conn);
    return reply ? [{ ...o, reply }] : [];
  });

/** Adds `delta` to one numeric field of a stats YAML body. */
function bumpYamlField(body: Uint8Array, key: string, delta: number): Uint8Array {
  const text = Buffer.from(body).toString('latin1');
  return Buffer.from(text.replace(new RegExp(`^${key}: (\\d+)$`, 'm'), (_, n: string) => `${key}: ${Number(n) + delta}`), 'latin1');
}

const reply = (conn: ConnId, r: Reply): Output[] => [{ conn, reply: r }];

export const FAULTS: readonly Fault[] = [
  {
    name: 'priority-inverted',
    description: 'larger priority numbers are served first (pri p stored as 4294967295 - p)',
    mutant: true,
    model: wrap({
      request: (_conn, r) =>
        r.kind === 'put' || r.kind === 'release' || r.kind === 'bury' ? { ...r, pri: UINT32_MAX - r.pri } : r,
    }),
  },
  {
    name: 'lifo-equal-priority',
    description: 'among ready jobs of equal priority in a tube, the newest is reserved first',
    mutant: true,
    model: (inner) =>
      new FaultyModel(inner, {
        // reserve-job names its job; only reserve / reserve-with-timeout hand-outs are swapped.
        outputs: (outputs, model) =>
          model.request?.kind === 'reserve-job'
            ? outputs
            : outputs.flatMap((o) => ('reply' in o && o.reply.kind === 'RESERVED' ? swapForNewest(model, o) : [o])),
      }),
  },
  {
    name: 'delay-ignored',
    description: 'put and release ignore their delay: the job is ready at once',
    mutant: true,
    model: wrap({
      request: (_conn, r) => (r.kind === 'put' || r.kind === 'release' ? { ...r, delaySeconds: 0 } : r),
    }),
  },
  {
    name: 'ttr-never-expires',
    description: 'reserved jobs are never released by TTR expiry (ttr stored as 4294967295)',
    mutant: true,
    model: wrap({ request: (_conn, r) => (r.kind === 'put' ? { ...r, ttrSeconds: UINT32_MAX } : r) }),
  },
  {
    name: 'no-deadline-soon',
    description: 'DEADLINE_SOON is never sent (the reply is dropped)',
    mutant: true,
    model: wrap({ outputs: mapReplies((r) => (r.kind === 'DEADLINE_SOON' ? undefined : r)) }),
  },
  {
    name: 'bury-releases',
    description: 'bury puts the job back to ready (answering BURIED)',
    mutant: true,
    model: wrap({
      request: (_conn, r) => (r.kind === 'bury' ? { kind: 'release', id: r.id, pri: r.pri, delaySeconds: 0 } : r),
      outputs: mapReplies((r) => (r.kind === 'RELEASED' ? { kind: 'BURIED' } : r)),
    }),
  },
  {
    name: 'kick-one-fewer',
    description: 'kick <n> moves one job fewer than it should',
    mutant: true,
    model: wrap({ request: (_conn, r) => (r.kind === 'kick' && r.bound > 0 ? { ...r, bound: r.bound - 1 } : r) }),
  },
  {
    name: 'touch-noop',
    description: 'touch answers TOUCHED but does not restart the TTR',
    mutant: true,
    model: (inner) =>
      new FaultyModel(inner, {
        request: (conn, r) => {
          if (r.kind !== 'touch') return r;
          const job = inner.job(r.id);
          return reply(conn, job?.state === 'reserved' && job.reservedBy === conn ? { kind: 'TOUCHED' } : { kind: 'NOT_FOUND' });
        },
      }),
  },
  {
    name: 'pause-noop',
    description: 'pause-tube answers PAUSED but does not pause the tube',
    mutant: true,
    model: wrap({ request: (_conn, r) => (r.kind === 'pause-tube' ? { ...r, delaySeconds: 0 } : r) }),
  },
  {
    name: 'stats-tube-off-by-one',
    description: 'stats-tube reports total-jobs one too high',
    mutant: true,
    model: wrap({
      outputs: mapReplies((r) =>
        r.kind === 'OK' && /^current-using: /m.test(Buffer.from(r.body).toString('latin1'))
          ? { kind: 'OK', body: bumpYamlField(r.body, 'total-jobs', 1) }
          : r,
      ),
    }),
  },
  {
    name: 'bad-format-as-unknown',
    description: 'BAD_FORMAT is answered as UNKNOWN_COMMAND',
    mutant: true,
    model: wrap({ outputs: mapReplies((r) => (r.kind === 'BAD_FORMAT' ? { kind: 'UNKNOWN_COMMAND' } : r)) }),
  },
  {
    name: 'close-keeps-reserved',
    description: 'a closed connection keeps its jobs reserved (until their TTR)',
    mutant: true,
    // The model never hears of the close: the connection lives on inside it, holding its jobs.
    model: wrap({ disconnect: () => [] }),
  },
  {
    name: 'delete-others-reserved',
    description: "delete removes a job reserved by another connection",
    mutant: true,
    model: (inner) =>
      new FaultyModel(inner, {
        request: (conn, r, nowUs) => {
          if (r.kind !== 'delete') return r;
          const job = inner.job(r.id);
          const owner = job?.reservedBy;
          // Deleting on the owner's behalf is what the fault does; the model has no such move,
          // so apply the delete as the owner (unless it is blocked in reserve) and route the reply.
          if (owner !== undefined && owner !== conn && !inner.isWaiting(owner)) {
            const out = inner.apply(owner, r, nowUs);
            return out.map((o) => (o.conn === owner && 'reply' in o && o.reply.kind === 'DELETED' ? { ...o, conn } : o));
          }
          return r;
        },
      }),
  },
  {
    name: 'timeout-ignored',
    description: 'reserve-with-timeout waits forever, like reserve',
    mutant: true,
    model: wrap({ request: (_conn, r) => (r.kind === 'reserve-with-timeout' ? { ...r, timeoutSeconds: -1 } : r) }),
  },
  {
    name: 'slow',
    description: 'every reply is written VALUE ms late (slow=MS; not a protocol fault, so not a mutant)',
    mutant: false,
    takesValue: true,
    sink: (inner, spec) => delayedSink(inner, spec.value ?? 0),
  },
];

/**
 * lifo-equal-priority: a job handed out by reserve is swapped for the newest ready job of the
 * same tube and priority, which is then reserved by the same connection.
 */
function swapForNewest(model: FaultyModel, output: Output & { reply: Reply }): Output[] {
  const reserved = output.reply.kind === 'RESERVED' ? model.inner.job(output.reply.id) : undefined;
  if (!reserved || model.inner.isWaiting(output.conn)) return [output];
  const newer = model
    .jobs()
    .filter((j) => j.state === 'ready' && j.tube === reserved.tube && j.pri === reserved.pri && j.id > reserved.id)
    .at(-1);
  if (!newer) return [output];
  // Move the reservation: the old job back to ready, the newer one reserved by the same conn.
  // Whatever else those moves cause (a waiter served by the released job) is passed on.
  const isOwn = (o: Output, kind: Reply['kind']) => o.conn === output.conn && 'reply' in o && o.reply.kind === kind;
  const released = model.inner.apply(output.conn, { kind: 'release', id: reserved.id, pri: reserved.pri, delaySeconds: 0 }, model.nowUs);
  const taken = model.inner.apply(output.conn, { kind: 'reserve-job', id: newer.id }, model.nowUs);
  return [...released.filter((o) => !isOwn(o, 'RELEASED')), ...taken];
}

/** Writes (and closes) each connection's output `delayMs` late, keeping per-connection order. */
function delayedSink(inner: EngineSink, delayMs: number): EngineSink {
  return {
    write: (conn, bytes) => void setTimeout(() => inner.write(conn, bytes), delayMs),
    close: (conn) => void setTimeout(() => inner.close(conn), delayMs),
  };
}

export function findFault(name: string): Fault | undefined {
  return FAULTS.find((f) => f.name === name);
}

/** Parses `NAME` or `NAME=VALUE`; throws an Error with a one-line message. */
export function parseFault(text: string): FaultSpec {
  const m = /^([a-z0-9-]+)(?:=(\d+))?$/.exec(text);
  const fault = m ? findFault(m[1]) : undefined;
  if (!m || !fault) throw new Error(`unknown fault '${text}' (known: ${FAULTS.map((f) => f.name + (f.takesValue ? '=N' : '')).join(', ')})`);
  if (fault.takesValue && m[2] === undefined) throw new Error(`fault '${fault.name}' needs a value: ${fault.name}=N`);
  if (!fault.takesValue && m[2] !== undefined) throw new Error(`fault '${fault.name}' takes no value`);
  return m[2] === undefined ? { name: fault.name } : { name: fault.name, value: Number(m[2]) };
}

/** The intercept for several faults, applied in order (each wraps the previous). */
export function faultIntercept(specs: readonly FaultSpec[]): FaultIntercept {
  const faults = specs.map((spec) => ({ spec, fault: findFault(spec.name)! }));
  return {
    model: (model) => faults.reduce((m, { fault, spec }) => (fault.model ? fault.model(m, spec) : m), model),
    sink: (sink) => faults.reduce((s, { fault, spec }) => (fault.sink ? fault.sink(s, spec) : s), sink),
  };
}
