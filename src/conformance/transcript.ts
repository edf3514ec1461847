// Parser for the transcript corpus format described in corpus/FORMAT.md. Pure: text in, cases
// out; every syntax or consistency error names the file and line, so a corpus author sees it
// before anything runs.
import { PROFILES, type Profile } from '../protocol/types.js';

/** A byte template: literal bytes and job-id variables (`$a`). */
export type Piece = { bytes: Buffer } | { variable: string };
export type Template = readonly Piece[];

export type MapValue = { template: Template } | { lo: number; hi: number };

export type Expectation =
  | { kind: 'exact'; template: Template }
  | { kind: 'map'; fields: ReadonlyArray<{ key: string; value: MapValue }> }
  | { kind: 'set'; items: readonly string[] }
  /** The YAML map has every one of these keys; more keys are an extension (a warning, not a failure). */
  | { kind: 'keys'; keys: readonly string[] }
  | { kind: 'closed' };

interface StepBase {
  /** 1-based line in the corpus file, for messages. */
  line: number;
  /** The step as written, for expected/actual reports. */
  text: string;
  /** Only under this profile (`[1.12] ...`); undefined = every profile. */
  profile?: Profile;
  /** Only on a server with (`[binlog] ...`) or without (`[no-binlog] ...`) a binlog; undefined = both. */
  binlog?: boolean;
}

export type Step = StepBase &
  (
    | { kind: 'send'; conn: string; bytes: Template }
    | { kind: 'expect'; conns: readonly string[]; alias?: string; expect: Expectation }
    | { kind: 'nothing'; conn: string; durationMs: number }
    | { kind: 'shutdown' | 'close' | 'open'; conn: string }
    | { kind: 'sleep'; durationMs: number }
    | { kind: 'signal-usr1' }
    | { kind: 'restart' }
  );

export interface ServerOptions {
  maxJobSize?: number;
  /** A binlog directory (beanstalkd -b): jobs survive a `restart` step. */
  binlog?: boolean;
}

export interface TranscriptCase {
  id: string;
  /** The id without its last component: what the report groups by. */
  section: string;
  rule: string;
  source: string;
  notes: string[];
  server: ServerOptions;
  /** Profiles the case applies to; undefined = all. */
  profiles?: Profile[];
  needsFresh: boolean;
  /** The case checks a server without a binlog (`needs: no-binlog`). */
  needsNoBinlog: boolean;
  /** The case closes a connection and needs the close to reach the server as one (`needs: direct`). */
  needsDirect: boolean;
  needsSignal: boolean;
  steps: Step[];
  file: string;
  line: number;
  /** The case's lines as written, for replay output. */
  sourceText: string;
}

export class TranscriptError extends Error {
  override name = 'TranscriptError';
  constructor(file: string, line: number, message: string) {
    super(`${file}:${line}: ${message}`);
  }
}

const CASE_ID = /^[a-z0-9][a-z0-9-]*(\/[a-z0-9][a-z0-9-]*)+$/;
const NAME = '[A-Za-z][A-Za-z0-9_]*';
const STEP_LINE = new RegExp(
  `^(?:\\[(${PROFILES.map((p) => p.replace('.', '\\.')).join('|')})\\]\\s+)?` +
    `(?:\\[(binlog|no-binlog)\\]\\s+)?` +
    `(?:(${NAME})=)?(${NAME}(?:\\|${NAME})*)(>>|>|<|!)(?: (.*))?$`,
);
const VARIABLE = /^[A-Za-z][A-Za-z0-9_]*/;

