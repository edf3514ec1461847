// Throughput of the protocol layer: `npx tsx bench/protocol.ts`.
// Target (architecture brief): at least 1,000,000 small commands per second through
// RequestParser, fed in 64 KiB chunks as a socket would deliver them.
import { encodeCommand, encodeReply } from '../src/protocol/encode.js';
import { RequestParser } from '../src/protocol/parser.js';
import { ReplyParser } from '../src/protocol/reply-parser.js';
import type { Command, Reply } from '../src/protocol/types.js';

const CHUNK_BYTES = 64 * 1024;
const ROUNDS = 5;

/** A realistic worker / producer mix with small bodies. */
const COMMAND_MIX: Command[] = [
  { kind: 'put', pri: 1024, delaySeconds: 0, ttrSeconds: 60, body: Buffer.from('{"job":12345,"x":"abcdefgh"}') },
  { kind: 'reserve-with-timeout', timeoutSeconds: 5 },
  { kind: 'delete', id: 123456 },
  { kind: 'use', tube: 'emails' },
  { kind: 'release', id: 98765, pri: 10, delaySeconds: 0 },
  { kind: 'touch', id: 42 },
  { kind: 'stats-job', id: 7 },
  { kind: 'list-tube-used' },
];

const REPLY_MIX: Reply[] = [
  { kind: 'INSERTED', id: 123456 },
  { kind: 'RESERVED', id: 123456, body: Buffer.from('{"job":12345,"x":"abcdefgh"}') },
  { kind: 'DELETED' },
  { kind: 'USING', tube: 'emails' },
  { kind: 'RELEASED' },
  { kind: 'TOUCHED' },
  { kind: 'NOT_FOUND' },
];

function chunked(message: readonly Buffer[], copies: number): { chunks: Buffer[]; count: number } {
  const whole = Buffer.concat(Array.from({ length: copies }, () => message).flat());
  const chunks: Buffer[] = [];
  for (let at = 0; at < whole.length; at += CHUNK_BYTES) chunks.push(whole.subarray(at, at + CHUNK_BYTES));
  return { chunks, count: message.length * copies };
}

function benchRequests(): number {
  const { chunks, count } = chunked(COMMAND_MIX.map(encodeCommand), 250_000);
  let best = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const parser = new RequestParser({ profile: '1.13', maxJobSize: 65535 });
    let parsed = 0;
    const startNs = process.hrtime.bigint();
    for (const chunk of chunks) {
      parser.push(chunk);
      // A put split across chunks also yields a put-begin first; count each command once.
      for (let r = parser.next(); r !== undefined; r = parser.next()) {
        if (r.kind !== 'put-begin' && r.kind !== 'put-too-big-begin') parsed++;
      }
    }
    const seconds = Number(process.hrtime.bigint() - startNs) / 1e9;
    if (parsed !== count) throw new Error(`parsed ${parsed} of ${count} requests`);
    best = Math.max(best, parsed / seconds);
  }
  return best;
}

function benchReplies(): number {
  const { chunks, count } = chunked(REPLY_MIX.map(encodeReply), 250_000);
  let best = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const parser = new ReplyParser();
    let parsed = 0;
    const startNs = process.hrtime.bigint();
    for (const chunk of chunks) {
      parser.push(chunk);
      while (parser.next() !== undefined) parsed++;
    }
    const seconds = Number(process.hrtime.bigint() - startNs) / 1e9;
    if (parsed !== count) throw new Error(`parsed ${parsed} of ${count} replies`);
    best = Math.max(best, parsed / seconds);
  }
  return best;
}

function benchEncode(): number {
  const total = 1_000_000;
  let best = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const startNs = process.hrtime.bigint();
    let bytes = 0;
    for (let i = 0; i < total; i++) bytes += encodeReply(REPLY_MIX[i % REPLY_MIX.length]).length;
    const seconds = Number(process.hrtime.bigint() - startNs) / 1e9;
    if (bytes === 0) throw new Error('nothing encoded');
    best = Math.max(best, total / seconds);
  }
  return best;
}

const fmt = (perSecond: number): string => `${Math.round(perSecond).toLocaleString('en-US')}/s`;
const requestsPerSecond = benchRequests();
console.log(`RequestParser  ${fmt(requestsPerSecond)} (best of ${ROUNDS}, 64 KiB chunks)`);
console.log(`ReplyParser    ${fmt(benchReplies())}`);
console.log(`encodeReply    ${fmt(benchEncode())}`);
if (requestsPerSecond < 1_000_000) {
  console.log('BELOW TARGET: RequestParser under 1,000,000 commands/s');
  process.exitCode = 1;
}
