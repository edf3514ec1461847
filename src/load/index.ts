// The load runner's public face: run a scenario against a real server (the CLI writes the reports).
export { runLoad, runOnce, DEFAULT_SEED, type LoadOptions, type LoadProgress } from './run.js';
// Targets are src/target's (one type for load and conformance); re-exported for the load runner's users.
export { openTarget, type OpenTarget } from '../target/open.js';
export { targetLabel, TargetError, type TargetSpec } from '../target/spec.js';
export { planLoad, PlanError, type LoadOverrides } from './plan.js';
