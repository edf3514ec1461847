// What a run points at, described as data: the one type the CLI's --target and --spawn, the
// library's options, the load runner and the conformance suite share. How a run uses it is up to
// the run: load starts one server (open.ts), conformance a server per case (sessions.ts).
import type { FaultSpec } from '../server/faults.js';
import { shellQuote } from './shell.js';

export type TargetSpec =
  /**
   * A server that is already running, at `HOST:PORT` or `unix:PATH`, maybe shared with other
   * clients. `ours`: it was started for this run by someone else (--processes' parent), so
   * nobody else's jobs are in it.
   */
  | { kind: 'address'; address: string; ours?: boolean }
  /**
   * A server beanlab starts (and stops by its PID) with this shell command: `{port}` is replaced
   * by a free loopback port or `{socket}` by a fresh UNIX-socket path (one of the two), and an
   * optional `{binlog}` by a fresh binlog directory.
   */
  | { kind: 'spawn'; command: string }
  /**
   * beanlab's own server (`beanlab serve`), optionally with faults injected (the suite's
   * self-test) or other `serve` arguments.
   */
  | { kind: 'embedded'; faults?: readonly FaultSpec[]; args?: readonly string[] };

/** A target that cannot be used as described, reached or started: bad input, exit status 2. */
export class TargetError extends Error {
  override name = 'TargetError';
}

/** `name` or `name=value`, as --fault takes it. */
export function faultArg(fault: FaultSpec): string {
  return fault.name + (fault.value === undefined ? '' : `=${fault.value}`);
}

/** The `beanlab serve` arguments of an embedded target: its faults, then its other arguments. */
export function embeddedArgs(spec: Extract<TargetSpec, { kind: 'embedded' }>): string[] {
  return [...(spec.faults ?? []).flatMap((fault) => ['--fault', faultArg(fault)]), ...(spec.args ?? [])];
}

/** For reports: the address, the command, or `embedded (beanlab serve ARGS)`. */
export function targetLabel(spec: TargetSpec): string {
  if (spec.kind === 'address') return spec.address;
  if (spec.kind === 'spawn') return spec.command;
  const args = embeddedArgs(spec);
  return `embedded (beanlab serve${args.length ? ' ' + args.join(' ') : ''})`;
}

/**
 * The `beanlab conform` / `beanlab replay` arguments that select the same target again, for the
 * replay lines of failing checks: `--target ADDRESS`, `--spawn 'COMMAND'`, `--fault NAME`...
 * (empty for the plain embedded server).
 */
export function replayArgs(spec: TargetSpec): string {
  if (spec.kind === 'address') return `--target ${spec.address}`;
  if (spec.kind === 'spawn') return `--spawn ${shellQuote(spec.command)}`;
  return (spec.faults ?? []).map((fault) => `--fault ${faultArg(fault)}`).join(' ');
}

/** A spawn command needs exactly one of {port} and {socket}: where the server will listen. */
export function checkSpawnCommand(command: string): void {
  if (command.includes('{port}') === command.includes('{socket}')) {
    throw new TargetError(`the spawn command needs a {port} or a {socket} placeholder (one of them): '${command}'`);
  }
}
