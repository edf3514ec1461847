// Reading the model's replies: finding a connection's own reply among a request's outputs, and the
// error for a reply the simulated clients cannot have caused. Every side of the simulator (and
// the result) reads replies this way, so it sits apart from all of them.
import type { ConnId, Output } from '../model/api.js';
import type { Reply } from '../protocol/types.js';

/** A reply the simulated clients cannot have caused: the model broke its contract. */
export class SimulationError extends Error {
  override name = 'SimulationError';
}

export function replyTo(outputs: Output[], conn: ConnId): Reply | undefined {
  for (let i = 0; i < outputs.length; i++) {
    const output = outputs[i];
    if (output.conn === conn && 'reply' in output) return output.reply;
  }
  return undefined;
}

export function unexpected(command: string, reply: Reply | undefined): SimulationError {
  return new SimulationError(`the model answered ${command} with ${reply ? reply.kind : 'nothing'}`);
}
