// A TargetSpec as the conformance suite (and `beanlab replay`) uses it: a TargetFactory that
// gives one session per case. The same description the load runner opens once (open.ts):
// an address is shared by every session and checked for a listener first; a spawn command is
// started once up front (a bad command is one clear error, not a failure per case) and then
// per session; the embedded server runs in this process, a fresh one per session, with faults
// injected when the spec names some.
import { nextEvent } from './connection.js';
import { canConnect, formatAddress, parseTarget, type Address } from './address.js';
import { embeddedTarget } from './embedded.js';
import { addressTarget, spawnTarget, type TargetFactory } from './sessions.js';
import { spawnServer } from './spawn.js';
import { faultArg, TargetError, type TargetSpec } from './spec.js';
import { TcpConnection } from './tcp-connection.js';
import { makeBinlogDir, removeBinlogDir } from './temp-dir.js';

const REACH_TIMEOUT_MS = 2000;

/**
 * The factory of sessions for `spec`, once the target is known to work: a TargetError when the
 * address is malformed or nobody listens there, when the spawn command lacks its placeholder or
 * does not start a server, or when an embedded spec has `serve` arguments (those are for a
 * load run's separate `beanlab serve` process; conformance runs the server in-process).
 */
export async function sessionsFor(spec: TargetSpec): Promise<TargetFactory> {
  if (spec.kind === 'address') {
    let address: Address;
    try {
      address = parseTarget(spec.address);
    } catch (error) {
      throw new TargetError((error as Error).message);
    }
    if (!(await canConnect(address, REACH_TIMEOUT_MS))) throw new TargetError(`cannot connect to ${formatAddress(address)}`);
    return addressTarget(address, { binlog: await keepsBinlog(address) });
  }
  if (spec.kind === 'spawn') {
    await checkStarts(spec.command);
    return spawnTarget(spec.command);
  }
  if (spec.args?.length) {
    throw new TargetError(`the embedded server's serve arguments (${spec.args.join(' ')}) apply to load runs only; a conformance run starts it in-process`);
  }
  return embeddedTarget(spec.faults);
}

/** What sessionsFor's factory will be called in reports, without reaching or starting anything. */
export function sessionsLabel(spec: TargetSpec): string {
  if (spec.kind === 'address') {
    try {
      return formatAddress(parseTarget(spec.address));
    } catch {
      return spec.address;
    }
  }
  if (spec.kind === 'spawn') return spec.command;
  return spec.faults?.length ? `embedded server with fault ${spec.faults.map(faultArg).join(',')}` : 'embedded server';
}

/**
 * Starts the command once and stops it: a command that cannot serve (spawnServer also refuses one
 * without its placeholder) is a TargetError before any case.
 */
async function checkStarts(command: string): Promise<void> {
  const binlogDir = command.includes('{binlog}') ? makeBinlogDir() : undefined;
  try {
    const probe = await spawnServer(command, { binlogDir });
    await probe.stop();
  } catch (error) {
    throw new TargetError((error as Error).message);
  } finally {
    if (binlogDir) removeBinlogDir(binlogDir);
  }
}

/**
 * Whether a running server keeps a binlog: beanstalkd's `stats` shows binlog-current-index 0
 * without -b and the current file's number (from 1) with it. False when it will not say.
 */
async function keepsBinlog(address: Address): Promise<boolean> {
  const conn = await TcpConnection.connect(address, REACH_TIMEOUT_MS).catch(() => undefined);
  if (!conn) return false;
  try {
    conn.send(Buffer.from('stats\r\n'));
    const event = await nextEvent(conn, REACH_TIMEOUT_MS);
    if (event?.kind !== 'reply' || event.reply.kind !== 'OK') return false;
    const index = /^binlog-current-index: (\d+)$/m.exec(Buffer.from(event.reply.body).toString('latin1'));
    return index !== null && Number(index[1]) > 0;
  } finally {
    conn.close();
  }
}
