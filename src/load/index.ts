// The load runner's public face: run a scenario against a real server (the CLI writes the reports).
export { runLoad, runOnce, DEFAULT_SEED, type LoadOptions, type LoadProgress } from './run.js';
export { openTarget, targetLabel, TargetError, type TargetSpec } from './target.js';
export { planLoad, PlanError, type LoadOverrides } from './plan.js';
