// Isolates a transcript case on a server other clients share (a plain host:port target): every
// tube name the case uses, `default` included, is prefixed with the case's own namespace, in the
// command lines it sends and in the replies it expects. Pure: bytes and expectations in and out.
// Cases whose meaning a prefix would change (global stats, list-tubes, exact name lengths) are
// detected here and skipped on shared targets.
import { randomInt } from 'node:crypto';
import type { Expectation, MapValue, Template, TranscriptCase } from './transcript.js';

/** beanstalkd's longest tube name (MAX_TUBE_NAME_LEN - 1). */
export const MAX_TUBE_NAME_BYTES = 200;
const NAME_CHARS_RUN = /^[A-Za-z0-9\-+/;.$_()]*/;

const BASE36 = 36;
const RUN_PART_CHARS = 6;
const CASE_PART_CHARS = 4;
/** Every namespace prefix has this length (`bl` + run part + case part + `_`), so whether a name still fits is known before the run. */
export const NAMESPACE_PREFIX_BYTES = 2 + RUN_PART_CHARS + CASE_PART_CHARS + 1;

/** A random part shared by every case of one run (`bl` + 6 base-36 digits). */
export function randomRunPrefix(): string {
  let part = '';
  for (let i = 0; i < RUN_PART_CHARS; i++) part += randomInt(BASE36).toString(BASE36);
  return `bl${part}`;
}

/** The namespace of case number `caseIndex` in the run `runPrefix`: `blk3x9q10007_`. */
export function casePrefix(runPrefix: string, caseIndex: number): string {
  const counter = (caseIndex % BASE36 ** CASE_PART_CHARS).toString(BASE36).padStart(CASE_PART_CHARS, '0');
  return `${runPrefix}${counter}_`;
}

/** beanstalkd's name_is_ok: 1..200 name characters, not starting with `-`. */
export function isValidTubeName(name: string): boolean {
  return (
    name.length > 0 && name.length <= MAX_TUBE_NAME_BYTES && !name.startsWith('-') && NAME_CHARS_RUN.exec(name)![0] === name
  );
}

/** Commands whose whole argument is a tube name (`use NAME`: beanstalkd takes the rest of the line). */
const WHOLE_ARGUMENT = /^(use|watch|ignore|stats-tube) (.*)$/s;
/** pause-tube skips spaces after the keyword (none needed) and reads a run of name characters (semantics a.0/5). */
const PAUSE_TUBE = /^(pause-tube *)(.*)$/s;
const PUT = /^put \d+ \d+ \d+ (\d+)$/;
/**
 * Commands that reach any client's job by id, in the only form the server accepts. (bury,
 * release and touch reach only jobs the same connection reserved, so a literal id there is safe.)
 */
const LITERAL_ID = /^(?:peek|delete|kick-job|stats-job|reserve-job) (\d+)$/;
const MAX_JOB_ID = 2n ** 64n - 1n;

/** A case's namespace: maps tube names into it and back. */
export class TubeNamespace {
  constructor(readonly prefix: string) {}

  tube(name: string): string {
    return this.prefix + name;
  }

  /** What every connection sends first, so that its `default` is the private `<ns>default`. */
  setupBytes(): Buffer {
    const own = this.tube('default');
    return Buffer.from(`use ${own}\r\nwatch ${own}\r\nignore default\r\n`, 'latin1');
  }

  /** The replies to setupBytes, in order. */
  setupReplies(): string[] {
    return [`USING ${this.tube('default')}\r\n`, 'WATCHING 2\r\n', 'WATCHING 1\r\n'];
  }

  /** The bytes of one send with the tube names of its complete command lines mapped. */
  mapSend(bytes: Buffer): Buffer {
    return Buffer.from(mapCommandLines(bytes.toString('latin1'), (name) => this.tube(name)), 'latin1');
  }

