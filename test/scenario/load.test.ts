import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseScenario, ScenarioError } from '../../src/scenario/load.js';
import { parseSweep, withSweepValue } from '../../src/scenario/sweep.js';

function errorOf(yaml: string): string {
  try {
    parseScenario(yaml, 'scenarios/bad.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ScenarioError);
    return (err as Error).message;
  }
  throw new Error('expected the scenario to be rejected');
}

const minimal = `
name: ok
jobs: 10
producers:
  - arrival: { process: poisson, ratePerSecond: 8 }
workers:
  - count: 2
    service: { distribution: exponential, meanSeconds: 1 }
`;

describe('scenario files', () => {
  it('accepts every shipped scenario', () => {
    const files = readdirSync('scenarios').filter((f) => f.endsWith('.yaml'));
    expect(files).toEqual(expect.arrayContaining(['mmc.yaml', 'emails.yaml', 'delayed-reports.yaml', 'flaky-webhooks.yaml', 'shared-pool.yaml', 'burst-drain.yaml']));
    for (const f of files) expect(() => parseScenario(readFileSync(`scenarios/${f}`, 'utf8'), f)).not.toThrow();
  });

  it('fills in defaults', () => {
    const s = parseScenario(minimal, 'x');
    expect(s.producers[0]).toMatchObject({ tube: 'default', priority: 1024, ttrSeconds: 60, delaySeconds: 0 });
    expect(s.workers[0].watch).toEqual(['default']);
    expect(s.priorityClasses).toEqual({ critical: 1, high: 256, normal: 1024, low: 2048 });
  });

  it('names the file, the path and what was expected', () => {
    const message = errorOf(minimal.replace('ratePerSecond: 8', 'ratePerSecond: fast'));
    expect(message).toContain('scenarios/bad.yaml');
    expect(message).toContain('producers[0].arrival.ratePerSecond: expected number, received string');
    expect(errorOf(minimal.replace('exponential', 'pareto'))).toContain(
      "workers[0].service.distribution: expected 'constant' | 'exponential' | 'lognormal' | 'empirical'",
    );
    expect(errorOf(minimal.replace('count: 2', 'count: 2\n    colour: red'))).toContain('workers[0]: unknown field colour');
    expect(errorOf(minimal.replace('name: ok', ''))).toContain('name: missing, expected string');
  });

  it('checks cross references: tubes, priority classes and bounds', () => {
    expect(errorOf(`tubes: [a]\n${minimal}`)).toContain('producers[0].tube: expected a tube listed in tubes (a)');
    expect(errorOf(minimal.replace('ratePerSecond: 8 }', 'ratePerSecond: 8 }\n    priority: urgent'))).toContain(
      'producers[0].priority: expected a priority class from priorityClasses',
    );
    expect(errorOf(minimal.replace('jobs: 10', ''))).toContain('producers[0]: expected a bound');
  });

  it('reports YAML syntax errors with line and column', () => {
    expect(errorOf('name: [oops\n')).toMatch(/^scenarios\/bad\.yaml:\d+:\d+: invalid YAML/);
  });
});

describe('--sweep', () => {
  it('parses ranges with and without a step', () => {
    expect(parseSweep('workers=2..5')).toEqual({ key: 'workers', values: [2, 3, 4, 5] });
    expect(parseSweep('workers=10..30:10')).toEqual({ key: 'workers', values: [10, 20, 30] });
    expect(parseSweep('producers.0.arrival.ratePerSecond=0.5..1:0.1').values).toEqual([0.5, 0.6, 0.7, 0.8, 0.9, 1]);
    expect(() => parseSweep('workers=5..2')).toThrow(ScenarioError);
    expect(() => parseSweep('workers')).toThrow(/KEY=A\.\.B/);
  });

  it('sets the only pool’s count, or any dotted path, without touching the original', () => {
    const doc = { workers: [{ count: 1 }], producers: [{ arrival: { ratePerSecond: 1 } }] };
    expect(withSweepValue(doc, 'workers', 7)).toEqual({ ...doc, workers: [{ count: 7 }] });
    expect(withSweepValue(doc, 'producers.0.arrival.ratePerSecond', 3)).toMatchObject({ producers: [{ arrival: { ratePerSecond: 3 } }] });
    expect(doc.workers[0].count).toBe(1);
    expect(() => withSweepValue({ workers: [{}, {}] }, 'workers', 3)).toThrow(/exactly one worker pool/);
    expect(() => withSweepValue(doc, 'nothing.here', 3)).toThrow(/has no nothing/);
  });
});
