// The package entry, `import ... from 'beanlab'`. Small for now: scenarios (read, validate, the
// zod schema and its types) and the result schemas; the reference model is `beanlab/model`.
// The CLI is `bin/beanlab.js`; nothing here prints.
import { readFile } from 'node:fs/promises';
import { parseScenario } from './scenario/load.js';
import type { Scenario } from './scenario/schema.js';

export { parseScenario, parseScenarioYaml, validateScenario, ScenarioError } from './scenario/load.js';
export { scenarioSchema, DEFAULT_PRIORITY_CLASSES } from './scenario/schema.js';
export type { Scenario, ScenarioInput } from './scenario/schema.js';
export { RESULT_VERSION, resultSchema, runResultSchema } from './metrics/result.js';
export type { Result, RunResult } from './metrics/result.js';

/**
 * Reads and validates a scenario file (YAML, as `beanlab sim` and `beanlab load` read it).
 * Throws ScenarioError naming the file, the path inside it and what was expected; a file that
 * cannot be read rejects with the usual Node error.
 */
export async function loadScenario(path: string): Promise<Scenario> {
  return parseScenario(await readFile(path, 'utf8'), path);
}