  mapExpectation(expect: Expectation): Expectation {
    switch (expect.kind) {
      case 'exact': {
        const text = literalText(expect.template);
        const using = text === undefined ? undefined : /^USING (.*)$/s.exec(text);
        if (!using || !isValidTubeName(using[1])) return expect;
        return { kind: 'exact', template: literal(`USING ${this.tube(using[1])}`) };
      }
      case 'map':
        return {
          kind: 'map',
          fields: expect.fields.map(({ key, value }) => ({
            key,
            value: key === 'name' || key === 'tube' ? this.mapValue(value) : value,
          })),
        };
      case 'set':
        return { kind: 'set', items: expect.items.map((item) => (isValidTubeName(item) ? this.tube(item) : item)) };
      case 'closed':
      case 'keys':
        return expect;
    }
  }

  /** Server text with the namespace taken out, so messages read as the case was written. */
  unmap(text: string): string {
    return text.split(this.prefix).join('');
  }

  private mapValue(value: MapValue): MapValue {
    const text = 'template' in value ? literalText(value.template) : undefined;
    return text !== undefined && isValidTubeName(text) ? { template: literal(this.tube(text)) } : value;
  }
}

/**
 * Why `c` cannot run isolated in a namespace on a shared server, or undefined when it can.
 * Exact: it looks at the command lines the case sends.
 */
export function sharedSkipReason(c: TranscriptCase): string | undefined {
  for (const step of c.steps) {
    if (step.kind !== 'send') continue;
    // Variables are job ids the case was given; `$` (not a digit) stands for them here.
    const text = Buffer.concat(step.bytes.map((p) => ('bytes' in p ? p.bytes : Buffer.from('$')))).toString('latin1');
    let reason: string | undefined;
    mapCommandLines(text, (name) => {
      if (name.length + NAMESPACE_PREFIX_BYTES > MAX_TUBE_NAME_BYTES) {
        reason ??= `uses a ${name.length}-byte tube name, too long to isolate in a namespace on a shared server`;
      }
      return name;
    }, (line) => {
      if (line === 'stats') reason ??= 'compares global stats, which other clients of a shared server change';
      if (line === 'list-tubes') reason ??= 'lists every tube, which other clients of a shared server create';
      if (actsOnLiteralId(line)) reason ??= 'names a job by a literal id, which on a shared server may be another client\'s job';
    });
    if (reason) return reason;
  }
  return undefined;
}

/**
 * Applies `mapName` to the tube name of each complete command line (ended by CR LF) in `text`,
 * skipping put bodies; `onLine` sees every complete command line. Names that are not valid
 * tube names are left alone: the server rejects them whatever the prefix.
 */
function mapCommandLines(text: string, mapName: (name: string) => string, onLine?: (line: string) => void): string {
  let out = '';
  let at = 0;
  for (;;) {
    const end = text.indexOf('\r\n', at);
    if (end < 0) return out + text.slice(at);
    const line = text.slice(at, end);
    onLine?.(line);
    out += mapLine(line, mapName) + '\r\n';
    at = end + 2;
    const put = PUT.exec(line);
    if (put) {
      const bodyEnd = Math.min(text.length, at + Number(put[1]) + 2);
      out += text.slice(at, bodyEnd);
      at = bodyEnd;
    }
  }
}

/** Whether the line would find or change another client's job if it existed (ids are 1 .. 2^64-1). */
function actsOnLiteralId(line: string): boolean {
  const m = LITERAL_ID.exec(line);
  if (!m) return false;
  const id = BigInt(m[1]);
  return id >= 1n && id <= MAX_JOB_ID;
}

function mapLine(line: string, mapName: (name: string) => string): string {
  const whole = WHOLE_ARGUMENT.exec(line);
  if (whole) return isValidTubeName(whole[2]) ? `${whole[1]} ${mapName(whole[2])}` : line;
  const pause = PAUSE_TUBE.exec(line);
  if (pause) {
    const name = NAME_CHARS_RUN.exec(pause[2])![0];
    if (!isValidTubeName(name)) return line;
    return pause[1] + mapName(name) + pause[2].slice(name.length);
  }
  return line;
}

function literalText(template: Template): string | undefined {
  if (!template.every((p) => 'bytes' in p)) return undefined;
  return Buffer.concat(template.map((p) => ('bytes' in p ? p.bytes : Buffer.alloc(0)))).toString('latin1');
}

function literal(text: string): Template {
  return [{ bytes: Buffer.from(text, 'latin1') }];
}
