// Choosing what `beanlab conform` and `beanlab replay` point at: --target HOST:PORT or unix:PATH (shared,
// checked for reachability), --spawn COMMAND (a fresh server per case), or the embedded server,
// optionally with injected faults (the suite's self-test).
import type { TargetCoverage } from '../conformance/testserv.js';
import { startServer } from '../server/tcp.js';
import { faultIntercept, type FaultSpec } from '../server/faults.js';
import type { ReferenceModel } from '../model/api.js';
import { canConnect, formatAddress, LOOPBACK, parseTarget, type Address } from '../target/address.js';
import { nextEvent } from '../target/connection.js';
import { TcpConnection } from '../target/tcp-connection.js';
import { embeddedTarget } from '../target/embedded.js';
import { addressTarget, spawnTarget, TcpSession, type TargetFactory } from '../target/sessions.js';
import { spawnServer } from '../target/spawn.js';
import { makeBinlogDir, removeBinlogDir } from '../target/temp-dir.js';
import { UsageError } from './errors.js';

const REACH_TIMEOUT_MS = 2000;

export interface ChosenTarget {
  target: TargetFactory;
  /** Arguments that select the same target again (for replay commands). */
  replayArgs: string;
  /** Reached over a UNIX-domain socket (unix:PATH, or a command with {socket}). */
  unixSocket: boolean;
  /** A --spawn command with {socket}: beanlab can start it twice on one path. */
  socketCommand?: string;
}

/** What the chosen target lets a run cover (for the not-covered lines of the report). */
export function coverageOf(choice: ChosenTarget): TargetCoverage {
  return { unixSocket: choice.unixSocket, restartable: choice.socketCommand !== undefined, binlog: Boolean(choice.target.canPersist) };
}

export async function addressChoice(text: string): Promise<ChosenTarget> {
  let address;
  try {
    address = parseTarget(text);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (!(await canConnect(address, REACH_TIMEOUT_MS))) throw new UsageError(`cannot connect to ${formatAddress(address)}`);
  return { target: addressTarget(address, { binlog: await keepsBinlog(address) }), replayArgs: `--target ${text}`, unixSocket: address.path !== undefined };
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

export async function spawnChoice(command: string): Promise<ChosenTarget> {
  // Start it once up front so a bad command is one clear error, not a failure per case.
  const binlogDir = command.includes('{binlog}') ? makeBinlogDir() : undefined;
  try {
    const probe = await spawnServer(command, { binlogDir });
    await probe.stop();
  } catch (error) {
    throw new UsageError((error as Error).message);
  } finally {
    if (binlogDir) removeBinlogDir(binlogDir);
  }
  const socketCommand = command.includes('{socket}') ? command : undefined;
  return { target: spawnTarget(command), replayArgs: `--spawn ${shellWord(command)}`, unixSocket: socketCommand !== undefined, socketCommand };
}

export function embeddedChoice(faults: readonly FaultSpec[] = []): ChosenTarget {
  if (faults.length === 0) return { target: embeddedTarget(), replayArgs: '', unixSocket: false };
  const names = faults.map((f) => f.name + (f.value === undefined ? '' : `=${f.value}`));
  return { target: faultyEmbeddedTarget(faults, names.join(',')), replayArgs: names.map((n) => `--fault ${n}`).join(' '), unixSocket: false };
}

/** The embedded server with faults injected, a new one per session (as embeddedTarget). */
function faultyEmbeddedTarget(faults: readonly FaultSpec[], label: string): TargetFactory {
  return {
    label: `embedded server with fault ${label}`,
    freshPerCase: true,
    canSignal: true,
    canConfigure: true,
    open: async (settings) => {
      const intercept = faultIntercept(faults);
      let model: ReferenceModel | undefined;
      const server = await startServer({
        host: LOOPBACK,
        port: 0,
        profile: settings.profile,
        maxJobSize: settings.maxJobSize,
        intercept: { model: (m) => (model = intercept.model!(m)), sink: intercept.sink },
      });
      return new TcpSession(server, { stop: () => server.close(), drain: async () => model!.enterDrainMode() });
    },
  };
}

export function shellWord(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
