// What a load run measures: a server someone runs (host:port or unix:PATH), a command beanlab
// starts with a {port} or {socket} placeholder, or by default the embedded server as a separate
// `beanlab serve` process, so the server does not share the load generator's event loop.
import { fileURLToPath } from 'node:url';
import { canConnect, formatAddress, parseTarget, spawnServer, type Address } from '../target/index.js';

export type TargetSpec =
  | { kind: 'embedded'; args?: string[] }
  /** `ours`: started for this run by someone else (--processes' parent): nobody else's jobs are in it. */
  | { kind: 'address'; address: string; ours?: boolean }
  | { kind: 'spawn'; command: string };

export interface OpenTarget {
  /** Where the server listens: TCP, or a UNIX-domain socket (unix:PATH, a {socket} command). */
  address: Address;
  label: string;
  /** Started for this run: nobody else's jobs are in it. */
  ours: boolean;
  stop(): Promise<void>;
}

/** The target could not be reached or started: bad input, exit status 2. */
export class TargetError extends Error {
  override name = 'TargetError';
}

const BEANLAB_BIN = fileURLToPath(new URL('../../bin/beanlab.js', import.meta.url));
/** `beanlab serve` may take a few seconds to start on a busy machine (in a clone, its first start bundles the sources). */
const START_TIMEOUT_MS = 30_000;
const CONNECT_TIMEOUT_MS = 3000;

export function embeddedCommand(args: readonly string[] = []): string {
  return [process.execPath, BEANLAB_BIN, 'serve', '--port', '{port}', ...args].map(shellQuote).join(' ');
}

export function targetLabel(spec: TargetSpec): string {
  if (spec.kind === 'embedded') return `embedded (beanlab serve${spec.args?.length ? ' ' + spec.args.join(' ') : ''})`;
  return spec.kind === 'address' ? spec.address : spec.command;
}

export async function openTarget(spec: TargetSpec): Promise<OpenTarget> {
  if (spec.kind === 'address') {
    let address;
    try {
      address = parseTarget(spec.address);
    } catch (error) {
      throw new TargetError((error as Error).message);
    }
    if (!(await canConnect(address, CONNECT_TIMEOUT_MS))) throw new TargetError(`cannot connect to ${formatAddress(address)}`);
    return { address, label: spec.address, ours: spec.ours ?? false, stop: async () => {} };
  }
  const command = spec.kind === 'embedded' ? embeddedCommand(spec.args) : spec.command;
  try {
    // Its own process group: Ctrl-C in a terminal must not stop it before the final audit.
    const server = await spawnServer(command, { startTimeoutMs: START_TIMEOUT_MS });
    const address: Address = server.path !== undefined ? { path: server.path } : { host: server.host, port: server.port };
    return { address, label: targetLabel(spec), ours: true, stop: () => server.stop() };
  } catch (error) {
    throw new TargetError((error as Error).message);
  }
}

function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_\/.:=@%+{}-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
