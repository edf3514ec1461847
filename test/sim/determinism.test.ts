import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/scenario/load.js';
import { resultSchema } from '../../src/metrics/result.js';
import { simulate } from '../../src/sim/run.js';

const file = 'scenarios/shared-pool.yaml';
const shared = parseScenario(readFileSync(file, 'utf8'), file);

describe('reproducibility', () => {
  it('gives byte-identical JSON for the same scenario and seed (seed 7), and a different run for seed 8', () => {
    const first = JSON.stringify(simulate(shared, 7));
    const second = JSON.stringify(simulate(shared, 7));
    expect(second).toBe(first);
    expect(JSON.stringify(simulate(shared, 8))).not.toBe(first);
  });

  it('produces results that validate against the shared result schema', () => {
    const result = simulate(shared, 7);
    expect(resultSchema.safeParse(JSON.parse(JSON.stringify(result))).success).toBe(true);
    expect(Object.keys(result.byTube)).toEqual(['thumbnails', 'pdfs', 'webhooks']);
    expect(Object.keys(result.byPriority)).toEqual(['high', 'normal']);
    const tubePut = Object.values(result.byTube).reduce((sum, b) => sum + b.jobs.put, 0);
    expect(tubePut).toBe(result.jobs.put);
    expect(result.jobs.completed + result.jobs.buried + result.jobs.remaining + result.jobs.lost).toBe(result.jobs.put);
  });
});
