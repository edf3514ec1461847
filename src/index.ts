// The package entry, `import ... from 'beanlab'`: the library API (docs/library.md). Each
// function is a small module in src/api over the core; none prints, writes a file or exits the
// process: progress comes by callback, cancellation by AbortSignal, failures as typed errors.
// The reference model is `beanlab/model`; the CLI (`bin/beanlab.js`) is a thin layer over these.

// Scenarios: read, parse, validate; the zod schema and its types.
export { loadScenario } from './api/scenario.js';
export { parseScenario, parseScenarioYaml, validateScenario, ScenarioError } from './scenario/load.js';
export { scenarioSchema, DEFAULT_PRIORITY_CLASSES } from './scenario/schema.js';
export type { Scenario, ScenarioInput, SloSpec } from './scenario/schema.js';
export type { SweepSpec } from './scenario/sweep.js';

// Conformance: the suite against servers; its versioned result and zod schema.
export {
  runConformance,
  runConformanceMutation,
  ConformanceError,
  DEFAULT_CONFORMANCE_CONCURRENCY,
  type ConformanceOptions,
  type ConformanceProgress,
  type ConformanceMutation,
} from './api/conformance.js';
export { CONFORMANCE_RESULT_VERSION, conformanceResultSchema, type ConformanceResult } from './conformance/result.js';
export type { CheckResult, CheckStatus } from './conformance/corpus-runner.js';

// Capacity planning: the deterministic simulator.
export { simulate, type SimulateOptions, type SimulateProgress } from './api/simulate.js';
export { SimulationError } from './sim/engine.js';

// Load against a real server.
export { runLoad } from './api/load.js';
export { DEFAULT_SEED as DEFAULT_LOAD_SEED, NotStartedError, type LoadOptions, type LoadProgress } from './load/run.js';
export { TargetError, targetLabel, type TargetSpec } from './target/spec.js';
export type { FaultSpec } from './server/faults.js';
export { PlanError } from './load/plan.js';
export { BarrierTimeout } from './load/rendezvous.js';
export type { ShardSpec } from './load/shard.js';

// Results: compare (the CI gate), merge, read back; the zod schemas and their types.
export { compareResults, compareAb, ComparisonError, type CompareOptions } from './api/compare.js';
export { comparabilityProblem, DEFAULT_CONFIDENCE, DEFAULT_THRESHOLDS, parseThresholds, runsNeeded, ThresholdError } from './metrics/compare.js';
export type { Comparison, ComparisonRow, Threshold, Verdict } from './metrics/compare.js';
export { mergeResults, MergeError, type MergeMode, type MergeOptions } from './api/merge.js';
export { loadResult, parseResult, ResultError } from './api/results.js';
export { RESULT_VERSION, resultSchema, runResultSchema } from './metrics/result.js';
export type { Result, RunResult } from './metrics/result.js';
export { loadResultSchema } from './metrics/load-result.js';
export type { LoadResult } from './metrics/load-result.js';
