// Reads the few numbers the simulator needs out of the model's own `stats` / `stats-tube` YAML,
// so queue depths come from beanstalkd's view, not from the simulator's bookkeeping.
import type { QueueDepths } from '../metrics/timeseries.js';
import type { Reply } from '../protocol/types.js';

const decoder = new TextDecoder();

/** One `key: <integer>` field of a stats reply; a NOT_FOUND stats-tube (tube gone) reads as 0. */
export function readCounter(reply: Reply | undefined, key: string): number {
  if (reply?.kind !== 'OK') return 0;
  const match = new RegExp(`^${key}: (\\d+)$`, 'm').exec(decoder.decode(reply.body));
  return match ? Number(match[1]) : 0;
}

export function readDepths(reply: Reply | undefined): QueueDepths {
  if (reply?.kind !== 'OK') return { ready: 0, reserved: 0, delayed: 0, buried: 0 };
  const text = decoder.decode(reply.body);
  const field = (key: string) => {
    const match = new RegExp(`^current-jobs-${key}: (\\d+)$`, 'm').exec(text);
    return match ? Number(match[1]) : 0;
  };
  return { ready: field('ready'), reserved: field('reserved'), delayed: field('delayed'), buried: field('buried') };
}
