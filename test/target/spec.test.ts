// One description of a target for every run (src/target/spec.ts), one shell quoting function
// (shell.ts), and a target opened from the description (open.ts): the embedded server with its
// faults, a spawn command checked before anything starts.
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { embeddedCommand, openTarget } from '../../src/target/open.js';
import { shellQuote } from '../../src/target/shell.js';
import { checkSpawnCommand, embeddedArgs, targetLabel, TargetError } from '../../src/target/spec.js';

describe('shellQuote', () => {
  it('gives /bin/sh back every word exactly, quoting only what needs it', () => {
    const words = ['plain', '/usr/bin/beanstalkd', '{port}', 'unix:/tmp/a b.sock', "it's", "'", '', 'a"b', '$HOME', '`x`', 'a\\b', '*', 'x;y', 'tab\there', 'new\nline', 'a{b,c}'];
    const printed = execFileSync('/bin/sh', ['-c', `printf '%s\\0' ${words.map(shellQuote).join(' ')}`], { encoding: 'utf8' });
    expect(printed.split('\0').slice(0, -1)).toEqual(words);
    expect(shellQuote('/usr/bin/beanstalkd')).toBe('/usr/bin/beanstalkd');
    expect(shellQuote('-p')).toBe('-p');
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });
});

describe('TargetSpec', () => {
  it('labels each kind for reports; an embedded target lists its faults as serve arguments', () => {
    expect(targetLabel({ kind: 'address', address: '127.0.0.1:11300' })).toBe('127.0.0.1:11300');
    expect(targetLabel({ kind: 'spawn', command: 'beanstalkd -p {port}' })).toBe('beanstalkd -p {port}');
    expect(targetLabel({ kind: 'embedded' })).toBe('embedded (beanlab serve)');
    const faulty = { kind: 'embedded', faults: [{ name: 'slow', value: 50 }, { name: 'touch-noop' }], args: ['--profile', '1.13'] } as const;
    expect(embeddedArgs(faulty)).toEqual(['--fault', 'slow=50', '--fault', 'touch-noop', '--profile', '1.13']);
    expect(targetLabel(faulty)).toBe('embedded (beanlab serve --fault slow=50 --fault touch-noop --profile 1.13)');
    expect(embeddedCommand(['--fault', 'a b'])).toMatch(/ serve --port \{port\} --fault 'a b'$/);
  });

  it('refuses a spawn command without exactly one of {port} and {socket}, before starting anything', async () => {
    expect(() => checkSpawnCommand('beanstalkd')).toThrow(TargetError);
    expect(() => checkSpawnCommand('x -p {port} -l unix:{socket}')).toThrow(/one of them/);
    expect(() => checkSpawnCommand('beanstalkd -l unix:{socket}')).not.toThrow();
    await expect(openTarget({ kind: 'spawn', command: 'beanstalkd' })).rejects.toThrow(TargetError);
  });

  it('opens the embedded server with its faults injected', { timeout: 60_000 }, async () => {
    // bad-format-as-unknown answers BAD_FORMAT as UNKNOWN_COMMAND: visible in one exchange.
    for (const [faults, expected] of [[[], 'BAD_FORMAT'], [[{ name: 'bad-format-as-unknown' }], 'UNKNOWN_COMMAND']] as const) {
      const target = await openTarget({ kind: 'embedded', faults });
      try {
        expect(target.ours).toBe(true);
        expect(await exchange(target.address as { host: string; port: number }, 'put x\r\n')).toBe(`${expected}\r\n`);
      } finally {
        await target.stop();
      }
    }
  });
});

/** One request, the first reply line (bounded by a 5 s timeout). */
function exchange(address: { host: string; port: number }, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(address, () => socket.write(request));
    let reply = '';
    const timer = setTimeout(() => (socket.destroy(), reject(new Error(`no reply within 5 s: '${reply}'`))), 5000);
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) {
        clearTimeout(timer);
        socket.destroy();
        resolve(reply);
      }
    });
    socket.on('error', (error) => (clearTimeout(timer), reject(error)));
  });
}
