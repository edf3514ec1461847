// The versioned JSON result of a conformance run; the terminal table and the reports are pure
// functions of it, and its zod schema lets any reader check a result file it did not write.
import { z } from 'zod';
import type { CommandKind, Profile } from '../protocol/types.js';
import { COMMAND_NAMES, type Capabilities } from './capabilities.js';
import { groupCauses, type CauseGroup } from './causes.js';
import type { CheckResult } from './corpus-runner.js';

/** Changes when a field changes meaning or goes; a reader refuses another version. */
export const CONFORMANCE_RESULT_VERSION = 1;

export interface ConformanceResult {
  kind: 'conformance';
  version: typeof CONFORMANCE_RESULT_VERSION;
  /** What was tested, as the report shows it. */
  target: string;
  profile: Profile;
  /** The transcript corpus is deterministic; a generated (property) layer records its seed here. */
  seed: number | null;
  passed: number;
  failed: number;
  skipped: number;
  /** Present (true) when Ctrl-C stopped the run: `checks` holds only those that had finished. */
  interrupted?: true;
  /** Checks that need a command the server lacks and are not about it (capabilities.ts). */
  notChecked: number;
  /** What the probe found before the checks ran; absent when nothing was probed. */
  capabilities?: Capabilities;
  /** The failing checks grouped by root cause, most checks first (causes.ts). */
  causes: Array<Pick<CauseGroup, 'key' | 'title' | 'checks'>>;
  /**
   * `notes` (SPEC: / DIFF: remarks from the case), `cause` (of a failure, its key) and
   * `warnings` (extensions) are present only when the check has some.
   */
  checks: Array<
    Pick<CheckResult, 'id' | 'section' | 'status' | 'rule' | 'expected' | 'actual' | 'replay'> & {
      notes?: string[];
      cause?: string;
      warnings?: string[];
    }
  >;
}

export function buildResult(
  target: string,
  profile: Profile,
  checks: readonly CheckResult[],
  seed: number | null = null,
  capabilities?: Capabilities,
): ConformanceResult {
  const count = (status: CheckResult['status']) => checks.filter((c) => c.status === status).length;
  return {
    kind: 'conformance',
    version: CONFORMANCE_RESULT_VERSION,
    target,
    profile,
    seed,
    passed: count('pass'),
    failed: count('fail'),
    skipped: count('skip'),
    notChecked: count('not-checked'),
    ...(capabilities ? { capabilities: { ...capabilities, missing: [...capabilities.missing] } } : {}),
    causes: groupCauses(checks).map(({ key, title, checks: ids }) => ({ key, title, checks: ids })),
    checks: checks.map(({ id, section, status, rule, expected, actual, replay, notes, cause, warnings }) => ({
      id,
      section,
      status,
      rule,
      expected,
      actual,
      ...(replay === undefined ? {} : { replay }),
      ...(notes.length === 0 ? {} : { notes: [...notes] }),
      ...(cause === undefined || status !== 'fail' ? {} : { cause: cause.key }),
      ...(warnings === undefined || warnings.length === 0 ? {} : { warnings: [...warnings] }),
    })),
  };
}

const count = z.number().int().min(0);

/** The schema of ConformanceResult (the two are checked against each other below). */
export const conformanceResultSchema = z.object({
  kind: z.literal('conformance'),
  version: z.literal(CONFORMANCE_RESULT_VERSION, {
    error: (issue) =>
      `this is a conformance result of version ${JSON.stringify(issue.input)}; this beanlab reads version ${CONFORMANCE_RESULT_VERSION} (run the suite again with this version, or read the file with the beanlab that wrote it)`,
  }),
  target: z.string(),
  profile: z.enum(['1.12', '1.13']),
  seed: z.number().int().min(0).nullable(),
  passed: count,
  failed: count,
  skipped: count,
  interrupted: z.literal(true).optional(),
  notChecked: count,
  capabilities: z
    .object({
      missing: z.array(z.enum(COMMAND_NAMES as [CommandKind, ...CommandKind[]])),
      integerIds: z.boolean(),
      idExample: z.string().optional(),
    })
    .optional(),
  causes: z.array(z.object({ key: z.string(), title: z.string(), checks: z.array(z.string()) })),
  checks: z.array(
    z.object({
      id: z.string(),
      section: z.string(),
      status: z.enum(['pass', 'fail', 'skip', 'not-checked']),
      rule: z.string(),
      expected: z.string(),
      actual: z.string(),
      replay: z.string().optional(),
      notes: z.array(z.string()).optional(),
      cause: z.string().optional(),
      warnings: z.array(z.string()).optional(),
    }),
  ),
});

// The interface (with its comments) and the schema describe the same value: either way assignable.
type SchemaResult = z.infer<typeof conformanceResultSchema>;
const _schemaFitsInterface = (value: SchemaResult): ConformanceResult => value;
const _interfaceFitsSchema = (value: ConformanceResult): SchemaResult => value;
void _schemaFitsInterface;
void _interfaceFitsSchema;
