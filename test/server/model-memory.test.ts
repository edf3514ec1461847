// What a held job costs the embedded server (issue 13, item 6). Its model keeps small bodies as
// one-byte strings (every byte value survives, replies carry the same bytes as an unpacked
// model's), and a READY job carries none of the fields only a job out of READY needs (those are
// reused once a job is deleted, and must then start from zero).
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { createModel, type Output } from '../../src/model/index.js';
import { parseStatsYaml } from '../../src/protocol/stats-yaml.js';
import { RequestParser } from '../../src/protocol/parser.js';
import { smallBodiesAsStrings } from '../../src/server/body-packing.js';
import { LARGE_BODY_BYTES } from '../../src/server/engine.js';
import { US_PER_SECOND as SECOND_US } from '../../src/units.js';

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

  it('a held job with a 100-byte body costs at most 290 bytes of heap, the parser included (was ~390)', () => {
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
    // 258 bytes here: a 120-byte string, a ~120-byte Job, its slots in the index and the ready heap.
    expect(perJob).toBeLessThan(290);
  });
});

describe("the fields of a job out of READY, reused after a delete", () => {
  it('start from zero for the next job: counters, deadline, owner and links', () => {
    const model = createModel({ startUs: 0 });
    const a = model.connect(0);
    const b = model.connect(0);
    const stats = (id: number): Record<string, string> => {
      const [out] = model.apply(a, { kind: 'stats-job', id }, 10);
      if (!('reply' in out) || out.reply.kind !== 'OK') throw new Error('no stats');
      return Object.fromEntries(parseStatsYaml(Buffer.from(out.reply.body).toString('latin1')));
    };
    const put = (conn: number, nowUs: number, delaySeconds = 0) => {
      const [out] = model.apply(conn, { kind: 'put', pri: 0, delaySeconds, ttrSeconds: 5, body: new Uint8Array(1) }, nowUs);
      return (out as { reply: { id: number } }).reply.id;
    };
    // Jobs that gather every counter, a deadline, an owner and list links, all held at once,
    // then go: their fields become spares.
    const ids = Array.from({ length: 20 }, () => put(a, 0));
    for (const id of ids) {
      for (const request of [
        { kind: 'reserve-job', id },
        { kind: 'release', id, pri: 0, delaySeconds: 30 },
        { kind: 'reserve-job', id },
        { kind: 'bury', id, pri: 0 },
        { kind: 'kick-job', id },
      ] as const) {
        expect(model.apply(a, request, 0)).toHaveLength(1);
      }
      model.apply(b, { kind: 'reserve-job', id }, 0);
    }
    model.tick(6 * SECOND_US); // every TTR runs out: a timeout each
    for (const id of ids) expect(model.apply(a, { kind: 'delete', id }, 6 * SECOND_US)).toEqual([{ conn: a, reply: { kind: 'DELETED' } }]);
    const nowUs = 7 * SECOND_US;
    const fresh = [put(a, nowUs), put(a, nowUs, 100), put(b, nowUs), put(a, nowUs)];
    model.apply(b, { kind: 'reserve-job', id: fresh[2] }, nowUs);
    model.apply(a, { kind: 'reserve-job', id: fresh[3] }, nowUs);
    model.apply(a, { kind: 'bury', id: fresh[3], pri: 0 }, nowUs);
    expect(stats(fresh[0])).toMatchObject({ state: 'ready', delay: '0', reserves: '0', timeouts: '0', releases: '0', buries: '0', kicks: '0', 'time-left': '0' });
    expect(stats(fresh[1])).toMatchObject({ state: 'delayed', delay: '100', reserves: '0', timeouts: '0', releases: '0', buries: '0', kicks: '0' });
    expect(stats(fresh[2])).toMatchObject({ state: 'reserved', delay: '0', reserves: '1', timeouts: '0', releases: '0', buries: '0', kicks: '0' });
    expect(stats(fresh[3])).toMatchObject({ state: 'buried', delay: '0', reserves: '1', timeouts: '0', releases: '0', buries: '1', kicks: '0' });
    expect(model.job(fresh[0])?.reservedBy).toBeUndefined();
    expect(model.job(fresh[2])?.reservedBy).toBe(b);
    expect(model.apply(a, { kind: 'peek-buried' }, nowUs)).toMatchObject([{ reply: { kind: 'FOUND', id: fresh[3] } }]);
    model.checkInvariants();
  });
});
