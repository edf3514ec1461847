// Job bodies carry what a worker needs to account for the job without asking anyone, whichever
// shard of the run put it: which run put it (a token: drawn when a lone run starts, so jobs of an
// earlier run left in a tube are told apart whatever their ids; shared by every shard of a
// sharded run, see shard.ts), when the job was due (its intended put time plus its delay, in
// microseconds since the Unix epoch, so that a shard started at another moment, or on another
// machine with a synchronised clock, times a sibling's job from the same instant), its metrics
// group (tube and priority class), its priority (for releases after a failure) and its TTR (to
// tell a second delivery within the TTR from a re-run after it). ASCII, so a human peeking at a
// job sees `beanlab 81234 1767225600123456 0 1024 60`, padded with dots to the body size.
import type { RunClock } from './clock.js';

const MAGIC = 'beanlab ';
const MAGIC_BYTES = Buffer.from(MAGIC, 'ascii');
const PAD = 0x2e; // '.'
const SPACE = 0x20;
const NEWLINE = 0x0a;
const FIELDS = 5;

/** A body's header as it travels. */
export interface WireFields {
  /** The run's token (see newRunToken and shard.ts). */
  run: number;
  /** When the job was due, microseconds since the Unix epoch. */
  dueEpochUs: number;
  group: number;
  pri: number;
  ttrSeconds: number;
}

/** A body's header as a worker of this run uses it: the due time on this run's clock. */
export interface BodyFields {
  run: number;
  /** On this process's run clock: negative for a job a sibling put before this shard started. */
  dueUs: number;
  group: number;
  pri: number;
  ttrSeconds: number;
}

/** A run's token: a positive integer below 2^31, drawn once per run. */
export function newRunToken(): number {
  return 1 + Math.floor(Math.random() * 0x7ffffffe);
}

/** The body is at least as long as its header, even when the scenario asks for fewer bytes. */
export function encodeBody(fields: WireFields, bodyBytes: number): Buffer {
  const header = `${MAGIC}${fields.run} ${Math.round(fields.dueEpochUs)} ${fields.group} ${fields.pri} ${fields.ttrSeconds}\n`;
  const body = Buffer.allocUnsafe(Math.max(header.length, bodyBytes));
  body.write(header, 0, 'ascii');
  body.fill(PAD, header.length);
  return body;
}

/** The header's fields, or undefined for a body beanlab did not write. */
export function decodeBody(body: Uint8Array): WireFields | undefined {
  if (body.length < MAGIC_BYTES.length) return undefined;
  for (let i = 0; i < MAGIC_BYTES.length; i++) if (body[i] !== MAGIC_BYTES[i]) return undefined;
  const fields = [0, 0, 0, 0, 0];
  let field = 0;
  let digits = 0;
  for (let i = MAGIC_BYTES.length; i < body.length; i++) {
    const byte = body[i];
    if (byte === SPACE || byte === NEWLINE) {
      if (digits === 0) return undefined;
      if (byte === NEWLINE) {
        return field === FIELDS - 1 ? { run: fields[0], dueEpochUs: fields[1], group: fields[2], pri: fields[3], ttrSeconds: fields[4] } : undefined;
      }
      field += 1;
      digits = 0;
      if (field >= FIELDS) return undefined;
      continue;
    }
    if (byte < 0x30 || byte > 0x39) return undefined;
    fields[field] = fields[field] * 10 + (byte - 0x30);
    digits += 1;
  }
  return undefined;
}

/** One run's bodies: its token, and due times converted between its clock and the epoch. */
export class RunBodies {
  constructor(
    readonly token: number,
    private readonly clock: RunClock,
  ) {}

  encode(dueUs: number, group: number, pri: number, ttrSeconds: number, bodyBytes: number): Buffer {
    return encodeBody({ run: this.token, dueEpochUs: this.clock.epochUs(dueUs), group, pri, ttrSeconds }, bodyBytes);
  }

  decode(body: Uint8Array): BodyFields | undefined {
    const wire = decodeBody(body);
    if (wire === undefined) return undefined;
    return { run: wire.run, dueUs: this.clock.runUs(wire.dueEpochUs), group: wire.group, pri: wire.pri, ttrSeconds: wire.ttrSeconds };
  }
}
