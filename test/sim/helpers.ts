import { parseScenario } from '../../src/scenario/load.js';
import type { Scenario } from '../../src/scenario/schema.js';

/** A scenario from inline YAML, validated exactly as a file would be. */
export function scenario(yaml: string): Scenario {
  return parseScenario(yaml, 'inline test scenario');
}
