// The stats YAML reader keeps every value as the string the server sent, in both the 1.12
// (bare) and 1.13 (double-quoted) styles; the writer produces beanstalkd's layout.
import { describe, expect, test } from 'vitest';
import { formatStatsYaml, parseStatsYaml, parseYamlList } from '../../src/protocol/stats-yaml.js';

const STATS_1_12 = [
  '---',
  'current-jobs-urgent: 0',
  'cmd-put: 2',
  'version: "1.12"',
  'rusage-utime: 0.001234',
  'draining: false',
  'id: 0123456789012345',
  'hostname: vm',
  'os: #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)',
  'platform: x86_64',
  '',
].join('\n');

const STATS_1_13 = [
  '---',
  'current-jobs-urgent: 0',
  'version: "1.13"',
  'hostname: "vm"',
  'os: "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01) 12:00:01"',
  'platform: "x86_64"',
  '',
].join('\n');

describe('parseStatsYaml', () => {
  test('1.12 style: bare values stay strings, including `#…` and all-digit ids', () => {
    const stats = parseStatsYaml(STATS_1_12);
    expect(stats.get('os')).toBe('#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)');
    expect(stats.get('id')).toBe('0123456789012345');
    expect(stats.get('cmd-put')).toBe('2');
    expect(stats.get('draining')).toBe('false');
    expect(stats.get('rusage-utime')).toBe('0.001234');
    expect(stats.get('version')).toBe('1.12'); // quoted since 1.11
    expect([...stats.keys()]).toEqual([
      'current-jobs-urgent', 'cmd-put', 'version', 'rusage-utime', 'draining', 'id', 'hostname', 'os', 'platform',
    ]);
  });

  test('1.13 style: double quotes are removed; a colon inside a value is kept', () => {
    const stats = parseStatsYaml(STATS_1_13);
    expect(stats.get('hostname')).toBe('vm');
    expect(stats.get('os')).toBe('#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01) 12:00:01');
    expect(stats.get('platform')).toBe('x86_64');
  });

  test('stats-job and stats-tube with a tube named 123 keep it a string', () => {
    expect(parseStatsYaml('---\nid: 1\ntube: 123\nstate: ready\n').get('tube')).toBe('123');
    expect(parseStatsYaml('---\nname: "123"\npause: 0\n').get('name')).toBe('123');
  });

  test('a document with its final CR LF still attached parses the same', () => {
    expect(parseStatsYaml('---\nname: a\n\r\n')).toEqual(new Map([['name', 'a']]));
  });

  test('rejects text that is not a stats document', () => {
    expect(() => parseStatsYaml('name: a\n')).toThrow(/---/);
    expect(() => parseStatsYaml('---\n- default\n')).toThrow(/not a stats line/);
  });
});

describe('parseYamlList', () => {
  test('list-tubes output in server order, digits kept as strings', () => {
    expect(parseYamlList('---\n- default\n- 123\n- a-b\n')).toEqual(['default', '123', 'a-b']);
  });
  test('an empty list', () => {
    expect(parseYamlList('---\n')).toEqual([]);
  });
  test('rejects a stats document', () => {
    expect(() => parseYamlList('---\nname: a\n')).toThrow(/not a list line/);
  });
});

describe('formatStatsYaml', () => {
  test("beanstalkd's layout, with per-field quoting", () => {
    const text = formatStatsYaml([
      ['name', 'default', true],
      ['current-jobs-ready', 3],
      ['draining', false],
      ['rusage-utime', '0.000000'],
    ]);
    expect(text).toBe('---\nname: "default"\ncurrent-jobs-ready: 3\ndraining: false\nrusage-utime: 0.000000\n');
  });

  test('format → parse gives back every value as a string', () => {
    const fields = [['tube', '123', true], ['pri', 4294967295], ['os', '#1 SMP'], ['draining', true]] as const;
    expect(parseStatsYaml(formatStatsYaml(fields))).toEqual(
      new Map([['tube', '123'], ['pri', '4294967295'], ['os', '#1 SMP'], ['draining', 'true']]),
    );
  });
});