/** Parses one corpus file. `file` is only used in messages and results. */
export function parseTranscript(text: string, file: string): TranscriptCase[] {
  const lines = text.split(/\r?\n/);
  const cases: TranscriptCase[] = [];
  let current: TranscriptCase | undefined;
  let caseLines: string[] = [];
  const finish = () => {
    if (!current) return;
    current.sourceText = caseLines.join('\n').trimEnd();
    validateCase(current);
    cases.push(current);
  };
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const fail = (message: string): never => {
      throw new TranscriptError(file, lineNo, message);
    };
    if (raw.startsWith('case ')) {
      finish();
      const id = raw.slice(5).trim();
      if (!CASE_ID.test(id)) fail(`bad case id "${id}" (want area/command/what, lower case)`);
      current = {
        id,
        section: id.slice(0, id.lastIndexOf('/')),
        rule: '',
        source: '',
        notes: [],
        server: {},
        needsFresh: false,
        needsNoBinlog: false,
        needsDirect: false,
        needsSignal: false,
        steps: [],
        file,
        line: lineNo,
        sourceText: '',
      };
      caseLines = [raw];
      return;
    }
    if (current) caseLines.push(raw);
    const line = raw.trimEnd();
    if (line === '' || line.startsWith('#')) return;
    if (!current) return fail('text before the first "case" line');
    const header = /^(rule|source|note|server|profiles|needs):\s*(.*)$/.exec(line);
    if (header) {
      if (current.steps.length > 0) fail(`header "${header[1]}:" after the first step`);
      applyHeader(current, header[1], header[2], fail);
      return;
    }
    current.steps.push(parseStep(line, lineNo, fail));
    if (current.steps.at(-1)!.kind === 'signal-usr1') current.needsSignal = true;
  });
  finish();
  return cases;

  function validateCase(c: TranscriptCase): void {
    const fail = (message: string): never => {
      throw new TranscriptError(file, c.line, `case ${c.id}: ${message}`);
    };
    if (!c.rule) fail('missing "rule:"');
    if (!c.source) fail('missing "source:"');
    if (c.steps.length === 0) fail('no steps');
    // Without a binlog a restart only empties the server; no case needs that.
    if (c.steps.some((step) => step.kind === 'restart') && !c.server.binlog) fail('a "restart" step needs "server: binlog"');
    for (const profile of c.profiles ?? PROFILES) for (const binlog of [false, true]) checkBindings(c, profile, binlog);
  }

  /** Every `$x` sent must be bound by an earlier expectation; aliases must not shadow connections. */
  function checkBindings(c: TranscriptCase, profile: Profile, binlog: boolean): void {
    const bound = new Set<string>();
    const conns = new Set<string>();
    for (const step of c.steps) {
      if (!stepApplies(step, profile, binlog)) continue;
      const fail = (message: string): never => {
        throw new TranscriptError(file, step.line, `${message} (profile ${profile}${binlog ? ', with a binlog' : ''})`);
      };
      if (step.kind === 'send') {
        for (const piece of step.bytes) {
          if ('variable' in piece && !bound.has(piece.variable)) {
            fail(`$${piece.variable} is sent before any reply binds it`);
          }
        }
      }
      if (step.kind === 'expect') {
        for (const v of expectationVariables(step.expect)) bound.add(v);
        if (step.alias) {
          if (conns.has(step.alias)) fail(`alias "${step.alias}" names an existing connection`);
          conns.add(step.alias);
        }
        step.conns.forEach((conn) => conns.add(conn));
      } else if ('conn' in step) {
        conns.add(step.conn);
      }
    }
  }
}

/** Whether a step runs under this profile on a server with or without a binlog (its `[...]` prefixes). */
export function stepApplies(step: Step, profile: Profile, binlog: boolean): boolean {
  return (step.profile === undefined || step.profile === profile) && (step.binlog === undefined || step.binlog === binlog);
}

function expectationVariables(expect: Expectation): string[] {
  const templates: Template[] = [];
  if (expect.kind === 'exact') templates.push(expect.template);
  if (expect.kind === 'map') {
    for (const field of expect.fields) if ('template' in field.value) templates.push(field.value.template);
  }
  return templates.flatMap((t) => t.flatMap((p) => ('variable' in p ? [p.variable] : [])));
}

function applyHeader(c: TranscriptCase, key: string, value: string, fail: (m: string) => never): void {
  switch (key) {
    case 'rule':
      c.rule = c.rule ? `${c.rule} ${value}` : value;
      return;
    case 'source':
      c.source = c.source ? `${c.source}; ${value}` : value;
      return;
    case 'note':
      c.notes.push(value);
      return;
    case 'server': {
      if (value === 'binlog') {
        c.server.binlog = true;
        return;
      }
      const m = /^max-job-size (\d+)$/.exec(value);
      if (!m) return fail(`unknown server option "${value}" (known: max-job-size N, binlog)`);
      c.server.maxJobSize = Number(m[1]);
      return;
    }
    case 'profiles': {
      const listed = value.split(/\s+/).filter(Boolean);
      for (const p of listed) if (!PROFILES.includes(p as Profile)) fail(`unknown profile "${p}"`);
      if (listed.length === 0) fail('empty "profiles:"');
      c.profiles = listed as Profile[];
      return;
    }
    case 'needs':
      if (value === 'fresh') c.needsFresh = true;
      else if (value === 'no-binlog') c.needsNoBinlog = true;
      else if (value === 'direct') c.needsDirect = true;
      else fail(`unknown need "${value}" (known: fresh, no-binlog, direct)`);
      return;
  }
}

