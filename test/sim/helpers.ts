import { createHash } from 'node:crypto';
import { parseScenario } from '../../src/scenario/load.js';
import type { Scenario } from '../../src/scenario/schema.js';
import { simulate } from '../../src/sim/run.js';

/** A scenario from inline YAML, validated exactly as a file would be. */
export function scenario(yaml: string): Scenario {
  return parseScenario(yaml, 'inline test scenario');
}

/** SHA-256 of a run's JSON result: what the golden tests pin. */
export function resultHash(scenario: Scenario, seed: number, paranoidEvery = 0): string {
  return createHash('sha256').update(JSON.stringify(simulate(scenario, seed, undefined, { paranoidEvery }))).digest('hex');
}
