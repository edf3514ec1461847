// `npm run schema`: writes schema/scenario.schema.json from the zod scenario schema (see
// src/scenario/json-schema.ts). Run it after changing src/scenario/schema.ts and commit the file;
// test/scenario/json-schema.test.ts fails while the two differ.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SCENARIO_SCHEMA_PATH, scenarioJsonSchema } from '../src/scenario/json-schema.js';

const file = fileURLToPath(new URL(`../${SCENARIO_SCHEMA_PATH}`, import.meta.url));
writeFileSync(file, `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`);
console.log(`wrote ${SCENARIO_SCHEMA_PATH}`);
