// The embedded server (the model behind TCP, src/server/tcp.ts) on a free loopback port; with a
// binlog directory when a case asks for one, so the persistence cases run in-process too.
import type { ReferenceModel } from '../model/api.js';
import type { Profile } from '../protocol/types.js';
import { faultIntercept, type FaultSpec } from '../server/faults.js';
import { startServer } from '../server/tcp.js';
import { LOOPBACK } from './address.js';
import { faultArg } from './spec.js';
import { binlogSession, TcpSession, type TargetFactory } from './sessions.js';

export interface EmbeddedServer {
  host: string;
  port: number;
  /** What SIGUSR1 does to beanstalkd: every later put answers DRAINING. */
  enterDrainMode(): void;
  stop(): Promise<void>;
}

export async function startEmbedded(opts: { profile?: Profile; maxJobSize?: number; binlogDir?: string } = {}): Promise<EmbeddedServer> {
  let model: ReferenceModel | undefined;
  const server = await startServer({
    host: LOOPBACK,
    port: 0,
    profile: opts.profile,
    maxJobSize: opts.maxJobSize,
    ...(opts.binlogDir !== undefined ? { binlog: { dir: opts.binlogDir } } : {}),
    // The interception seam is how we reach the model to enter drain mode in-process.
    intercept: { model: (m) => (model = m) },
  });
  return {
    host: server.host,
    port: server.port,
    enterDrainMode: () => model!.enterDrainMode(),
    stop: () => server.close(),
  };
}

/**
 * The embedded TCP server, a new one per session, in this process. With faults injected (the
 * suite's self-test) it runs without a binlog, so the persistence cases are skipped there.
 */
export function embeddedTarget(faults: readonly FaultSpec[] = []): TargetFactory {
  if (faults.length > 0) return faultyEmbeddedTarget(faults);
  return {
    label: 'embedded server',
    freshPerCase: true,
    canSignal: true,
    canConfigure: true,
    canPersist: true,
    open: async (settings) => {
      const drain = async (server: EmbeddedServer) => server.enterDrainMode();
      if (!settings.binlog) {
        const server = await startEmbedded(settings);
        return new TcpSession(server, { stop: () => server.stop(), drain: () => drain(server) });
      }
      // A restart closes this server and starts a new one on the same directory, as
      // `beanlab serve --binlog DIR` would be restarted.
      return binlogSession((binlogDir) => startEmbedded({ ...settings, binlogDir }), drain);
    },
  };
}

/** The embedded server with faults injected, a new one per session (as embeddedTarget). */
function faultyEmbeddedTarget(faults: readonly FaultSpec[]): TargetFactory {
  return {
    label: `embedded server with fault ${faults.map(faultArg).join(',')}`,
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
