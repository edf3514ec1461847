// What beanlab prints fits a terminal: every command's --help within 100 columns, piped or on a
// wide terminal; the seed printed once per run; `beanlab start`'s sim and load parts a few
// lines each (the full tables are in the reports).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { loadResultSchema, type LoadResult } from '../../src/metrics/load-result.js';
import { wrapText } from '../../src/report/format.js';
import { loadStartSummary, simStartSummary } from '../../src/report/start-summary.js';
import { parseScenario } from '../../src/scenario/load.js';
import { simulate } from '../../src/sim/run.js';
import { runBeanlab } from '../helpers/beanlab-cli.js';
import { loadTerminalReport } from '../../src/report/load-table.js';

const COLUMNS = 100;
const tooWide = (text: string) => text.split('\n').filter((line) => line.length > COLUMNS);

/** Runs `beanlab ARGS` in this process with stdout as a terminal of `columns` (or a pipe). */
async function helpText(args: string[], columns: number | undefined): Promise<string> {
  let out = '';
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  const saved = { isTTY: process.stdout.isTTY, columns: process.stdout.columns };
  Object.defineProperty(process.stdout, 'isTTY', { value: columns !== undefined, configurable: true });
  Object.defineProperty(process.stdout, 'columns', { value: columns, configurable: true });
  try {
    expect(await main(args)).toBe(0);
  } finally {
    write.mockRestore();
    Object.defineProperty(process.stdout, 'isTTY', { value: saved.isTTY, configurable: true });
    Object.defineProperty(process.stdout, 'columns', { value: saved.columns, configurable: true });
  }
  return out;
}

describe('--help', () => {
  it('of beanlab and of every command fits 100 columns, piped and on a 250-column terminal', async () => {
    const top = await helpText(['--help'], undefined);
    const commands = [...top.split('Commands:')[1].matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1]).filter((name) => name !== 'help');
    expect(commands).toEqual(expect.arrayContaining(['serve', 'conform', 'replay', 'start', 'sim', 'load', 'compare', 'merge']));
    for (const args of [[], ...commands.map((name) => [name])]) {
      for (const columns of [undefined, 250]) {
        const text = await helpText([...args, '--help'], columns);
        expect(text, `beanlab ${args.join(' ')} --help`).toMatch(/^Usage: beanlab/);
        expect(tooWide(text), `beanlab ${args.join(' ')} --help at ${columns ?? 'piped'}`).toEqual([]);
      }
    }
  });

  it('wraps to a narrower terminal', async () => {
    const text = await helpText(['load', '--help'], 72);
    expect(text.split('\n').filter((line) => line.length > 72 && line.startsWith('  --'))).toEqual([]);
  });

  it('merge --help marks --json as required', async () => {
    const text = await helpText(['merge', '--help'], undefined);
    expect(text).toMatch(/^Usage: beanlab merge --json <file> /);
    expect(text).toMatch(/^ {2}--json <file> +required: /m);
  });
});

