// Results read back: a result file of `beanlab sim` or `beanlab load` (or the library's JSON.
// stringify of one), checked against its schema. The one file read here is the one named.
import { readFile } from 'node:fs/promises';
import { loadResultSchema, type LoadResult } from '../metrics/load-result.js';
import { resultSchema, type Result } from '../metrics/result.js';

/** Not a beanlab result: unreadable, not JSON, or not of either result schema. */
export class ResultError extends Error {
  override name = 'ResultError';
}

/**
 * Checks a parsed JSON value against the result schemas: a load result (`loadResultSchema`) or
 * a simulation result (`resultSchema`). Throws ResultError naming `source` and the first field
 * that does not fit.
 */
export function parseResult(value: unknown, source = 'the value'): Result | LoadResult {
  const asLoad = loadResultSchema.safeParse(value);
  if (asLoad.success) return asLoad.data;
  const asRun = resultSchema.safeParse(value);
  if (asRun.success) return asRun.data;
  const issue = asLoad.error.issues[0];
  throw new ResultError(`${source} is not a beanlab result: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
}

/**
 * Reads a result file: JSON, or a log that ends with one (a pod's log of `beanlab load --json -`,
 * which writes the result as its last line on stdout). Rejects with ResultError naming the file.
 */
export async function loadResult(path: string): Promise<Result | LoadResult> {
  let value: unknown;
  try {
    value = resultFromText(await readFile(path, 'utf8'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ResultError(`cannot read result ${path}: ${reason}`, { cause: error });
  }
  return parseResult(value, path);
}

/** The text as JSON, or else the last line of it that is a JSON object (a log ending with a result). */
export function resultFromText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const lines = text.split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      const line = lines[i].trim();
      if (!line.startsWith('{')) continue;
      try {
        return JSON.parse(line);
      } catch {
        // Not this line.
      }
    }
    throw error;
  }
}
