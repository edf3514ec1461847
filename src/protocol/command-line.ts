// One command line (the bytes before CR LF, decoded one char per byte) → what beanstalkd's
// dispatch_cmd makes of it. Recognition, argument checks and which errors still count follow
// prot.c (1.12 / 1.13) and docs/semantics.md a.0 - a.16. The byte framing lives in parser.ts.
import { readKickBound, readStrtolInt, readU32, readU64, type NumberOut } from './numbers.js';
import { isValidTubeName, type Profile, type Request } from './types.js';

/** A well-formed put line: the parser must now read `bytes` + 2 body bytes. */
export interface PutHeader {
  kind: 'put-header';
  pri: number;
  delaySeconds: number;
  ttrSeconds: number;
  bytes: number;
}

/** A put line declaring more than max-job-size: the parser discards `bytes` + 2 bytes. */
export interface PutSkip {
  kind: 'put-skip';
  bytes: number;
}

export type LineOutcome = Request | PutHeader | PutSkip;

// Error requests carry no per-line data, so one frozen instance of each is shared.
const BAD_FORMAT: Request = Object.freeze({ kind: 'error', reply: 'BAD_FORMAT' });
const UNKNOWN_COMMAND: Request = Object.freeze({ kind: 'error', reply: 'UNKNOWN_COMMAND' });
const PUT_TRAILING_GARBAGE: Request = Object.freeze({ kind: 'error', reply: 'BAD_FORMAT', counts: 'put' });
const PAUSE_BAD_NAME: Request = Object.freeze({ kind: 'error', reply: 'BAD_FORMAT', counts: 'pause-tube' });

/** NAME_CHARS of prot.c, indexed by char code: pause-tube reads a run of these. */
const NAME_CHAR = new Uint8Array(128);
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-+/;.$_()') {
  NAME_CHAR[ch.charCodeAt(0)] = 1;
}

export interface LineContext {
  profile: Profile;
  maxJobSize: number;
}

// Reused across calls: parsing is synchronous and never re-entered.
const num: NumberOut = { value: 0, end: 0 };

/** Interprets one complete command line. */
export function interpretLine(line: string, ctx: LineContext): LineOutcome {
  // beanstalkd NUL-terminates the line and compares strlen with the line length.
  if (line.indexOf('\0') !== -1) return BAD_FORMAT;
  // Prefixes are tested in which_cmd's order; grouping by first letter keeps that order
  // within each group, and prefixes with different first letters cannot both match.
  switch (line.charCodeAt(0)) {
    case 0x70: // p
      if (line.startsWith('put ')) return put(line, ctx.maxJobSize);
      if (line.startsWith('peek ')) return withId(line, 5, 'peek');
      if (line.startsWith('peek-ready')) return exact(line, 'peek-ready');
      if (line.startsWith('peek-delayed')) return exact(line, 'peek-delayed');
      if (line.startsWith('peek-buried')) return exact(line, 'peek-buried');
      if (line.startsWith('pause-tube')) return pauseTube(line);
      return UNKNOWN_COMMAND;
    case 0x72: // r
      if (line.startsWith('reserve-with-timeout ')) return reserveWithTimeout(line, ctx.profile);
      if (line.startsWith('reserve-job ')) return withId(line, 12, 'reserve-job');
      if (line.startsWith('reserve')) return exact(line, 'reserve');
      if (line.startsWith('release ')) return release(line);
      return UNKNOWN_COMMAND;
    case 0x64: // d
      return line.startsWith('delete ') ? withId(line, 7, 'delete') : UNKNOWN_COMMAND;
    case 0x62: // b
      return line.startsWith('bury ') ? bury(line) : UNKNOWN_COMMAND;
    case 0x6b: // k
      if (line.startsWith('kick ')) return kick(line);
      if (line.startsWith('kick-job ')) return withId(line, 9, 'kick-job');
      return UNKNOWN_COMMAND;
    case 0x74: // t
      return line.startsWith('touch ') ? withId(line, 6, 'touch') : UNKNOWN_COMMAND;
    case 0x73: // s
      if (line.startsWith('stats-job ')) return withId(line, 10, 'stats-job');
      if (line.startsWith('stats-tube ')) return withTube(line, 11, 'stats-tube');
      if (line.startsWith('stats')) return exact(line, 'stats');
      return UNKNOWN_COMMAND;
    case 0x75: // u
      return line.startsWith('use ') ? withTube(line, 4, 'use') : UNKNOWN_COMMAND;
    case 0x77: // w
      return line.startsWith('watch ') ? withTube(line, 6, 'watch') : UNKNOWN_COMMAND;
    case 0x69: // i
      return line.startsWith('ignore ') ? withTube(line, 7, 'ignore') : UNKNOWN_COMMAND;
    case 0x6c: // l
      if (line.startsWith('list-tubes-watched')) return exact(line, 'list-tubes-watched');
      if (line.startsWith('list-tube-used')) return exact(line, 'list-tube-used');
      if (line.startsWith('list-tubes')) return exact(line, 'list-tubes');
      return UNKNOWN_COMMAND;
    case 0x71: // q
      // A bare prefix in beanstalkd: `quitnow` closes the connection too.
      return line.startsWith('quit') ? { kind: 'quit' } : UNKNOWN_COMMAND;
    default:
      return UNKNOWN_COMMAND;
  }
}

