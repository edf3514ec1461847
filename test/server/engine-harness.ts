// Drives an Engine over the real model with a recording sink: no sockets, time is a number.
import { createModel } from '../../src/model/index.js';
import type { ConnId, ModelOptions, ReferenceModel } from '../../src/model/api.js';
import { Engine, type EngineOptions, type EngineSink } from '../../src/server/engine.js';

export class EngineHarness {
  readonly engine: Engine;
  readonly model: ReferenceModel;
  /** Every sink.write per connection, in order, as text (bodies here are ASCII). */
  readonly writes = new Map<ConnId, string[]>();
  readonly closed = new Set<ConnId>();
  /** Every sink call in order, to check that a close comes after the last write. */
  readonly log: string[] = [];
  internalErrors: unknown[] = [];

  constructor(
    opts: ModelOptions &
      Pick<EngineOptions, 'clock' | 'commandsPerTurn' | 'onYield'> & {
        wrapModel?: (model: ReferenceModel) => ReferenceModel;
        /** What sink.write answers (false: the output is not sent yet); default true. */
        sinkAccepts?: (conn: ConnId) => boolean;
      } = {},
  ) {
    const base = createModel({ startUs: 0, ...opts });
    this.model = opts.wrapModel ? opts.wrapModel(base) : base;
    const sink: EngineSink = {
      write: (conn, bytes) => {
        const text = Buffer.from(bytes).toString('latin1');
        this.log.push(`write ${conn}`);
        this.writes.set(conn, [...(this.writes.get(conn) ?? []), text]);
        return opts.sinkAccepts ? opts.sinkAccepts(conn) : true;
      },
      close: (conn) => {
        this.log.push(`close ${conn}`);
        this.closed.add(conn);
      },
    };
    this.engine = new Engine(this.model, sink, {
      onInternalError: (_conn, error) => this.internalErrors.push(error),
      clock: opts.clock,
      commandsPerTurn: opts.commandsPerTurn,
      onYield: opts.onYield,
    });
  }

  open(nowUs = 0): ConnId {
    return this.engine.open(nowUs);
  }

  send(conn: ConnId, text: string | Uint8Array, nowUs = 0): void {
    this.engine.receive(conn, typeof text === 'string' ? Buffer.from(text, 'latin1') : text, nowUs);
  }

  /** Everything written to `conn` so far, concatenated. */
  output(conn: ConnId): string {
    return (this.writes.get(conn) ?? []).join('');
  }

  writeCount(conn: ConnId): number {
    return this.writes.get(conn)?.length ?? 0;
  }
}
