// Job ids in replies: beanstalkd's are decimal numbers, and the strict parser (the client's, the
// load runner's) rejects anything else. The conformance connections parse with `opaqueIds`:
// a server whose ids are UUIDs is read, each reply with the id exactly as written, so the
// suite can hold it to every other rule instead of failing every check at its first INSERTED.
import { describe, expect, test } from 'vitest';
import { ProtocolError, ReplyParser } from '../../src/protocol/reply-parser.js';
import { TcpConnection } from '../../src/target/tcp-connection.js';
import net from 'node:net';

const UUID = '0f8b2c1e-5d4a-4c3b-9a8f-7e6d5c4b3a21';

function parseOne(wire: string, opaqueIds: boolean) {
  const parser = new ReplyParser({ opaqueIds });
  parser.push(Buffer.from(wire, 'latin1'));
  return parser.next();
}

describe('ReplyParser with opaqueIds', () => {
  test.each([
    [`INSERTED ${UUID}\r\n`, 'INSERTED', ''],
    [`RESERVED ${UUID} 5\r\nhello\r\n`, 'RESERVED', 'hello'],
    [`FOUND ${UUID} 0\r\n\r\n`, 'FOUND', ''],
    [`BURIED ${UUID}\r\n`, 'BURIED', ''],
    ['INSERTED job-7\r\n', 'INSERTED', ''],
  ])('reads %j with the id as the server wrote it', (wire, kind, body) => {
    const parsed = parseOne(wire, true)!;
    expect(parsed.reply.kind).toBe(kind);
    expect(parsed.jobId).toBe(wire.split(' ')[1].split('\r')[0]);
    expect(parsed.raw.toString('latin1')).toBe(wire);
    if ('body' in parsed.reply) expect(Buffer.from(parsed.reply.body).toString('latin1')).toBe(body);
  });

  test('decimal ids keep their number, and the id text too', () => {
    const parsed = parseOne('RESERVED 42 1\r\nx\r\n', true)!;
    expect(parsed.reply).toMatchObject({ kind: 'RESERVED', id: 42 });
    expect(parsed.jobId).toBe('42');
  });

  test.each([
    ['an id with a control byte', 'INSERTED a\x01b\r\n'],
    ['two ids', 'INSERTED a b\r\n'],
    ['no id', 'INSERTED \r\n'],
    ['a non-numeric size', `RESERVED ${UUID} x\r\nhello\r\n`],
    ['an id on a reply that has none', 'DELETED abc\r\n'],
  ])('still rejects %s', (_name, wire) => {
    expect(() => parseOne(wire, true)).toThrow(ProtocolError);
  });

  test('without opaqueIds a UUID id is no beanstalkd reply (the client and load runner stay strict)', () => {
    expect(() => parseOne(`INSERTED ${UUID}\r\n`, false)).toThrow(/unrecognised reply line/);
  });
});

describe('conformance connections read any id', () => {
  test('a UUID INSERTED is a reply event with its id, not garbage', async () => {
    const server = net.createServer((socket) => socket.on('data', () => socket.write(`INSERTED ${UUID}\r\n`)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const conn = await TcpConnection.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port }, 2000);
    try {
      conn.send(Buffer.from('put 0 0 10 1\r\nx\r\n'));
      await new Promise<void>((resolve) => {
        const stop = conn.onEvent(() => (stop(), resolve()));
      });
      expect(conn.peek()).toMatchObject({ kind: 'reply', jobId: UUID });
    } finally {
      conn.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
