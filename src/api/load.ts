// `runLoad`: a scenario against a real server (src/load), for the library. The runner already
// takes its options as an object, reports progress by callback and stops on an AbortSignal;
// this adds the scenario's validation, so a JavaScript caller's object is checked first.
import type { LoadResult } from '../metrics/load-result.js';
import { runLoad as runLoadScenario, type LoadOptions } from '../load/run.js';
import type { Scenario, ScenarioInput } from '../scenario/schema.js';
import { checkedScenario } from './scenario.js';

/**
 * Runs a scenario against a real server: producers and workers as TCP connections, latency in
 * HDR histograms, server stats sampled, every acknowledged job audited at the end (lost,
 * duplicated, unverified, not deleted). Resolves with a versioned result (`loadResultSchema`)
 * whose `pass` is false when an SLO failed or a job went wrong; it never prints or writes files.
 * Rejects with a ScenarioError (invalid scenario), PlanError (options that cannot make a run),
 * TargetError (a server that cannot be reached or started), BarrierTimeout (sharded runs), or
 * NotStartedError (aborted before it started).
 */
export async function runLoad(scenario: Scenario | ScenarioInput, options: LoadOptions = {}): Promise<LoadResult> {
  return runLoadScenario(checkedScenario(scenario), options);
}
