// Shared helpers for the protocol tests.
import { RequestParser } from '../../src/protocol/parser.js';
import type { Profile, Request } from '../../src/protocol/types.js';

export interface FeedOptions {
  profile?: Profile;
  maxJobSize?: number;
}

export function bytes(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}

/** Every request the parser yields for `input` (fed whole, or in the given chunks). */
export function parseAll(input: string | Uint8Array | readonly Uint8Array[], opts: FeedOptions = {}): Request[] {
  const parser = new RequestParser({ profile: opts.profile ?? '1.12', maxJobSize: opts.maxJobSize ?? 65535 });
  const chunks = typeof input === 'string' ? [bytes(input)] : input instanceof Uint8Array ? [input] : input;
  const out: Request[] = [];
  for (const chunk of chunks) {
    parser.push(chunk);
    for (let r = parser.next(); r !== undefined; r = parser.next()) out.push(r);
  }
  return out;
}

/** The seed for a randomised test: FC_SEED reproduces a run; it is always printed. */
export function testSeed(name: string): number {
  const fromEnv = process.env.FC_SEED;
  const seed = fromEnv !== undefined ? Number(fromEnv) : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
  console.log(`[${name}] seed=${seed} (rerun with FC_SEED=${seed})`);
  return seed;
}

/** Requests that only mark a put whose body had not all arrived when its line was parsed. */
export function isBegin(request: Request): boolean {
  return request.kind === 'put-begin' || request.kind === 'put-too-big-begin';
}

/**
 * The requests without the begin markers: these depend only on the byte stream, while where
 * a begin appears depends on how the stream was cut into chunks.
 */
export function completed(requests: readonly Request[]): Request[] {
  return requests.filter((r) => !isBegin(r));
}

export const BAD_FORMAT: Request = { kind: 'error', reply: 'BAD_FORMAT' };
export const UNKNOWN_COMMAND: Request = { kind: 'error', reply: 'UNKNOWN_COMMAND' };
