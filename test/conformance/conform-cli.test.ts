// `beanlab conform` end to end through commander: exit codes, the table, the JSON result.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register, runConform } from '../../src/cli/conform.js';
import { UsageError } from '../../src/cli/errors.js';
import { formatConformanceTable } from '../../src/report/conformance-table.js';

const dir = mkdtempSync(join(tmpdir(), 'beanlab-conform-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function conform(args: string[]): Promise<{ code: number | undefined; out: string }> {
  const program = new Command().exitOverride();
  register(program);
  const write = process.stdout.write;
  let out = '';
  process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
  process.exitCode = undefined;
  try {
    await program.parseAsync(['conform', ...args], { from: 'user' });
    return { code: process.exitCode as number | undefined, out };
  } finally {
    process.stdout.write = write;
    process.exitCode = undefined;
  }
}

describe('beanlab conform', () => {
  it('runs the selected cases on the embedded server, prints the table and writes JSON; exit 0', async () => {
    const json = join(dir, 'pass.json');
    const { code, out } = await conform(['--only', 'framing/line/basic-', '--json', json]);
    expect(code).toBe(0);
    expect(out).toContain('conformance: embedded server, profile 1.12');
    expect(out).toMatch(/^framing\/line\s+3\s+0\s+0$/m);
    expect(out, 'a run narrowed with --only does not list what the whole suite leaves out').not.toContain('Not covered');
    const result = JSON.parse(readFileSync(json, 'utf8'));
    expect(result).toMatchObject({ kind: 'conformance', target: 'embedded server', profile: '1.12', passed: 3, failed: 0, skipped: 0 });
    expect(result.seed).toEqual(expect.any(Number));
    expect(result.checks.map((c: { id: string }) => c.id)).toEqual([
      'framing/line/basic-longest-legal-line',
      'framing/line/basic-overlong-swallows-next-line',
      'framing/line/basic-two-commands-one-packet',
    ]);
    expect(Object.keys(result.checks[0])).toEqual(['id', 'section', 'status', 'rule', 'expected', 'actual']);
  });

  describe('against a server that answers everything wrong', () => {
    let server: net.Server;
    let port = 0;
    beforeAll(async () => {
      server = net.createServer((socket) => socket.on('data', () => socket.write('UNKNOWN_COMMAND\r\n')));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as net.AddressInfo).port;
    });
    afterAll(() => new Promise((resolve) => server.close(resolve)));

    it('prints each failure with expected, actual and replay; exit 1', async () => {
      const json = join(dir, 'fail.json');
      const report = join(dir, 'report');
      const { code, out } = await conform(['--target', `127.0.0.1:${port}`, '--only', 'producer/put/basic-inserted', '--json', json, '--report', report, '--verbose']);
      expect(code).toBe(1);
      expect(out).toContain('FAIL producer/put/basic-inserted-and-peek');
      // On a shared target the first thing each connection does is move into the case's tube namespace.
      expect(out).toMatch(/^  expected: connection A moved to the case's own tube namespace .*: USING default$/m);
      expect(out).toContain('  actual:   UNKNOWN_COMMAND');
      const replayFile = join(report, 'replays', 'producer__put__basic-inserted-and-peek.txt');
      expect(out).toContain(`  replay:   beanlab replay ${replayFile} --profile 1.12 --target 127.0.0.1:${port}`);
      expect(readFileSync(replayFile, 'utf8')).toContain('case producer/put/basic-inserted-and-peek\n');
      const result = JSON.parse(readFileSync(json, 'utf8'));
      expect(result).toMatchObject({ target: `127.0.0.1:${port}`, passed: 0, failed: 1 });
      // The JSON lists the root causes, and each failure names its own.
      expect(result.causes).toEqual([{ key: 'isolation', title: expect.stringMatching(/^use \/ watch \/ ignore/), checks: ['producer/put/basic-inserted-and-peek'] }]);
      expect(result.checks[0].cause).toBe('isolation');
      expect(result.checks[0].replay).toContain('case producer/put/basic-inserted-and-peek\n');
      expect(readFileSync(join(report, 'report.md'), 'utf8')).toContain('### `producer/put/basic-inserted-and-peek`');
      expect(readFileSync(join(report, 'report.html'), 'utf8')).toMatch(/^<!doctype html>/);
    });
  });

  it.each([
    [['--target', '127.0.0.1:1'], /cannot connect to 127\.0\.0\.1:1/],
    [['--target', 'nowhere'], /bad target "nowhere"/],
    [['--fault', 'delay-ignored', '--target', ':1'], /cannot connect|--fault applies to the embedded server/],
    [['--fault', 'no-such-fault'], /unknown fault 'no-such-fault'/],
    [['--spawn', 'false {port}'], /ended \(exit status 1\)/],
    [['--profile', '1.0'], /--profile must be one of 1\.12, 1\.13/],
    [['--only', 'no/such/'], /no check id starts with 'no\/such\/'/],
    [['--concurrency', '0'], /--concurrency must be an integer ≥ 1/],
    [['--seed', '-3'], /--seed must be an integer/],
  ])('refuses %j with a one-line UsageError (exit 2 in main)', async (args, message) => {
    const error = await conform(args).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(message);
  });

  it('--mutation: the score table and a JSON of the faults (not the suites), exit 1 when a fault goes uncaught', { timeout: 120_000 }, async () => {
    const json = join(dir, 'mutation.json');
    let text = '';
    const code = await runConform({ profile: '1.12', concurrency: 8, mutation: true, only: 'worker/kick/', seed: 4, json }, (t) => (text += t));
    expect(text).toMatch(/^beanlab conform --mutation: seed 4, profile 1\.12\n/);
    const result = JSON.parse(readFileSync(json, 'utf8'));
    expect(Object.keys(result)).toEqual(['kind', 'seed', 'profile', 'score', 'faults']);
    expect(result).toMatchObject({ kind: 'conformance-mutation', seed: 4, profile: '1.12' });
    expect(result.score.caught).toBeLessThan(result.score.faults);
    expect(code).toBe(1);
  });

  it('passes its output through the log function given to runConform', async () => {
    let text = '';
    const code = await runConform({ profile: '1.13', concurrency: 2, only: 'worker/reserve-with-timeout/basic-' }, (t) => (text += t));
    expect(code).toBe(0);
    expect(text).toMatch(/^worker\/reserve-with-timeout\s+3\s+0\s+0$/m);
  });
});

describe('formatConformanceTable', () => {
  it('verbose: groups by section, marks failing sections and lists failures and skips', () => {
    const text = formatConformanceTable({
      target: 't',
      profile: '1.12',
      passed: 1,
      failed: 1,
      skipped: 1,
      checks: [
        { id: 'b/x/one', section: 'b/x', status: 'pass', rule: 'r1', expected: '', actual: '' },
        { id: 'a/y/two', section: 'a/y', status: 'fail', rule: 'r2', expected: 'line 3: A< X', actual: 'Y', replay: 'beanlab conform --only a/y/two\ncase a/y/two\nA< X', notes: ['SPEC: n'] },
        { id: 'b/x/three', section: 'b/x', status: 'skip', rule: 'r3', expected: '', actual: 'needs a fresh server' },
      ],
    }, { verbose: true });
    expect(text).toBe(
      [
        'conformance: t, profile 1.12',
        '',
        'section  pass  fail  skip',
        'a/y         0     1     0  FAIL',
        'b/x         1     0     1',
        '',
        'FAIL a/y/two',
        '  rule:     r2',
        '  note:     SPEC: n',
        '  expected: line 3: A< X',
        '  actual:   Y',
        '  replay:   beanlab conform --only a/y/two',
        '    | case a/y/two',
        '    | A< X',
        '',
        'skipped:',
        '  b/x/three: needs a fresh server',
        '',
        '3 checks: 1 passed, 1 failed, 1 skipped',
        '',
      ].join('\n'),
    );
  });
});