type NoArgKind =
  | 'reserve' | 'peek-ready' | 'peek-delayed' | 'peek-buried' | 'stats'
  | 'list-tubes' | 'list-tube-used' | 'list-tubes-watched';

/** Commands without arguments: the line must be exactly the keyword. */
function exact(line: string, kind: NoArgKind): Request {
  return line.length === kind.length ? { kind } : BAD_FORMAT;
}

type IdKind = 'peek' | 'reserve-job' | 'delete' | 'touch' | 'kick-job' | 'stats-job';

function withId(line: string, argsAt: number, kind: IdKind): Request {
  if (!readU64(line, argsAt, num) || num.end !== line.length) return BAD_FORMAT;
  return { kind, id: num.value };
}

/** use / watch / ignore / stats-tube: the name is everything after the single space. */
function withTube(line: string, argsAt: number, kind: 'use' | 'watch' | 'ignore' | 'stats-tube'): Request {
  const tube = line.slice(argsAt);
  return isValidTubeName(tube) ? { kind, tube } : BAD_FORMAT;
}

/** docs/semantics.md a.1 steps 1-4, in the server's order. */
function put(line: string, maxJobSize: number): LineOutcome {
  if (!readU32(line, 4, num)) return BAD_FORMAT;
  const pri = num.value;
  if (!readU32(line, num.end, num)) return BAD_FORMAT;
  const delaySeconds = num.value;
  if (!readU32(line, num.end, num)) return BAD_FORMAT;
  const ttrSeconds = num.value;
  if (!readU32(line, num.end, num)) return BAD_FORMAT;
  const bytes = num.value;
  // From here on cmd-put has been counted. The size check precedes the trailing-garbage check.
  if (bytes > maxJobSize) return { kind: 'put-skip', bytes };
  if (num.end !== line.length) return PUT_TRAILING_GARBAGE;
  return { kind: 'put-header', pri, delaySeconds, ttrSeconds, bytes };
}

function release(line: string): Request {
  if (!readU64(line, 8, num)) return BAD_FORMAT;
  const id = num.value;
  if (!readU32(line, num.end, num)) return BAD_FORMAT;
  const pri = num.value;
  if (!readU32(line, num.end, num) || num.end !== line.length) return BAD_FORMAT;
  return { kind: 'release', id, pri, delaySeconds: num.value };
}

function bury(line: string): Request {
  if (!readU64(line, 5, num)) return BAD_FORMAT;
  const id = num.value;
  if (!readU32(line, num.end, num) || num.end !== line.length) return BAD_FORMAT;
  return { kind: 'bury', id, pri: num.value };
}

function kick(line: string): Request {
  return readKickBound(line, 5, num) ? { kind: 'kick', bound: num.value } : BAD_FORMAT;
}

const RESERVE_TIMEOUT_ARGS_AT = 'reserve-with-timeout '.length;
const INT_MAX = 2147483647;

function reserveWithTimeout(line: string, profile: Profile): Request {
  if (profile === '1.12') {
    if (!readStrtolInt(line, RESERVE_TIMEOUT_ARGS_AT, num)) return BAD_FORMAT;
    // A negative int makes beanstalkd wait with no timeout at all.
    return { kind: 'reserve-with-timeout', timeoutSeconds: num.value < 0 ? -1 : num.value };
  }
  // 1.13: read_u32 up to INT_MAX; whatever follows the number is ignored.
  if (!readU32(line, RESERVE_TIMEOUT_ARGS_AT, num) || num.value > INT_MAX) return BAD_FORMAT;
  return { kind: 'reserve-with-timeout', timeoutSeconds: num.value };
}

const PAUSE_ARGS_AT = 'pause-tube'.length;

/** Name and delay must parse before cmd-pause-tube counts; name validity is checked after. */
function pauseTube(line: string): Request {
  let nameStart = PAUSE_ARGS_AT;
  while (line.charCodeAt(nameStart) === 32) nameStart++;
  let nameEnd = nameStart;
  while (nameEnd < line.length && NAME_CHAR[line.charCodeAt(nameEnd)] === 1) nameEnd++;
  if (nameEnd === nameStart) return BAD_FORMAT;
  if (!readU32(line, nameEnd, num) || num.end !== line.length) return BAD_FORMAT;
  const tube = line.slice(nameStart, nameEnd);
  if (!isValidTubeName(tube)) return PAUSE_BAD_NAME;
  return { kind: 'pause-tube', tube, delaySeconds: num.value };
}
