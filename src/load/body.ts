// Job bodies carry what a worker needs to time the job without asking anyone: which run put it
// (a token drawn when the run starts, so jobs of an earlier run left in a tube are told apart
// whatever their ids), when the job was due (its intended put time plus its delay, in run-clock
// microseconds), its metrics group (tube and priority class) and its priority (for releases
// after a failure). ASCII, so a human peeking at a job sees `beanlab 81234 1234567 0 1024`,
// padded with dots to the scenario's body size.
const MAGIC = 'beanlab ';
const MAGIC_BYTES = Buffer.from(MAGIC, 'ascii');
const PAD = 0x2e; // '.'
const SPACE = 0x20;
const NEWLINE = 0x0a;
const FIELDS = 4;

export interface BodyFields {
  /** The run's token (see newRunToken). */
  run: number;
  dueUs: number;
  group: number;
  pri: number;
}

/** A run's token: a positive integer below 2^31, drawn once per run. */
export function newRunToken(): number {
  return 1 + Math.floor(Math.random() * 0x7ffffffe);
}

/** The body is at least as long as its header, even when the scenario asks for fewer bytes. */
export function encodeBody(fields: BodyFields, bodyBytes: number): Buffer {
  const header = `${MAGIC}${fields.run} ${Math.round(fields.dueUs)} ${fields.group} ${fields.pri}\n`;
  const body = Buffer.allocUnsafe(Math.max(header.length, bodyBytes));
  body.write(header, 0, 'ascii');
  body.fill(PAD, header.length);
  return body;
}

/** The header's fields, or undefined for a body beanlab did not write. */
export function decodeBody(body: Uint8Array): BodyFields | undefined {
  if (body.length < MAGIC_BYTES.length) return undefined;
  for (let i = 0; i < MAGIC_BYTES.length; i++) if (body[i] !== MAGIC_BYTES[i]) return undefined;
  const fields = [0, 0, 0, 0];
  let field = 0;
  let digits = 0;
  for (let i = MAGIC_BYTES.length; i < body.length; i++) {
    const byte = body[i];
    if (byte === SPACE || byte === NEWLINE) {
      if (digits === 0) return undefined;
      if (byte === NEWLINE) return field === FIELDS - 1 ? { run: fields[0], dueUs: fields[1], group: fields[2], pri: fields[3] } : undefined;
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