const work = mkdtempSync(join(tmpdir(), 'beanlab-terminal-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the seed is printed once per run', () => {
  it('by conform, first, with how to rerun it', async () => {
    const run = await runBeanlab(['conform', '--quick', '--only', 'worker/release/', '--seed', '11'], { timeoutMs: 60_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe('beanlab conform: seed 11 (rerun with --seed 11), profile 1.12, quick');
    expect((run.stdout + run.stderr).split('\n').filter((line) => line.includes('seed'))).toHaveLength(1);
  });

  it('by sim, first, on stdout', async () => {
    const run = await runBeanlab(['sim', 'scenarios/smoke.yaml', '--seed', '7'], { timeoutMs: 30_000 });
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe('seed: 7');
    expect((run.stdout + run.stderr).match(/seed/g)).toHaveLength(1);
  });

  let loadRun: Awaited<ReturnType<typeof runBeanlab>>;
  let loadResult: LoadResult;
  beforeAll(async () => {
    // A short, light run: this is about what it prints, not how fast the server is.
    loadRun = await runBeanlab(['load', 'scenarios/smoke.yaml', '--duration', '1', '--rate', '20', '--seed', '3', '--json', join(work, 'load.json')], { timeoutMs: 60_000 });
    loadResult = loadResultSchema.parse(JSON.parse(readFileSync(join(work, 'load.json'), 'utf8')));
  }, 70_000);

  it("load's own report, tables included, fits 100 columns (smoke has two tubes: the per-tube table)", () => {
    expect(Object.keys(loadResult.byTube)).toHaveLength(2);
    expect(tooWide(loadTerminalReport(loadResult))).toEqual([]);
  });

  it('by load, in its headline', () => {
    // 1 would be an SLO missed on a busy machine; the output is the same either way.
    expect([0, 1]).toContain(loadRun.code);
    expect((loadRun.stdout + loadRun.stderr).match(/seed/g)).toHaveLength(1);
    expect(loadRun.stdout).toMatch(/, seed 3\n/);
  });

  describe("beanlab start's short sim and load parts", () => {
    const smoke = parseScenario(readFileSync('scenarios/smoke.yaml', 'utf8'), 'smoke.yaml');

    it('a passing sim: four lines, the verdict, the jobs, p99s, SLOs and where the report is', () => {
      const text = simStartSummary(simulate(smoke, 1), 'reports/latest/sim/report.md');
      const lines = text.trimEnd().split('\n');
      expect(lines).toHaveLength(4);
      expect(lines[0]).toMatch(/^PASS {2}\d+ jobs put, \d+ completed, 0 buried, 0 lost, 0 duplicated, 0 remaining in /);
      expect(lines[1]).toMatch(/p99 queue wait .*, service .*, end to end .*; [\d.]+ jobs\/s$/);
      expect(lines[2]).toBe('      SLOs: 3 of 3 hold');
      expect(lines[3]).toBe('      details: reports/latest/sim/report.md');
      expect(tooWide(text)).toEqual([]);
    });

    it('a passing load: five lines; a failing one names the failed SLO and the lost jobs, within 100 columns', () => {
      // The run above as it goes on an idle machine: every SLO held, nothing wrong.
      const passing: LoadResult = {
        ...loadResult,
        pass: true,
        slo: loadResult.slo.map((s) => ({ ...s, pass: true })),
        // A busy machine's load-generator warnings are not part of a passing run's five lines.
        load: { ...loadResult.load, errors: [], interrupted: false, harness: loadResult.load.harness && { ...loadResult.load.harness, warnings: [] } },
      };
      expect(passing.jobs.lost).toBe(0);
      const text = loadStartSummary(passing, 'reports/latest/load/report.md');
      expect(text.trimEnd().split('\n')).toHaveLength(5);
      expect(text).toMatch(/^PASS {2}\d+ jobs put, /);
      // A busy machine's warnings about the load generator take one line, whatever their number.
      const warned = (warnings: string[]): string =>
        loadStartSummary({ ...passing, load: { ...passing.load, harness: { ...passing.load.harness!, warnings } } }, 'r.md');
      const one = warned(['worker service took 6.66 ms on average against 5.76 ms configured (+16%): the timers ran late, so it goes on']);
      expect(one.trimEnd().split('\n'), one).toHaveLength(6);
      expect(one).toMatch(/\n {6}warning: worker service took 6.66 ms on average against 5.76 ms configured \(\+16%\)\n/);
      const three = warned(['a long first warning: '.repeat(3), 'a second one: x', 'a third: y']);
      expect(three.trimEnd().split('\n')).toHaveLength(6);
      expect(tooWide(three)).toEqual([]);
      const failed: LoadResult = {
        ...passing,
        pass: false,
        jobs: { ...passing.jobs, lost: 2 },
        slo: passing.slo.map((s, i) => (i === 0 ? { ...s, name: `${s.name} ${'and a very long name '.repeat(4)}`, pass: false } : s)),
        load: {
          ...passing.load,
          integrity: { ...passing.load.integrity, lostIds: Array.from({ length: 40 }, (_, i) => 1000 + i) },
          errors: ['the server closed a connection: '.repeat(5)],
        },
      };
      const failing = loadStartSummary(failed, 'reports/latest/load/report.md');
      expect(failing).toMatch(/^FAIL {2}/);
      expect(failing).toMatch(/SLOs: 2 of 3 hold\n {6}FAIL {2}nothing lost/);
      expect(failing).toContain('LOST: 2 acknowledged jobs are gone');
      expect(tooWide(failing)).toEqual([]);
    });

    it('wraps long lines at spaces, keeping the first line as indented as it was', () => {
      expect(wrapText('  aaa bbb ccc', 9, '    ')).toEqual(['  aaa bbb', '    ccc']);
      expect(wrapText('x'.repeat(120), COLUMNS)).toEqual(['x'.repeat(120)]);
    });
  });
});
