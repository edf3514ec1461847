// A target opened for a run that talks to one server throughout (the load runner): the address
// is checked for a listener, a spawn command or the embedded server (`beanlab serve`, its own
// process, so that the server does not share the load generator's event loop) is started.
import { fileURLToPath } from 'node:url';
import { canConnect, formatAddress, parseTarget, type Address } from './address.js';
import { shellQuote } from './shell.js';
import { spawnServer } from './spawn.js';
import { checkSpawnCommand, embeddedArgs, TargetError, targetLabel, type TargetSpec } from './spec.js';

export interface OpenTarget {
  /** Where the server listens: TCP, or a UNIX-domain socket (unix:PATH, a {socket} command). */
  address: Address;
  label: string;
  /** Started for this run: nobody else's jobs are in it. */
  ours: boolean;
  /** Stops the server if this run started it. */
  stop(): Promise<void>;
}

/** bin/beanlab.js, two folders up from both src/target/ and dist/target/. */
const BEANLAB_BIN = fileURLToPath(new URL('../../bin/beanlab.js', import.meta.url));
/** `beanlab serve` may take a few seconds to start on a busy machine (in a clone, its first start bundles the sources). */
const START_TIMEOUT_MS = 30_000;
const CONNECT_TIMEOUT_MS = 3000;

/** The shell command that starts the embedded server with these `serve` arguments on {port}. */
export function embeddedCommand(args: readonly string[] = []): string {
  return [process.execPath, BEANLAB_BIN, 'serve', '--port', '{port}', ...args].map(shellQuote).join(' ');
}

/** Reaches or starts the target's server; a TargetError when it cannot. */
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
  if (spec.kind === 'spawn') checkSpawnCommand(spec.command);
  const command = spec.kind === 'embedded' ? embeddedCommand(embeddedArgs(spec)) : spec.command;
  try {
    // Its own process group: Ctrl-C in a terminal must not stop it before the final audit.
    const server = await spawnServer(command, { startTimeoutMs: START_TIMEOUT_MS });
    const address: Address = server.path !== undefined ? { path: server.path } : { host: server.host, port: server.port };
    return { address, label: targetLabel(spec), ours: true, stop: () => server.stop() };
  } catch (error) {
    throw new TargetError((error as Error).message);
  }
}
