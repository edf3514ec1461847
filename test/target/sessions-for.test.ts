// A TargetSpec as the conformance suite uses it (src/target/sessions-for.ts): the same
// description the load runner opens, turned into a session per case; checked before any case,
// with the arguments that select it again (replayArgs) and what it lets a run cover.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { coverageOf } from '../../src/conformance/suite.js';
import { freePort } from '../../src/target/address.js';
import { nextEvent, type ConnEvent } from '../../src/target/connection.js';
import { sessionsFor, sessionsLabel } from '../../src/target/sessions-for.js';
import { replayArgs, TargetError, type TargetSpec } from '../../src/target/spec.js';
import { describeWithBeanstalkd } from '../helpers/beanstalkd.js';

/** The words /bin/sh makes of `text`. */
function shellWords(text: string): string[] {
  return execFileSync('/bin/sh', ['-c', `printf '%s\\0' ${text}`], { encoding: 'utf8' }).split('\0').slice(0, -1);
}

describe('replayArgs', () => {
  it('gives the conform/replay arguments that select the same target, quoted once for the shell', () => {
    const command = `server --name "it's" -p {port}`;
    expect(replayArgs({ kind: 'spawn', command })).toBe(`--spawn 'server --name "it'\\''s" -p {port}'`);
    expect(shellWords(replayArgs({ kind: 'spawn', command }))).toEqual(['--spawn', command]);
    expect(replayArgs({ kind: 'address', address: '127.0.0.1:11300' })).toBe('--target 127.0.0.1:11300');
    expect(replayArgs({ kind: 'embedded' })).toBe('');
    expect(replayArgs({ kind: 'embedded', faults: [{ name: 'slow', value: 50 }, { name: 'touch-noop' }] })).toBe('--fault slow=50 --fault touch-noop');
  });
});

describe('coverageOf', () => {
  it('says what each kind of target lets a run cover: a UNIX socket, a restart on one path, a binlog', () => {
    const cases: Array<[TargetSpec, ReturnType<typeof coverageOf>]> = [
      [{ kind: 'address', address: '127.0.0.1:11300' }, { unixSocket: false, restartable: false, binlog: false }],
      [{ kind: 'address', address: 'unix:/run/b.sock' }, { unixSocket: true, restartable: false, binlog: false }],
      [{ kind: 'spawn', command: 'b -p {port}' }, { unixSocket: false, restartable: false, binlog: false }],
      [{ kind: 'spawn', command: 'b -b {binlog} -l unix:{socket}' }, { unixSocket: true, restartable: true, binlog: true }],
      [{ kind: 'embedded' }, { unixSocket: false, restartable: false, binlog: true }],
      [{ kind: 'embedded', faults: [{ name: 'touch-noop' }] }, { unixSocket: false, restartable: false, binlog: false }],
    ];
    for (const [spec, coverage] of cases) expect(coverageOf(spec), JSON.stringify(spec)).toEqual(coverage);
  });
});

describe('sessionsFor', () => {
  it('the embedded server, with its faults: a fresh in-process server per session, labelled as before it starts', { timeout: 20_000 }, async () => {
    const spec: TargetSpec = { kind: 'embedded', faults: [{ name: 'touch-noop' }] };
    const factory = await sessionsFor(spec);
    expect(factory.label).toBe('embedded server with fault touch-noop');
    expect(sessionsLabel(spec)).toBe(factory.label);
    expect(factory).toMatchObject({ freshPerCase: true, canSignal: true, canConfigure: true });
    expect(factory.canPersist).toBeFalsy();
    const plain = await sessionsFor({ kind: 'embedded' });
    expect([plain.label, plain.canPersist]).toEqual(['embedded server', true]);
    const session = await plain.open({ profile: '1.12' });
    try {
      const conn = await session.connect();
      conn.send(Buffer.from('list-tubes\r\n'));
      const event = await nextEvent(conn, 2000);
      expect(event?.kind === 'reply' && event.reply.kind).toBe('OK');
    } finally {
      await session.close();
    }
  });

  it('refuses, as a TargetError, an address nobody answers on, a command that does not serve, serve arguments', { timeout: 20_000 }, async () => {
    const port = await freePort();
    await expect(sessionsFor({ kind: 'address', address: `127.0.0.1:${port}` })).rejects.toThrow(new TargetError(`cannot connect to 127.0.0.1:${port}`));
    await expect(sessionsFor({ kind: 'address', address: 'host:0' })).rejects.toThrow(TargetError);
    await expect(sessionsFor({ kind: 'spawn', command: 'false {port}' })).rejects.toThrow(TargetError);
    await expect(sessionsFor({ kind: 'spawn', command: 'beanstalkd' })).rejects.toThrow(/needs a \{port\} or a \{socket\} placeholder/);
    await expect(sessionsFor({ kind: 'embedded', args: ['--profile', '1.13'] })).rejects.toThrow(TargetError);
  });
});

/** A reply as the server wrote it, or what came instead. */
function text(event: ConnEvent | undefined): string {
  return event === undefined ? 'no reply' : event.kind === 'closed' ? 'closed' : event.raw.toString('latin1');
}

describeWithBeanstalkd('sessionsFor against beanstalkd', (binary) => {
  it('a spawn command: started once to check it, then a fresh server per session, stopped by its PID', { timeout: 20_000 }, async () => {
    const command = `${binary} -l 127.0.0.1 -p {port}`;
    const factory = await sessionsFor({ kind: 'spawn', command });
    expect(factory).toMatchObject({ label: command, freshPerCase: true, canSignal: true, canConfigure: false });
    const [a, b] = [await factory.open({ profile: '1.12' }), await factory.open({ profile: '1.12' })];
    try {
      // Two servers: a job put on one is not on the other.
      const [ca, cb] = [await a.connect(), await b.connect()];
      ca.send(Buffer.from('put 0 0 60 2\r\nhi\r\n'));
      expect(text(await nextEvent(ca, 2000))).toBe('INSERTED 1\r\n');
      cb.send(Buffer.from('peek 1\r\n'));
      expect(text(await nextEvent(cb, 2000))).toBe('NOT_FOUND\r\n');
    } finally {
      await a.close();
      await b.close();
    }
  });
});
