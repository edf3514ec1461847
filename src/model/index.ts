// The reference model of beanstalkd 1.12 (and the 1.13 differences): see api.ts for the contract.
export type {
  BodyPacking,
  ConnId,
  JobCounterValues,
  JobState,
  JobView,
  ModelOptions,
  Output,
  ReferenceModel,
  RestorableModel,
  RestoredJob,
  ServerInfo,
  WaiterPicker,
} from './api.js';
export { createModel, DEFAULT_SERVER_INFO } from './model.js';
export { COUNTER_NAMES, SAFETY_MARGIN_US, US_PER_SECOND } from './core.js';
