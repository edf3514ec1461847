import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCorpus } from '../../src/conformance/corpus.js';
import { parseTranscript, stepApplies, TranscriptError, type Step, type Template } from '../../src/conformance/transcript.js';

const header = 'rule: r\nsource: s\n';
const one = (body: string) => parseTranscript(`case a/b/c\n${header}${body}`, 'x.txt')[0];
const bytesOf = (t: Template) => Buffer.concat(t.map((p) => ('bytes' in p ? p.bytes : Buffer.from(`<$${p.variable}>`))));
const sendBytes = (step: Step) => (step.kind === 'send' ? bytesOf(step.bytes).toString('latin1') : undefined);

describe('parseTranscript', () => {
  it('reads the header and derives the section from the id', () => {
    const c = parseTranscript(
      'case worker/reserve/deadline-soon\nrule: first\nrule: second\nsource: probe 1\nnote: SPEC: x\nserver: max-job-size 10\nprofiles: 1.13\nneeds: fresh\nA> stats\n',
      'f.txt',
    )[0];
    expect(c).toMatchObject({
      id: 'worker/reserve/deadline-soon',
      section: 'worker/reserve',
      rule: 'first second',
      source: 'probe 1',
      notes: ['SPEC: x'],
      server: { maxJobSize: 10 },
      profiles: ['1.13'],
      needsFresh: true,
      needsSignal: false,
      file: 'f.txt',
      line: 1,
    });
  });

  it('appends CR LF to ">" sends but not to ">>" sends', () => {
    const c = one('A> put 0 0 1 1\nA>> x\nA>\n');
    expect(c.steps.map(sendBytes)).toEqual(['put 0 0 1 1\r\n', 'x', '\r\n']);
  });

  it('expands escapes and repetition', () => {
    const c = one('A> a\\r\\n\\t\\0\\\\\\s\\$\\{\\x7f{ab*3}{\\x00*2}{z*0}\n');
    expect(sendBytes(c.steps[0])).toBe('a\r\n\t\0\\ ${\x7fababab\0\0\r\n');
  });

  it('keeps a brace that is not a repetition literally, and encodes UTF-8', () => {
    const c = one('A> {x} é\n');
    expect(sendBytes(c.steps[0])).toBe(Buffer.from('{x} é\r\n', 'utf8').toString('latin1'));
  });

  it('splits $variables out of templates', () => {
    const c = one('A< INSERTED $a\nA> peek $a\n');
    const expectStep = c.steps[0];
    expect(expectStep.kind === 'expect' && expectStep.expect).toEqual({
      kind: 'exact',
      template: [{ bytes: Buffer.from('INSERTED ') }, { variable: 'a' }],
    });
    expect(sendBytes(c.steps[1])).toBe('peek <$a>\r\n');
  });

  it('parses map, set, closed, nothing, actions, sleep and signal', () => {
    const c = one(
      [
        'A< map id=$a time-left=3..4 tube=default',
        'A< set default t{x*2}',
        'A< closed',
        'B< nothing 300ms',
        'A! shutdown',
        'A! close',
        'C! open',
        'sleep 1.25s',
        'signal usr1',
      ].join('\n'),
    );
    expect(c.steps.map((s) => s.kind)).toEqual(['expect', 'expect', 'expect', 'nothing', 'shutdown', 'close', 'open', 'sleep', 'signal-usr1']);
    const [map, set, closed, nothing, , , , sleep] = c.steps;
    expect(map.kind === 'expect' && map.expect).toEqual({
      kind: 'map',
      fields: [
        { key: 'id', value: { template: [{ variable: 'a' }] } },
        { key: 'time-left', value: { lo: 3, hi: 4 } },
        { key: 'tube', value: { template: [{ bytes: Buffer.from('default') }] } },
      ],
    });
    expect(set.kind === 'expect' && set.expect).toEqual({ kind: 'set', items: ['default', 'txx'] });
    expect(closed.kind === 'expect' && closed.expect).toEqual({ kind: 'closed' });
    expect(nothing).toMatchObject({ kind: 'nothing', conn: 'B', durationMs: 300 });
    expect(sleep).toMatchObject({ kind: 'sleep', durationMs: 1250 });
    expect(c.needsSignal).toBe(true);
  });

  it('parses the binlog option, restart steps and needs: no-binlog', () => {
    const c = one('server: binlog\nA> put 0 0 1 1\\r\\nx\nA< INSERTED $a\nrestart\nB> peek $a\nB< FOUND $a 1\\r\\nx');
    expect(c.server).toEqual({ binlog: true });
    expect(c.steps.map((step) => step.kind)).toEqual(['send', 'expect', 'restart', 'send', 'expect']);
    expect(one('needs: no-binlog\nneeds: fresh\nA> stats')).toMatchObject({ needsNoBinlog: true, needsFresh: true });
  });

  it('parses groups with an alias, and profile prefixes', () => {
    const c = one('A> reserve\nw=A|B< RESERVED $a 1\\r\\nx\nw> delete $a\n[1.13] w< DELETED\n');
    expect(c.steps[1]).toMatchObject({ kind: 'expect', conns: ['A', 'B'], alias: 'w' });
    expect(c.steps[2]).toMatchObject({ kind: 'send', conn: 'w' });
    expect(c.steps[3]).toMatchObject({ kind: 'expect', conns: ['w'], profile: '1.13' });
    expect(c.steps[0].profile).toBeUndefined();
  });

  it('parses [binlog] and [no-binlog] prefixes, alone and after a profile', () => {
    const c = one('A> put 0 0 1 1\\r\\nx\nA< INSERTED $a\nA> stats-job $a\n[no-binlog] A< map file=0\n[1.12] [binlog] A< map file=1\n[binlog] A> peek $a');
    expect(c.steps[3]).toMatchObject({ kind: 'expect', binlog: false });
    expect(c.steps[4]).toMatchObject({ kind: 'expect', binlog: true, profile: '1.12' });
    expect(c.steps[0].binlog).toBeUndefined();
    const runs = (profile: '1.12' | '1.13', binlog: boolean) => c.steps.filter((step) => stepApplies(step, profile, binlog)).map((step) => step.line);
    expect(runs('1.12', false)).toEqual([4, 5, 6, 7]);
    expect(runs('1.12', true)).toEqual([4, 5, 6, 8, 9]);
    expect(runs('1.13', true)).toEqual([4, 5, 6, 9]);
  });

  it('checks the bindings on a server with and without a binlog', () => {
    // $a is bound only on a server with a binlog, then sent on every server.
    expect(() => one('A> put 0 0 1 1\\r\\nx\n[binlog] A< INSERTED $a\nA> peek $a')).toThrow(TranscriptError);
    expect(() => one('A> put 0 0 1 1\\r\\nx\n[binlog] A< INSERTED $a\n[binlog] A> peek $a')).not.toThrow();
  });

  it('splits a file into cases and keeps each case text for replay', () => {
    const cases = parseTranscript(`# comment\n\ncase a/b/one\n${header}A> x\n\ncase a/b/two\n${header}A> y\n`, 'f.txt');
    expect(cases.map((c) => [c.id, c.line])).toEqual([['a/b/one', 3], ['a/b/two', 8]]);
    expect(cases[0].sourceText).toBe(`case a/b/one\n${header}A> x`);
  });

  it.each([
    ['case Bad Id\nrule: r\nsource: s\nA> x', 1, /bad case id/],
    ['case a/b/c\nsource: s\nA> x', 1, /missing "rule:"/],
    ['case a/b/c\nrule: r\nA> x', 1, /missing "source:"/],
    ['case a/b/c\nrule: r\nsource: s', 1, /no steps/],
    ['case a/b/c\nrule: r\nsource: s\nA> x\nrule: late', 5, /after the first step/],
    ['case a/b/c\nrule: r\nsource: s\nA> peek $a', 4, /\$a is sent before any reply binds it/],
    ['case a/b/c\nrule: r\nsource: s\n[1.12] A< INSERTED $a\nA> peek $a', 5, /profile 1.13/],
    ['case a/b/c\nrule: r\nsource: s\nA< inserted 1', 4, /expected a reply/],
    ['case a/b/c\nrule: r\nsource: s\nA> \\q', 4, /unknown escape/],
    ['case a/b/c\nrule: r\nsource: s\nA> \\xZZ', 4, /bad \\x escape/],
    ['case a/b/c\nrule: r\nsource: s\nA> $', 4, /not followed by a variable/],
    ['case a/b/c\nrule: r\nsource: s\nA|B> x', 4, /takes one connection/],
    ['case a/b/c\nrule: r\nsource: s\nw=A< X', 4, /alias only makes sense/],
    ['case a/b/c\nrule: r\nsource: s\nA> x\nA=A|B< X', 5, /names an existing connection/],
    ['case a/b/c\nrule: r\nsource: s\nsleep 2', 4, /not a step/],
    ['case a/b/c\nrule: r\nsource: s\nA< map novalue', 4, /not KEY=VALUE/],
    ['case a/b/c\nrule: r\nsource: s\nserver: fast', 4, /unknown server option/],
    ['case a/b/c\nrule: r\nsource: s\nprofiles: 1.10', 4, /unknown profile/],
    ['case a/b/c\nrule: r\nsource: s\nA> x\nrestart', 1, /a "restart" step needs "server: binlog"/],
    ['case a/b/c\nrule: r\nsource: s\nneeds: luck', 4, /unknown need "luck" \(known: fresh, no-binlog, direct\)/],
    ['A> x', 1, /before the first "case"/],
  ])('rejects %j at line %i', (text, line, message) => {
    expect(() => parseTranscript(text, 'f.txt')).toThrow(message);
    expect(() => parseTranscript(text, 'f.txt')).toThrow(`f.txt:${line}:`);
  });
});

describe('loadCorpus', () => {
  it('rejects the same case id in two files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'corpus-'));
    try {
      writeFileSync(join(dir, 'a.txt'), `case a/b/c\n${header}A> x\n`);
      writeFileSync(join(dir, 'b.txt'), `\ncase a/b/c\n${header}A> y\n`);
      expect(() => loadCorpus(dir)).toThrow('corpus/b.txt:2: case id a/b/c already used at corpus/a.txt:1');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loads the shipped corpus, whose cases all quote a rule and a source', () => {
    const cases = loadCorpus();
    expect(cases.length).toBeGreaterThanOrEqual(15);
    for (const c of cases) expect(c.rule && c.source, c.id).toBeTruthy();
  });
});
