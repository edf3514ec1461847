// Drives a model with seconds-based time and renders outputs as short protocol-like lines,
// so tests read like the probe transcripts of docs/semantics.md.
import { parseStatsYaml, parseYamlList } from '../../src/protocol/stats-yaml.js';
import type { Command, Request } from '../../src/protocol/types.js';
import { createModel } from '../../src/model/index.js';
import type { ConnId, ModelOptions, Output, ReferenceModel } from '../../src/model/index.js';

const decoder = new TextDecoder();
const encoder = new TextEncoder();

export function render(output: Output): string {
  if ('close' in output) return `c${output.conn}: CLOSE`;
  const r = output.reply;
  const who = `c${output.conn}: `;
  switch (r.kind) {
    case 'RESERVED':
    case 'FOUND':
      return `${who}${r.kind} ${r.id} ${decoder.decode(r.body)}`;
    case 'INSERTED':
      return `${who}INSERTED ${r.id}`;
    case 'WATCHING':
      return `${who}WATCHING ${r.count}`;
    case 'USING':
      return `${who}USING ${r.tube}`;
    case 'KICKED':
      return r.count === undefined ? `${who}KICKED` : `${who}KICKED ${r.count}`;
    case 'OK':
      return `${who}OK ${r.body.length}`;
    default:
      return `${who}${r.kind}`;
  }
}

export const put = (body: string, pri = 0, delaySeconds = 0, ttrSeconds = 10): Command => ({
  kind: 'put',
  pri,
  delaySeconds,
  ttrSeconds,
  body: encoder.encode(body),
});

export class Harness {
  readonly model: ReferenceModel;
  /** Current time in µs. */
  nowUs = 0;

  constructor(options: ModelOptions = {}) {
    this.model = createModel(options);
  }

  connect(): ConnId {
    return this.model.connect(this.nowUs);
  }

  /** Sets the clock to `seconds` (may be fractional) from the model's start. */
  at(seconds: number): this {
    this.nowUs = Math.round(seconds * 1e6);
    return this;
  }

  /** Applies a request and returns the rendered outputs; checks invariants afterwards. */
  send(conn: ConnId, request: Request): string[] {
    const out = this.model.apply(conn, request, this.nowUs).map(render);
    this.model.checkInvariants();
    return out;
  }

  raw(conn: ConnId, request: Request): Output[] {
    const out = this.model.apply(conn, request, this.nowUs);
    this.model.checkInvariants();
    return out;
  }

  tick(seconds: number): string[] {
    this.at(seconds);
    const out = this.model.tick(this.nowUs).map(render);
    this.model.checkInvariants();
    return out;
  }

  /** The YAML body of an OK reply, parsed. */
  stats(conn: ConnId, request: Request): Map<string, string> {
    return parseStatsYaml(this.okBody(conn, request));
  }

  list(conn: ConnId, request: Request): string[] {
    return parseYamlList(this.okBody(conn, request));
  }

  okBody(conn: ConnId, request: Request): string {
    const out = this.raw(conn, request);
    const first = out[0];
    if (out.length !== 1 || !('reply' in first) || first.reply.kind !== 'OK') {
      throw new Error(`expected one OK, got ${out.map(render).join(', ')}`);
    }
    return decoder.decode(first.reply.body);
  }
}
