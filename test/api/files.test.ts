// loadScenario, loadResult and parseResult from the package entry: the files a library user
// reads, with one error type each that names the file and what is wrong.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadResult, loadScenario, parseResult, ResultError, ScenarioError, simulate } from '../../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'beanlab-api-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadScenario (library)', () => {
  it('reads and validates a scenario file, defaults filled in', async () => {
    const scenario = await loadScenario('scenarios/smoke.yaml');
    expect(scenario.name).toBe('smoke');
    expect(scenario.producers[0].arrival.process).toBe('poisson');
    expect(scenario.workers[1].watch).toEqual(['reports']);
  });

  it('rejects with a ScenarioError naming the file: missing (with the Node error as cause), bad YAML, an invalid field', async () => {
    const missing = join(dir, 'missing.yaml');
    const error = await loadScenario(missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScenarioError);
    expect((error as Error).message).toBe(`cannot read scenario ${missing}: ENOENT`);
    expect(((error as Error).cause as NodeJS.ErrnoException).code).toBe('ENOENT');
    writeFileSync(join(dir, 'bad.yaml'), 'name: [unclosed\n');
    await expect(loadScenario(join(dir, 'bad.yaml'))).rejects.toThrow(/bad\.yaml:\d+:\d+: invalid YAML/);
    writeFileSync(join(dir, 'invalid.yaml'), 'name: x\njobs: 10\nproducers: [{ arrival: { process: constant, ratePerSecond: 1 } }]\nworkers: [{ count: 1, service: { distribution: constant, seconds: 0 } }]\nsurprise: 1\n');
    await expect(loadScenario(join(dir, 'invalid.yaml'))).rejects.toThrow(/invalid\.yaml: invalid scenario\n.*unknown field surprise/);
  });
});

describe('loadResult / parseResult (library)', () => {
  it('reads a result file, or a log whose last JSON line is the result', async () => {
    const result = await simulate({ name: 'r', jobs: 50, producers: [{ arrival: { process: 'constant', ratePerSecond: 5 } }], workers: [{ count: 1, service: { distribution: 'constant', seconds: 0.1 } }] }, { seed: 2 });
    writeFileSync(join(dir, 'result.json'), JSON.stringify(result, null, 2));
    expect(await loadResult(join(dir, 'result.json'))).toEqual(result);
    writeFileSync(join(dir, 'pod.log'), `starting\nprogress 50%\n${JSON.stringify(result)}\n`);
    expect(await loadResult(join(dir, 'pod.log'))).toEqual(result);
  });

  it('rejects what is not a result with a ResultError naming the file and the field', async () => {
    await expect(loadResult(join(dir, 'none.json'))).rejects.toThrow(/^cannot read result .*none\.json: ENOENT$/);
    writeFileSync(join(dir, 'other.json'), JSON.stringify({ kind: 'sim', version: 99 }));
    await expect(loadResult(join(dir, 'other.json'))).rejects.toThrow(ResultError);
    await expect(loadResult(join(dir, 'other.json'))).rejects.toThrow(/other\.json is not a beanlab result: /);
    expect(() => parseResult([1, 2])).toThrow(/^the value is not a beanlab result: \(top level\)/);
  });
});
