// Turns scenario text into a validated Scenario, or into one ScenarioError whose message names
// the file, the path inside it and what was expected. No file I/O here: the CLI reads the file.
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { scenarioSchema, type Scenario } from './schema.js';

export class ScenarioError extends Error {
  override name = 'ScenarioError';
}

/** Parses YAML text into a plain document (not yet validated). */
export function parseScenarioYaml(text: string, source: string): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    const pos = lineCounter.linePos(first.pos[0]);
    throw new ScenarioError(`${source}:${pos.line}:${pos.col}: invalid YAML: ${first.message.split('\n')[0]}`);
  }
  return doc.toJS();
}

/** Validates a parsed document against the scenario schema. */
export function validateScenario(document: unknown, source: string): Scenario {
  const parsed = scenarioSchema.safeParse(document);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.slice(0, 5).map((issue) => `  ${formatPath(issue.path)}: ${describeIssue(issue)}`);
  const more = parsed.error.issues.length > 5 ? `\n  (${parsed.error.issues.length - 5} more problems)` : '';
  throw new ScenarioError(`${source}: invalid scenario\n${lines.join('\n')}${more}`);
}

export function parseScenario(text: string, source: string): Scenario {
  return validateScenario(parseScenarioYaml(text, source), source);
}

/** `producers[0].arrival.ratePerSecond`, or `(top level)` for the document itself. */
function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  return path
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : i === 0 ? String(key) : `.${String(key)}`))
    .join('');
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      // zod does not keep the input, but its message names what it received.
      return issue.message.endsWith('received undefined')
        ? `missing, expected ${issue.expected}`
        : issue.message.replace(/^Invalid input: /, '');
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
    case 'custom':
      return `expected ${issue.message}`;
    default:
      return issue.message.replace(/^Invalid (input|discriminator value)\. ?/, '').replace(/^Expected/, 'expected');
  }
}
