// The versioned JSON result of a conformance run; the terminal table is a pure function of it.
import type { Profile } from '../protocol/types.js';
import type { Capabilities } from './capabilities.js';
import { groupCauses, type CauseGroup } from './causes.js';
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
