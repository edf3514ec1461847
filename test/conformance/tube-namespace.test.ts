// The tube-name mapping that isolates a corpus case on a shared server.
import { describe, expect, it } from 'vitest';
import { parseTranscript } from '../../src/conformance/transcript.js';
import {
  casePrefix,
  isValidTubeName,
  NAMESPACE_PREFIX_BYTES,
  sharedSkipReason,
  TubeNamespace,
} from '../../src/conformance/tube-namespace.js';

const ns = new TubeNamespace('blabc1230007_');
const send = (text: string) => ns.mapSend(Buffer.from(text, 'latin1')).toString('latin1');
const caseOf = (steps: string) => parseTranscript(`case t/x/y\nrule: r\nsource: s\n${steps}\n`, 'inline.txt')[0];
const expectation = (line: string) => {
  const step = caseOf(line).steps[0];
  if (step.kind !== 'expect') throw new Error('not an expectation');
  return ns.mapExpectation(step.expect);
};

describe('case prefixes', () => {
  it('have the fixed length the skip rule assumes, and differ per case', () => {
    expect(casePrefix('blabc123', 7)).toBe('blabc1230007_');
    expect(casePrefix('blabc123', 36 ** 4 - 1)).toHaveLength(NAMESPACE_PREFIX_BYTES);
    expect(casePrefix('blabc123', 1)).not.toBe(casePrefix('blabc123', 2));
    expect(isValidTubeName(casePrefix('blabc123', 5) + 'default')).toBe(true);
  });
});

describe('mapSend', () => {
  it('maps the name of use, watch, ignore, stats-tube and pause-tube lines', () => {
    expect(send('use default\r\n')).toBe('use blabc1230007_default\r\n');
    expect(send('watch a\r\nignore b\r\nstats-tube c\r\n')).toBe(
      'watch blabc1230007_a\r\nignore blabc1230007_b\r\nstats-tube blabc1230007_c\r\n',
    );
    expect(send('pause-tube t 5\r\n')).toBe('pause-tube blabc1230007_t 5\r\n');
  });

  it('keeps pause-tube spacing exactly, including no space after the keyword', () => {
    expect(send('pause-tube  default  1\r\n')).toBe('pause-tube  blabc1230007_default  1\r\n');
    expect(send('pause-tubedefault 1\r\n')).toBe('pause-tubeblabc1230007_default 1\r\n');
  });

  it('leaves invalid names, other commands, put bodies and partial lines alone', () => {
    for (const text of ['use -x\r\n', 'use  a\r\n', 'use a b\r\n', 'use \r\n', 'usefoo\r\n', 'watch\r\n', 'list-tube-used\r\n', 'use a']) {
      expect(send(text)).toBe(text);
    }
    expect(send(`use ${'a'.repeat(201)}\r\n`)).toBe(`use ${'a'.repeat(201)}\r\n`);
    expect(send('put 0 0 10 7\r\nuse abc\r\nuse d\r\n')).toBe('put 0 0 10 7\r\nuse abc\r\nuse blabc1230007_d\r\n');
  });

  it('gives each connection a private default', () => {
    expect(ns.setupBytes().toString()).toBe('use blabc1230007_default\r\nwatch blabc1230007_default\r\nignore default\r\n');
    expect(ns.setupReplies()).toEqual(['USING blabc1230007_default\r\n', 'WATCHING 2\r\n', 'WATCHING 1\r\n']);
  });
});

describe('mapExpectation and unmap', () => {
  it('maps USING, the name and tube fields of maps, and set items', () => {
    expect(expectation('A< USING t1')).toEqual({ kind: 'exact', template: [{ bytes: Buffer.from('USING blabc1230007_t1') }] });
    const map = expectation('A< map name=default tube=x state=ready id=$a');
    expect(map.kind === 'map' && map.fields.map((f) => ('template' in f.value ? f.value.template : f.value))).toEqual([
      [{ bytes: Buffer.from('blabc1230007_default') }],
      [{ bytes: Buffer.from('blabc1230007_x') }],
      [{ bytes: Buffer.from('ready') }],
      [{ variable: 'a' }],
    ]);
    expect(expectation('A< set default b')).toEqual({ kind: 'set', items: ['blabc1230007_default', 'blabc1230007_b'] });
  });

  it('leaves other replies alone and takes the namespace out of messages', () => {
    const inserted = caseOf('A< INSERTED $a').steps[0];
    if (inserted.kind !== 'expect') throw new Error('not an expectation');
    expect(ns.mapExpectation(inserted.expect)).toBe(inserted.expect);
    expect(ns.unmap('USING blabc1230007_t1; map name=blabc1230007_default')).toBe('USING t1; map name=default');
  });
});

describe('sharedSkipReason', () => {
  it('skips global stats, list-tubes, names too long to prefix and literal ids that reach any job', () => {
    expect(sharedSkipReason(caseOf('A> stats\nA< map cmd-put=0'))).toMatch(/global stats/);
    expect(sharedSkipReason(caseOf('A> list-tubes\nA< set default'))).toMatch(/lists every tube/);
    expect(sharedSkipReason(caseOf(`A> use {a*${200 - NAMESPACE_PREFIX_BYTES + 1}}\nA< USING x`))).toMatch(/too long/);
    expect(sharedSkipReason(caseOf('A> delete 424242\nA< NOT_FOUND'))).toMatch(/literal id/);
    expect(sharedSkipReason(caseOf('A> peek 1\nA< NOT_FOUND'))).toMatch(/literal id/);
  });

  it('runs everything else isolated', () => {
    for (const steps of [
      `A> use {a*${200 - NAMESPACE_PREFIX_BYTES}}\nA< USING x`,
      'A> stats-tube default\nA< map name=default',
      'A> list-tubes-watched\nA< set default',
      'A> statsx\nA< BAD_FORMAT',
      'A> put 0 0 10 1\\r\\nx\nA< INSERTED $a\nA> peek $a\nA< FOUND $a 1\\r\\nx',
      'A> peek 0\nA< NOT_FOUND',
      'A> delete 1x\nA< BAD_FORMAT',
      'A> touch 99\nA< NOT_FOUND',
      'A> put 0 0 10 6\\r\\nstats\\r\\n\nA< INSERTED $a',
    ]) {
      expect(sharedSkipReason(caseOf(steps)), steps).toBeUndefined();
    }
  });
});
