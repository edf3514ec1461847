// Comparing one reply of the server under test with the reply the model predicts. Job ids are
// mapped (the model counts from 1, a shared server does not), per-run stats fields are masked
// and truncated-second fields get ±1 s (semantics h.6, h.10). Each comparison also yields the
// expectation in transcript syntax (corpus/FORMAT.md), with `$jN` for the model's job N, so a
// failing sequence can be written out as a replayable case.
import { encodeReply } from '../../protocol/encode.js';
import { parseStatsYaml, parseYamlList } from '../../protocol/stats-yaml.js';
import type { Reply } from '../../protocol/types.js';
import type { ConnEvent } from '../../target/connection.js';
import { describeEvent, escapeBytes } from '../corpus-runner.js';

/** Per-process values that differ on every server (h.10): never compared. */
export const MASKED_STATS = new Set([
  'pid', 'version', 'rusage-utime', 'rusage-stime', 'uptime', 'total-connections', 'current-connections',
  'binlog-oldest-index', 'binlog-current-index', 'binlog-records-migrated', 'binlog-records-written',
  'binlog-max-size', 'id', 'hostname', 'os', 'platform',
]);
/** Whole seconds truncated from a clock the model and server read a few ms apart (h.6). */
export const TOLERANT_FIELDS = new Set(['age', 'time-left', 'pause-time-left']);

export interface IdMap {
  real(modelId: number): string | undefined;
  bind(modelId: number, realId: string): void;
}

export interface CompareOptions {
  ids: IdMap;
  /** Global stats are compared as deltas from these maps (model, real); without them, not at all. */
  statsBaseline?: { model: Map<string, string>; real: Map<string, string> };
  /** On a shared server list-tubes is compared only over the run's own tubes. */
  ownTube?: (name: string) => boolean;
  /**
   * The server keeps a binlog: stats-job `file` is the number of a binlog file (from 1), which
   * the model, having no files, reports as 0 (semantics b.7).
   */
  binlog?: boolean;
}

/** What `file` may be on a server with a binlog: any binlog file number (beanstalkd's is an int). */
const BINLOG_FILE_RANGE = { lo: 1, hi: 2 ** 31 - 1 };

export interface Comparison {
  ok: boolean;
  /** The expectation as a transcript line would write it after `A< `. */
  expect: string;
  /** What arrived, for the report. */
  actual: string;
  /** Why it differs, when it does and the texts alone do not say. */
  why?: string;
  /** For a stats map that differs: the fields that do. */
  fields?: string[];
}

const idVar = (modelId: number) => `$j${modelId}`;

export function compareReply(expected: Reply, event: ConnEvent | undefined, opts: CompareOptions): Comparison {
  const expect = expectText(expected, opts);
  if (!event) return { ok: false, expect, actual: 'no reply' };
  const actual = describeEvent(event);
  if (event.kind !== 'reply') return { ok: false, expect, actual };
  const got = event.reply;
  switch (expected.kind) {
    case 'INSERTED': {
      if (got.kind !== 'INSERTED') return { ok: false, expect, actual };
      // Ids are opaque: whatever the server wrote stands for the model's id from now on.
      opts.ids.bind(expected.id, event.jobId ?? String(got.id));
      return { ok: true, expect, actual };
    }
    case 'RESERVED':
    case 'FOUND': {
      const realId = opts.ids.real(expected.id);
      const want = realId === undefined ? undefined : withRealId(encodeReply(expected), expected.id, realId);
      return { ok: want !== undefined && want.equals(event.raw), expect, actual };
    }
    case 'OK':
      return compareOk(expected.body, got, expect, actual, opts);
    default:
      return { ok: encodeReply(expected).equals(event.raw), expect, actual };
  }
}

/** The model's encoded RESERVED / FOUND with its id replaced by the server's (any token). */
function withRealId(encoded: Buffer, modelId: number, realId: string): Buffer {
  const space = encoded.indexOf(32);
  const idEnd = space + 1 + String(modelId).length;
  return Buffer.concat([encoded.subarray(0, space + 1), Buffer.from(realId, 'latin1'), encoded.subarray(idEnd)]);
}

type OkKind = 'list' | 'stats-job' | 'stats-tube' | 'stats';

function okKind(body: Uint8Array): OkKind {
  const text = Buffer.from(body).toString('latin1');
  if (text === '---\n' || text.startsWith('---\n- ')) return 'list';
  if (/^state: /m.test(text)) return 'stats-job';
  if (/^current-using: /m.test(text)) return 'stats-tube';
  return 'stats';
}

function compareOk(modelBody: Uint8Array, got: Reply, expect: string, actual: string, opts: CompareOptions): Comparison {
  if (got.kind !== 'OK') return { ok: false, expect, actual };
  const kind = okKind(modelBody);
  const modelText = Buffer.from(modelBody).toString('latin1');
  const realText = Buffer.from(got.body).toString('latin1');
  try {
    if (kind === 'list') {
      const keep = opts.ownTube ?? (() => true);
      const want = parseYamlList(modelText).filter(keep).sort();
      const have = parseYamlList(realText).filter(keep).sort();
      const ok = want.length === have.length && want.every((v, i) => v === have[i]);
      return { ok, expect, actual: `set ${have.join(' ')}` };
    }
    const want = parseStatsYaml(modelText);
    const have = parseStatsYaml(realText);
    const diffs: string[] = [];
    for (const [key, value] of want) {
      if (kind === 'stats' && MASKED_STATS.has(key)) continue;
      const real = have.get(key);
      if (real === undefined) {
        diffs.push(`${key} missing`);
        continue;
      }
      if (!fieldMatches(kind, key, value, real, opts)) diffs.push(`${key}: expected ${shownValue(kind, key, value, opts)}, got ${real}`);
    }
    // Fields beanstalkd does not have are an extension, not a difference: the corpus's `keys`
    // cases report them as warnings.
    const fields = diffs.map((d) => d.split(/[: ]/)[0]);
    return diffs.length === 0 ? { ok: true, expect, actual } : { ok: false, expect, actual: `map ${diffs.join('; ')}`, why: diffs.join('; '), fields };
  } catch (error) {
    return { ok: false, expect, actual: `${actual} (${(error as Error).message})` };
  }
}