function parseStep(line: string, lineNo: number, fail: (m: string) => never): Step {
  const base = { line: lineNo, text: line };
  let m = /^sleep (\d+(?:\.\d+)?)s$/.exec(line);
  if (m) return { ...base, kind: 'sleep', durationMs: Math.round(Number(m[1]) * 1000) };
  if (line === 'signal usr1') return { ...base, kind: 'signal-usr1' };
  if (line === 'restart') return { ...base, kind: 'restart' };
  m = STEP_LINE.exec(line);
  if (!m) return fail(`not a step: "${line}"`);
  const [, profileText, binlogText, alias, connList, op, rest = ''] = m;
  const profile = profileText as Profile | undefined;
  const conns = connList.split('|');
  const withBase = { ...base, profile, ...(binlogText ? { binlog: binlogText === 'binlog' } : {}) };
  const single = (): string => {
    if (conns.length > 1) fail(`"${op}" takes one connection, not ${connList}`);
    if (alias) fail(`an alias (${alias}=) only goes with a reply expectation`);
    return conns[0];
  };
  switch (op) {
    case '>':
      return { ...withBase, kind: 'send', conn: single(), bytes: [...parseText(rest, fail), { bytes: CRLF }] };
    case '>>':
      if (rest === '') fail('">>" with nothing to send');
      return { ...withBase, kind: 'send', conn: single(), bytes: parseText(rest, fail) };
    case '!': {
      const conn = single();
      if (rest !== 'shutdown' && rest !== 'close' && rest !== 'open') {
        return fail(`unknown action "${rest}" (shutdown, close, open)`);
      }
      return { ...withBase, kind: rest, conn };
    }
  }
  // op === '<'
  const nothing = /^nothing (\d+)ms$/.exec(rest);
  if (nothing) return { ...withBase, kind: 'nothing', conn: single(), durationMs: Number(nothing[1]) };
  if (rest === 'closed') return { ...withBase, kind: 'expect', conns: [single()], expect: { kind: 'closed' } };
  let expect: Expectation;
  if (rest.startsWith('map ')) {
    expect = { kind: 'map', fields: parseMapFields(rest.slice(4), fail) };
  } else if (rest.startsWith('keys ')) {
    const keys = rest.slice(5).split(' ').filter(Boolean);
    if (keys.length === 0) fail('empty "keys"');
    expect = { kind: 'keys', keys };
  } else if (rest.startsWith('set ')) {
    const items = rest.slice(4).split(' ').filter(Boolean).map((item) => templateText(parseText(item, fail), fail));
    expect = { kind: 'set', items };
  } else {
    if (!/^[A-Z_]+( |$)/.test(rest)) fail(`expected a reply (upper case), map, keys, set, closed or nothing: "${rest}"`);
    expect = { kind: 'exact', template: parseText(rest, fail) };
  }
  if (alias && conns.length < 2) fail('an alias only makes sense with several connections (w=A|B<)');
  return { ...withBase, kind: 'expect', conns, alias, expect };
}

function parseMapFields(text: string, fail: (m: string) => never): Array<{ key: string; value: MapValue }> {
  const fields = text.split(' ').filter(Boolean).map((pair) => {
    const eq = pair.indexOf('=');
    if (eq <= 0) return fail(`map field "${pair}" is not KEY=VALUE`);
    const key = pair.slice(0, eq);
    const valueText = pair.slice(eq + 1);
    const range = /^(\d+)\.\.(\d+)$/.exec(valueText);
    const value: MapValue = range
      ? { lo: Number(range[1]), hi: Number(range[2]) }
      : { template: parseText(valueText, fail) };
    return { key, value };
  });
  if (fields.length === 0) fail('empty map');
  return fields;
}

const CRLF = Buffer.from('\r\n');

/** Expands escapes, `{x*N}` repetition and `$var` references into a template. */
export function parseText(text: string, fail: (m: string) => never): Template {
  const pieces: Piece[] = [];
  let literal: number[] = [];
  const flush = () => {
    if (literal.length > 0) pieces.push({ bytes: Buffer.from(literal) });
    literal = [];
  };
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '\\') {
      const [bytes, next] = parseEscape(text, i, fail);
      literal.push(...bytes);
      i = next;
    } else if (ch === '$') {
      const name = VARIABLE.exec(text.slice(i + 1));
      if (!name) fail(`"$" not followed by a variable name at column ${i + 1} (write \\$ for a literal)`);
      flush();
      pieces.push({ variable: name![0] });
      i += 1 + name![0].length;
    } else if (ch === '{' && /^\{([^{}*]+)\*(\d+)\}/.test(text.slice(i))) {
      const rep = /^\{([^{}*]+)\*(\d+)\}/.exec(text.slice(i))!;
      const unit = templateBytes(parseText(rep[1], fail), fail);
      const count = Number(rep[2]);
      for (let k = 0; k < count; k++) for (const b of unit) literal.push(b);
      i += rep[0].length;
    } else {
      const codePoint = text.codePointAt(i)!;
      const char = String.fromCodePoint(codePoint);
      literal.push(...Buffer.from(char, 'utf8'));
      i += char.length;
    }
  }
  flush();
  return pieces;
}

function parseEscape(text: string, at: number, fail: (m: string) => never): [number[], number] {
  const code = text[at + 1];
  const simple: Record<string, number> = { r: 13, n: 10, t: 9, '0': 0, '\\': 92, s: 32, $: 36, '{': 123 };
  if (code !== undefined && code in simple) return [[simple[code]], at + 2];
  if (code === 'x') {
    const hex = text.slice(at + 2, at + 4);
    if (!/^[0-9a-fA-F]{2}$/.test(hex)) fail(`bad \\x escape "\\x${hex}"`);
    return [[parseInt(hex, 16)], at + 4];
  }
  return fail(`unknown escape "\\${code ?? ''}"`);
}

/** The bytes of a template that must not contain variables (repetition units, set items). */
function templateBytes(template: Template, fail: (m: string) => never): Buffer {
  const parts = template.map((p) => ('bytes' in p ? p.bytes : fail(`$${p.variable} is not allowed here`)));
  return Buffer.concat(parts);
}

function templateText(template: Template, fail: (m: string) => never): string {
  return templateBytes(template, fail).toString('latin1');
}
