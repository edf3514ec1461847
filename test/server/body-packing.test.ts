// The embedded server's model keeps small bodies as one-byte strings (issue 13, item 6): every
// byte value survives, replies carry the same bytes as an unpacked model's, and a held job
// costs what the packing promises.
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { createModel, type Output } from '../../src/model/index.js';
import { RequestParser } from '../../src/protocol/parser.js';
import { smallBodiesAsStrings } from '../../src/server/body-packing.js';
import { LARGE_BODY_BYTES } from '../../src/server/engine.js';

function replyBody(outputs: Output[]): string {
  const first = outputs[0];
  if (!first || !('reply' in first) || !('body' in first.reply)) throw new Error(`no body in ${JSON.stringify(outputs)}`);
  return Buffer.from(first.reply.body).toString('hex');
}

describe('small bodies as one-byte strings', () => {
  it('keep every byte value, and leave bodies of LARGE_BODY_BYTES or more as arrays', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const packed = smallBodiesAsStrings.pack(all);
    expect(typeof packed).toBe('string');
    expect(packed).toHaveLength(256);
    expect([...smallBodiesAsStrings.unpack(packed as string)]).toEqual([...all]);
    expect(smallBodiesAsStrings.pack(new Uint8Array(0))).toBe('');
    expect(typeof smallBodiesAsStrings.pack(new Uint8Array(LARGE_BODY_BYTES - 1))).toBe('string');
    const large = new Uint8Array(LARGE_BODY_BYTES);
    expect(smallBodiesAsStrings.pack(large)).toBe(large);
  });

  it('a packing model answers reserve, peek and peek-ready with the bytes an unpacked one does', () => {
    const packedModel = createModel({ startUs: 0, bodyPacking: smallBodiesAsStrings });
    const plainModel = createModel({ startUs: 0 });
    const conns = [packedModel.connect(0), plainModel.connect(0)];
    const models = [packedModel, plainModel];
    for (const size of [0, 1, 2, 100, 255, 1023, 1024, 5000]) {
      const body = Uint8Array.from({ length: size }, (_, i) => (i * 37 + size) % 256);
      const [a, b] = models.map((m, i) => m.apply(conns[i], { kind: 'put', pri: 0, delaySeconds: 0, ttrSeconds: 60, body: new Uint8Array(body) }, 0));
      expect(a).toEqual(b);
      const id = (a[0] as { reply: { id: number } }).reply.id;
      for (const request of [{ kind: 'peek', id }, { kind: 'peek-ready' }, { kind: 'reserve' }] as const) {
        const [pa, pb] = models.map((m, i) => replyBody(m.apply(conns[i], request, 0)));
        expect(pa, `${request.kind} of a ${size}-byte body`).toBe(pb);
        expect(pa).toBe(Buffer.from(body).toString('hex'));
      }
      for (const [i, m] of models.entries()) m.apply(conns[i], { kind: 'delete', id }, 0);
    }
    packedModel.checkInvariants();
  });

  it('a held job with a 100-byte body costs at most 330 bytes of heap, the parser included (was ~390)', () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const JOBS = 100_000;
    const heapBytes = (): number => {
      gc();
      gc();
      const usage = process.memoryUsage();
      return usage.heapUsed + usage.arrayBuffers;
    };
    const before = heapBytes();
    const model = createModel({ startUs: 0, bodyPacking: smallBodiesAsStrings });
    const conn = model.connect(0);
    const parser = new RequestParser({ profile: '1.12', maxJobSize: 65535 });
    const put = Buffer.from(`put 0 0 120 100\r\n${'b'.repeat(100)}\r\n`);
    for (let i = 0; i < JOBS; i++) {
      // A chunk of its own each time, as sockets deliver them.
      parser.push(Buffer.from(put));
      model.apply(conn, parser.next()!, i);
    }
    const perJob = (heapBytes() - before) / JOBS;
    expect(model.jobCount()).toBe(JOBS);
    expect(perJob).toBeLessThan(330);
  });
});
