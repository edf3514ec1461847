// The load runner's public face: run a scenario against a real server, and write its reports.
export { runLoad, runOnce, DEFAULT_SEED, type LoadOptions, type LoadProgress } from './run.js';
export { openTarget, targetLabel, TargetError, type TargetSpec } from './target.js';
export { planLoad, PlanError, type LoadOverrides } from './plan.js';
export { writeLoadReport, readUplotAssets } from './report-files.js';
