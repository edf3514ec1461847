import { describe, expect, it } from 'vitest';
import { VirtualServer } from '../../src/target/virtual.js';

const text = (bytes: Buffer) => bytes.toString('latin1');

describe('VirtualServer', () => {
  it('answers at once and fires timed events when virtual time passes, in order', () => {
    const server = new VirtualServer({ profile: '1.12' });
    const a = server.connect();
    const b = server.connect();
    a.send(Buffer.from('reserve-with-timeout 2\r\n'));
    b.send(Buffer.from('put 0 1 10 1\r\nx\r\n'));
    expect(b.take()).toMatchObject({ kind: 'reply', reply: { kind: 'INSERTED', id: 1 } });
    expect(a.peek()).toBeUndefined();
    server.sleep(500_000);
    expect(a.peek()).toBeUndefined();
    server.sleep(1_000_000); // the delayed job became ready at t=1s and went to A
    const reserved = a.take();
    expect(reserved?.kind === 'reply' && text(reserved.raw)).toBe('RESERVED 1 1\r\nx\r\n');
    expect(server.virtualNowUs).toBe(1_500_000);
    expect(server.timingHazards()).toEqual([]);
  });

  it('records a hazard when an observation is within 250 ms of an event', () => {
    const server = new VirtualServer({ profile: '1.12' });
    const a = server.connect();
    a.send(Buffer.from('reserve-with-timeout 1\r\n'));
    server.sleep(1_200_000);
    expect(a.take()).toMatchObject({ kind: 'reply', reply: { kind: 'TIMED_OUT' } });
    expect(server.timingHazards()).toEqual([
      'an event fired at t=1.000s, only 200 ms before the observation at t=1.200s',
    ]);
  });

  it('closes a connection after quit, answers TIMED_OUT on half-close, and drains', () => {
    const server = new VirtualServer({ profile: '1.13', maxJobSize: 3 });
    const a = server.connect();
    a.send(Buffer.from('quit\r\n'));
    expect(a.take()).toEqual({ kind: 'closed' });
    const b = server.connect();
    b.send(Buffer.from('reserve\r\n'));
    b.halfClose();
    expect(b.take()).toMatchObject({ kind: 'reply', reply: { kind: 'TIMED_OUT' } });
    const c = server.connect();
    c.send(Buffer.from('put 0 0 10 4\r\nabcd\r\n'));
    expect(c.take()).toMatchObject({ kind: 'reply', reply: { kind: 'JOB_TOO_BIG' } });
    server.enterDrainMode();
    c.send(Buffer.from('put 0 0 10 1\r\nx\r\n'));
    expect(c.take()).toMatchObject({ kind: 'reply', reply: { kind: 'DRAINING' } });
  });

  it('reports bytes that are not a reply as garbage and stops reading', () => {
    const server = new VirtualServer({ profile: '1.12' });
    const a = server.connect();
    // Reach into the queue as the engine would with a broken reply.
    (a as unknown as { fromServer(b: Uint8Array): void }).fromServer(Buffer.from('HELLO there\r\nUSING x\r\n'));
    const event = a.take();
    expect(event).toMatchObject({ kind: 'garbage' });
    expect(event?.kind === 'garbage' && text(event.raw)).toBe('HELLO there\r\nUSING x\r\n');
    expect(a.take()).toBeUndefined();
  });
});
