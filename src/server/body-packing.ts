// How the embedded server's model keeps job bodies (model BodyPacking). A body under
// LARGE_BODY_BYTES becomes a one-byte string: 16 bytes of header instead of a Uint8Array's
// ~100-byte object, and V8's own compacting heap instead of 16 KiB slabs, which one long-lived
// job among many short-lived ones would otherwise keep alive. RESERVED and FOUND unpack it (a
// copy of a small body). Larger bodies stay arrays, so they are written to sockets as stored.
import type { BodyPacking } from '../model/api.js';
import { LARGE_BODY_BYTES } from './engine.js';

const latin1Slice = Buffer.prototype.latin1Slice as (this: Uint8Array, start: number, end: number) => string;

export const smallBodiesAsStrings: BodyPacking = {
  // latin1 maps each byte to the char of the same code and back: lossless for any bytes.
  pack: (body) => (body.length < LARGE_BODY_BYTES ? latin1Slice.call(body, 0, body.length) : body),
  unpack: (packed) => Buffer.from(packed, 'latin1'),
};
