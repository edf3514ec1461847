// Scenario files for the library: read, parse and validate in one call. The one file read here
// is the scenario the caller names; every failure is a ScenarioError naming that file.
import { readFile } from 'node:fs/promises';
import { parseScenarioYaml, ScenarioError, validateScenario } from '../scenario/load.js';
import type { Scenario, ScenarioInput } from '../scenario/schema.js';

/**
 * Reads and validates a scenario file (YAML, as `beanlab sim` and `beanlab load` read it).
 * Rejects with a ScenarioError whose message names the file and, for an invalid scenario, the
 * path inside it and what was expected; a file that cannot be read gives
 * `cannot read scenario FILE: ENOENT` with the Node error as `cause`.
 */
export async function loadScenario(path: string): Promise<Scenario> {
  return validateScenario(await loadScenarioDocument(path), path);
}

/** The scenario file as a plain document, parsed but not yet validated (what `--sweep` edits). */
export async function loadScenarioDocument(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ScenarioError(`cannot read scenario ${path}: ${reason}`, { cause: error });
  }
  return parseScenarioYaml(text, path);
}

/**
 * A scenario given to the library as an object: validated (defaults filled in) so that a
 * JavaScript caller's typo is a ScenarioError naming the field, not a crash deep in a run.
 * Validating a scenario that is already valid gives it back unchanged.
 */
export function checkedScenario(scenario: Scenario | ScenarioInput, source?: string): Scenario {
  const name = (scenario as { name?: unknown } | null)?.name;
  return validateScenario(scenario, source ?? (typeof name === 'string' ? `scenario ${name}` : 'scenario'));
}