function fieldMatches(kind: OkKind, key: string, model: string, real: string, opts: CompareOptions): boolean {
  if (kind === 'stats-job' && key === 'id') return opts.ids.real(Number(model)) === real;
  if (kind === 'stats-job' && key === 'file' && opts.binlog) {
    return /^\d+$/.test(real) && Number(real) >= BINLOG_FILE_RANGE.lo && Number(real) <= BINLOG_FILE_RANGE.hi;
  }
  if (TOLERANT_FIELDS.has(key)) return /^\d+$/.test(real) && Math.abs(Number(real) - Number(model)) <= 1;
  if (kind === 'stats' && /^\d+$/.test(model) && opts.statsBaseline) {
    const base = opts.statsBaseline;
    const modelDelta = Number(model) - Number(base.model.get(key) ?? 0);
    const realDelta = Number(real) - Number(base.real.get(key) ?? 0);
    return /^\d+$/.test(real) && modelDelta === realDelta;
  }
  return model === real;
}

function shownValue(kind: OkKind, key: string, model: string, opts: CompareOptions): string {
  if (kind === 'stats' && opts.statsBaseline && /^\d+$/.test(model)) {
    const base = Number(opts.statsBaseline.model.get(key) ?? 0);
    return `${model} (+${Number(model) - base} since the start; server started at ${opts.statsBaseline.real.get(key)})`;
  }
  if (kind === 'stats-job' && key === 'id') return opts.ids.real(Number(model)) ?? `job ${model}`;
  if (kind === 'stats-job' && key === 'file' && opts.binlog) return `a binlog file number (${BINLOG_FILE_RANGE.lo} or more)`;
  return TOLERANT_FIELDS.has(key) ? `${model}±1` : model;
}

/** The expectation in transcript syntax. */
export function expectText(reply: Reply, opts: CompareOptions): string {
  switch (reply.kind) {
    case 'INSERTED':
      return `INSERTED ${idVar(reply.id)}`;
    case 'RESERVED':
    case 'FOUND':
      return `${reply.kind} ${idVar(reply.id)} ${reply.body.length}\\r\\n${transcriptEscape(reply.body)}`;
    case 'OK': {
      const kind = okKind(reply.body);
      const text = Buffer.from(reply.body).toString('latin1');
      if (kind === 'list') {
        const keep = opts.ownTube ?? (() => true);
        return `set ${parseYamlList(text).filter(keep).join(' ')}`;
      }
      const fields = [...parseStatsYaml(text)]
        .filter(([key]) => !(kind === 'stats' && MASKED_STATS.has(key)))
        .map(([key, value]) => {
          if (kind === 'stats-job' && key === 'id') return `id=${idVar(Number(value))}`;
          if (kind === 'stats-job' && key === 'file' && opts.binlog) return `file=${BINLOG_FILE_RANGE.lo}..${BINLOG_FILE_RANGE.hi}`;
          if (TOLERANT_FIELDS.has(key)) return `${key}=${Math.max(0, Number(value) - 1)}..${Number(value) + 1}`;
          return `${key}=${value}`;
        });
      return `map ${fields.join(' ')}`;
    }
    default:
      return escapeBytes(encodeReply(reply).subarray(0, -2));
  }
}

/**
 * Bytes as transcript text (FORMAT.md escapes): `$`, `{`, `\` and leading or trailing spaces
 * escaped, runs of 8 or more equal bytes written as `{c*N}`.
 */
export function transcriptEscape(bytes: Uint8Array, escapeEdgeSpaces = true): string {
  let out = '';
  for (let i = 0; i < bytes.length; ) {
    let run = 1;
    while (i + run < bytes.length && bytes[i + run] === bytes[i]) run++;
    const one = escapeOne(bytes[i], escapeEdgeSpaces && (i === 0 || i === bytes.length - 1));
    if (run >= 8 && /^[A-Za-z0-9]$/.test(one)) {
      out += `{${one}*${run}}`;
      i += run;
    } else {
      out += one;
      i += 1;
    }
  }
  return out;
}

function escapeOne(b: number, atEdge: boolean): string {
  if (b === 13) return '\\r';
  if (b === 10) return '\\n';
  if (b === 9) return '\\t';
  if (b === 0) return '\\0';
  if (b === 92) return '\\\\';
  if (b === 36) return '\\$';
  if (b === 123) return '\\{';
  if (b === 32) return atEdge ? '\\s' : ' ';
  if (b > 32 && b < 127) return String.fromCharCode(b);
  return `\\x${b.toString(16).padStart(2, '0')}`;
}
