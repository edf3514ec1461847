// Sets of job ids in a result file, compact enough for millions of jobs: the ids sorted, each
// written as its gap from the previous one, runs of consecutive ids as one token, every token
// an unsigned LEB128 varint, and the bytes in base64. Shards of one run interleave their ids
// on a shared server (shard 0 gets 101, 103, 104, 106 ...), so most gaps fit in one byte; one
// process's ids are mostly consecutive, so a run of a million costs a few bytes. Pure.
//
// Tokens: an even token 2k is a single id k + 1 above the previous one; an odd token 2k + 1 is
// a run of k + 2 ids, each one above the previous (the first one above the previous id).
// The first gap is from -1, so id 0 is representable.

/** Encodes a set of non-negative integer ids (any order, duplicates ignored). */
export function encodeIds(ids: Iterable<number>): string {
  const sorted = Float64Array.from(ids).sort();
  const bytes: number[] = [];
  let previous = -1;
  let i = 0;
  while (i < sorted.length) {
    const id = sorted[i];
    if (!Number.isSafeInteger(id) || id < 0) throw new RangeError(`not a job id: ${id}`);
    if (id === previous) {
      i += 1;
      continue;
    }
    const gap = id - previous;
    // How many of the following ids continue a run of consecutive ids (duplicates skipped).
    let run = 0;
    let j = i + 1;
    let last = id;
    while (j < sorted.length && (sorted[j] === last || sorted[j] === last + 1)) {
      if (sorted[j] === last + 1) {
        run += 1;
        last += 1;
      }
      j += 1;
    }
    if (gap === 1 && run >= 1) {
      // id and the `run` after it are consecutive, starting right after previous: one odd token.
      writeVarint(bytes, 2 * (run + 1 - 2) + 1);
      previous = last;
      i = j;
    } else {
      writeVarint(bytes, 2 * (gap - 1));
      previous = id;
      i += 1;
    }
  }
  return Buffer.from(bytes).toString('base64');
}

/** The ids of encodeIds, ascending. Throws on text encodeIds did not write. */
export function decodeIds(text: string): number[] {
  const bytes = Buffer.from(text, 'base64');
  const ids: number[] = [];
  let previous = -1;
  let at = 0;
  while (at < bytes.length) {
    let token = 0;
    let scale = 1;
    for (;;) {
      if (at >= bytes.length) throw new RangeError('truncated id list');
      const byte = bytes[at++];
      token += (byte & 0x7f) * scale;
      if (byte < 0x80) break;
      scale *= 128;
      if (scale > 2 ** 56) throw new RangeError('id list token too long');
    }
    if (token % 2 === 0) {
      previous += token / 2 + 1;
      ids.push(previous);
    } else {
      const count = (token - 1) / 2 + 2;
      for (let k = 0; k < count; k++) ids.push(++previous);
    }
  }
  return ids;
}

/** How many ids an encoded list holds, without building the array. */
export function countIds(text: string): number {
  let n = 0;
  const bytes = Buffer.from(text, 'base64');
  let token = 0;
  let scale = 1;
  for (const byte of bytes) {
    token += (byte & 0x7f) * scale;
    if (byte >= 0x80) {
      scale *= 128;
      continue;
    }
    n += token % 2 === 0 ? 1 : (token - 1) / 2 + 2;
    token = 0;
    scale = 1;
  }
  return n;
}

function writeVarint(bytes: number[], value: number): void {
  let v = value;
  while (v >= 0x80) {
    bytes.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
}
