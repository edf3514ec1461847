// Reads the few numbers the simulator needs out of the model's own `stats` / `stats-tube` YAML,
// so queue depths come from beanstalkd's view, not from the simulator's bookkeeping.
import type { QueueDepths } from '../metrics/timeseries.js';
import type { Reply } from '../protocol/types.js';

const decoder = new TextDecoder();

/** Compiled once per key: the sampler reads four fields at every sample of a long run. */
const fieldPatterns = new Map<string, RegExp>();

function field(text: string, key: string): number {
  let pattern = fieldPatterns.get(key);
  if (pattern === undefined) {
    pattern = new RegExp(`^${key}: (\\d+)$`, 'm');
    fieldPatterns.set(key, pattern);
  }
  const match = pattern.exec(text);
  return match ? Number(match[1]) : 0;
}

/** One `key: <integer>` field of a stats reply; a NOT_FOUND stats-tube (tube gone) reads as 0. */
export function readCounter(reply: Reply | undefined, key: string): number {
  if (reply?.kind !== 'OK') return 0;
  return field(decoder.decode(reply.body), key);
}

export function readDepths(reply: Reply | undefined): QueueDepths {
  if (reply?.kind !== 'OK') return { ready: 0, reserved: 0, delayed: 0, buried: 0 };
  const text = decoder.decode(reply.body);
  return {
    ready: field(text, 'current-jobs-ready'),
    reserved: field(text, 'current-jobs-reserved'),
    delayed: field(text, 'current-jobs-delayed'),
    buried: field(text, 'current-jobs-buried'),
  };
}
