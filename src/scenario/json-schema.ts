// The scenario format as a JSON Schema, for editors (`# yaml-language-server: $schema=...` in a
// scenario file) and for tools outside TypeScript. Generated from the zod schema, the single
// source of truth; `npm run schema` writes it to schema/scenario.schema.json, which the package
// ships, and a test keeps the committed file equal to this.
//
// What JSON Schema cannot say is left to `beanlab sim`/`load`, which validate with zod: the
// cross-field rules (a bound on every producer, priority classes and tubes that exist, ranges
// with min <= max, schedule steps in order).
import { z } from 'zod';
import { scenarioSchema } from './schema.js';

/** Path of the committed file, relative to the package root. */
export const SCENARIO_SCHEMA_PATH = 'schema/scenario.schema.json';

export function scenarioJsonSchema(): Record<string, unknown> {
  return {
    // draft-07: the newest draft that yaml-language-server and most editors read fully.
    ...z.toJSONSchema(scenarioSchema, { io: 'input', target: 'draft-7' }),
    title: 'beanlab scenario',
    description:
      'A scenario for `beanlab sim` (simulated) and `beanlab load` (a real server). Cross-field rules ' +
      '(bounds, known tubes and priority classes, min <= max) are checked by beanlab itself.',
  };
}
