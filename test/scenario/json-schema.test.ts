// The JSON Schema shipped for editors (schema/scenario.schema.json) must be what the zod schema
// generates today, and every shipped scenario must point its editor at it by a relative path
// that works both in the repository and in the installed package (same layout in both).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCENARIO_SCHEMA_PATH, scenarioJsonSchema } from '../../src/scenario/json-schema.js';

const root = resolve(import.meta.dirname, '..', '..');

describe('scenario JSON Schema', () => {
  it('the committed file equals the one generated from the zod schema (else: npm run schema)', () => {
    const committed = readFileSync(join(root, SCENARIO_SCHEMA_PATH), 'utf8');
    expect(committed).toBe(`${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`);
  });

  it('describes the scenario fields with their required ones and rejects unknown keys', () => {
    const schema = scenarioJsonSchema() as { properties: Record<string, unknown>; required: string[]; additionalProperties: unknown };
    expect(schema.required.sort()).toEqual(['name', 'producers', 'workers']);
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['durationSeconds', 'tubes', 'producers', 'workers', 'slos', 'load']));
    expect(schema.additionalProperties).toBe(false);
  });

  it('every shipped scenario names the schema on its first line, by a path that resolves', () => {
    const dir = join(root, 'scenarios');
    const files = readdirSync(dir).filter((name) => name.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(5);
    for (const name of files) {
      const first = readFileSync(join(dir, name), 'utf8').split('\n')[0];
      const match = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
      expect(match, `${name}: first line`).not.toBeNull();
      const target = resolve(dirname(join(dir, name)), match![1]);
      expect(target, name).toBe(join(root, SCENARIO_SCHEMA_PATH));
      expect(existsSync(target)).toBe(true);
    }
  });
});
