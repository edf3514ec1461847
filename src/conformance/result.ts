// The versioned JSON result of a conformance run; the terminal table is a pure function of it.
import type { Profile } from '../protocol/types.js';
import type { CheckResult } from './corpus-runner.js';

export interface ConformanceResult {
  kind: 'conformance';
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
  /** `notes` (SPEC: / DIFF: remarks from the case) is present only when the case has some. */
  checks: Array<Pick<CheckResult, 'id' | 'section' | 'status' | 'rule' | 'expected' | 'actual' | 'replay'> & { notes?: string[] }>;
}

export function buildResult(
  target: string,
  profile: Profile,
  checks: readonly CheckResult[],
  seed: number | null = null,
): ConformanceResult {
  const count = (status: CheckResult['status']) => checks.filter((c) => c.status === status).length;
  return {
    kind: 'conformance',
    target,
    profile,
    seed,
    passed: count('pass'),
    failed: count('fail'),
    skipped: count('skip'),
    checks: checks.map(({ id, section, status, rule, expected, actual, replay, notes }) => ({
      id,
      section,
      status,
      rule,
      expected,
      actual,
      ...(replay === undefined ? {} : { replay }),
      ...(notes.length === 0 ? {} : { notes: [...notes] }),
    })),
  };
}
