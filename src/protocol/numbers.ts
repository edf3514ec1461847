// beanstalkd's number readers, reproduced on the decoded command line (one char per byte).
// Three different parsers exist in the server and each is reachable from the wire, so each is
// copied exactly rather than unified (docs/semantics.md a.0/6, a.11, f):
//   readU32 / readU64  strict read_u32 / read_u64 (every id, pri, delay, ttr, bytes, pause delay)
//   readKickBound      C strtoul then a cast to unsigned int (kick)
//   readStrtolInt      C strtol then a cast to int (reserve-with-timeout in 1.12)
// Each reader writes its result into a caller-owned NumberOut and returns false on the input
// beanstalkd answers with BAD_FORMAT; this keeps the hot path free of per-number allocations.

export interface NumberOut {
  value: number;
  /** Index just after the last character consumed. */
  end: number;
}

const SPACE = 32;
const DIGIT_0 = 48;
const DIGIT_9 = 57;
const PLUS = 43;
const MINUS = 45;
const TWO_POW_32 = 4294967296;
const UINT32_MAX = 4294967295;
const UINT64_MAX_DIGITS = '18446744073709551615';
/** strtol's LONG_MAX / -LONG_MIN on the 64-bit Linux servers the semantics were probed on. */
const LONG_MAX_DIGITS = '9223372036854775807';
const LONG_MIN_MAGNITUDE_DIGITS = '9223372036854775808';

function isDigit(code: number): boolean {
  return code >= DIGIT_0 && code <= DIGIT_9;
}

/** C isspace in the "C" locale. The line never holds a CR (it ends at the first one), but LF can. */
function isCSpace(code: number): boolean {
  return code === SPACE || (code >= 9 && code <= 13);
}

/** True when the decimal digit run s[from, to) (no sign) is numerically above `limitDigits`. */
function digitsExceed(s: string, from: number, to: number, limitDigits: string): boolean {
  let first = from;
  while (first < to && s.charCodeAt(first) === DIGIT_0) first++;
  const significant = to - first;
  if (significant !== limitDigits.length) return significant > limitDigits.length;
  return s.slice(first, to) > limitDigits;
}

/** read_u32: spaces, then at least one digit; the value must fit 0..2^32-1. */
export function readU32(s: string, start: number, out: NumberOut): boolean {
  let i = start;
  while (s.charCodeAt(i) === SPACE) i++;
  let code = s.charCodeAt(i);
  if (!isDigit(code)) return false;
  let value = 0;
  do {
    value = value * 10 + (code - DIGIT_0);
    if (value > UINT32_MAX) return false;
    code = s.charCodeAt(++i);
  } while (isDigit(code));
  out.value = value;
  out.end = i;
  return true;
}

/**
 * read_u64: like readU32 with the range 0..2^64-1. Values above 2^53 become
 * Number.MAX_SAFE_INTEGER: as job ids they can only be NOT_FOUND (see JobId in types.ts).
 */
export function readU64(s: string, start: number, out: NumberOut): boolean {
  let i = start;
  while (s.charCodeAt(i) === SPACE) i++;
  const digitsStart = i;
  let code = s.charCodeAt(i);
  if (!isDigit(code)) return false;
  // Accumulating in a double is exact below 2^53, and once past it stays past it.
  let value = 0;
  do {
    value = value * 10 + (code - DIGIT_0);
    code = s.charCodeAt(++i);
  } while (isDigit(code));
  if (value > Number.MAX_SAFE_INTEGER) {
    if (digitsExceed(s, digitsStart, i, UINT64_MAX_DIGITS)) return false;
    value = Number.MAX_SAFE_INTEGER;
  }
  out.value = value;
  out.end = i;
  return true;
}

interface SignedDigits {
  negative: boolean;
  digitsStart: number;
  digitsEnd: number;
  /** The magnitude modulo 2^32 (all the int / unsigned int casts keep). */
  low32: number;
}

/** The common front of strtol / strtoul: whitespace, an optional sign, a digit run (maybe empty). */
function scanSignedDigits(s: string, start: number): SignedDigits {
  let i = start;
  while (isCSpace(s.charCodeAt(i))) i++;
  let negative = false;
  const sign = s.charCodeAt(i);
  if (sign === PLUS || sign === MINUS) {
    negative = sign === MINUS;
    i++;
  }
  const digitsStart = i;
  let low32 = 0;
  let code = s.charCodeAt(i);
  while (isDigit(code)) {
    low32 = (low32 * 10 + (code - DIGIT_0)) % TWO_POW_32;
    code = s.charCodeAt(++i);
  }
  return { negative, digitsStart, digitsEnd: i, low32 };
}

function negateLow32(low32: number): number {
  return (TWO_POW_32 - low32) % TWO_POW_32;
}

/**
 * kick's bound: strtoul(line, &end, 10) cast to unsigned int. No digits → BAD_FORMAT;
 * a magnitude ≥ 2^64 → ERANGE → BAD_FORMAT; a minus sign negates modulo 2^64; trailing
 * characters are ignored. The result is reduced modulo 2^32.
 */
export function readKickBound(s: string, start: number, out: NumberOut): boolean {
  const scan = scanSignedDigits(s, start);
  if (scan.digitsEnd === scan.digitsStart) return false;
  if (digitsExceed(s, scan.digitsStart, scan.digitsEnd, UINT64_MAX_DIGITS)) return false;
  out.value = scan.negative ? negateLow32(scan.low32) : scan.low32;
  out.end = scan.digitsEnd;
  return true;
}

/**
 * 1.12's reserve-with-timeout: strtol(line, &end, 10) cast to int. No digits is not an error
 * (strtol returns 0 and glibc leaves errno alone); only overflow of a signed 64-bit long is.
 * The value is the two's-complement int of the low 32 bits, so it may come out negative.
 */
export function readStrtolInt(s: string, start: number, out: NumberOut): boolean {
  const scan = scanSignedDigits(s, start);
  const limit = scan.negative ? LONG_MIN_MAGNITUDE_DIGITS : LONG_MAX_DIGITS;
  if (digitsExceed(s, scan.digitsStart, scan.digitsEnd, limit)) return false;
  const low32 = scan.negative ? negateLow32(scan.low32) : scan.low32;
  out.value = low32 | 0;
  out.end = scan.digitsEnd === scan.digitsStart ? start : scan.digitsEnd;
  return true;
}
